import { Box, Text } from 'ink';
import { useToneColor } from '../theme.js';
import type { Overlay, Toast } from '../ui/uiState.js';
import { Line } from './Line.js';

const PROMPTS: Partial<Record<Overlay['kind'], string>> = { command: ':', filter: '/', search: '/' };

/** The line above the key hints: a text being typed, a (y/n) question, or the latest toast. */
export function StatusLine({ overlay, toast }: { overlay: Overlay | null; toast: Toast | null }) {
  const color = useToneColor();
  if (overlay?.kind === 'command' || overlay?.kind === 'filter' || overlay?.kind === 'search' || overlay?.kind === 'reply') {
    const prompt = overlay.kind === 'reply' ? `${overlay.label} › ` : PROMPTS[overlay.kind]!;
    // The end of a long line stays in view: that is where the person types.
    return (
      <Text wrap="truncate-start">
        <Text color={color('info')}>{prompt}</Text>
        {overlay.text}
        <Text inverse> </Text>
      </Text>
    );
  }
  if (overlay?.kind === 'confirm') return <Line text={overlay.question} tone="warn" bold />;
  if (!toast) return <Text> </Text>;
  if (!toast.keys) return <Line text={toast.text} tone={toast.tone} />;
  // The keys stay whole at any width; the message gives way.
  return (
    <Box>
      <Box flexShrink={1}>
        <Line text={toast.text} tone={toast.tone} />
      </Box>
      <Box flexShrink={0}>
        <Text color={color('info')}>{`  [${toast.keys}]`}</Text>
      </Box>
    </Box>
  );
}
