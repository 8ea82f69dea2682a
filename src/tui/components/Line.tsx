import { Text } from 'ink';
import { stripControl } from '../../core/util/text.js';
import { useToneColor } from '../theme.js';
import type { Tone } from '../viewModel.js';

/** A whole line of text, cut at the width. */
export function Line({ text, tone = 'plain', bold = false, inverse = false }: { text: string; tone?: Tone; bold?: boolean; inverse?: boolean }) {
  const color = useToneColor();
  return (
    <Text color={color(tone)} bold={bold} inverse={inverse} wrap="truncate-end">
      {stripControl(text).replace(/[\r\n\t]+/g, ' ') || ' '}
    </Text>
  );
}
