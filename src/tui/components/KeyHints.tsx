import { Text } from 'ink';
import { hintsFor, type KeyContext, type View } from '../keymap.js';
import { useToneColor } from '../theme.js';

/** The keys of this view that apply to what is selected, from the key table. */
export function KeyHints({ view, context }: { view: View; context: KeyContext }) {
  const color = useToneColor();
  return (
    <Text color={color('dim')} wrap="truncate-end">
      {hintsFor(view, context).join(' · ')}
    </Text>
  );
}
