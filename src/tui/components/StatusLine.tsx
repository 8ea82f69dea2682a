import { Box, Text } from 'ink';
import { useToneColor } from '../theme.js';
import type { Overlay, Toast } from '../ui/uiState.js';
import type { Tone } from '../viewModel.js';
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
  if (overlay?.kind === 'confirm') return <WithKeys text={overlay.question} tone="warn" keys=" (y/n)" bold />;
  if (!toast) return <Text> </Text>;
  if (!toast.keys) return <Line text={toast.text} tone={toast.tone} />;
  return <WithKeys text={toast.text} tone={toast.tone} keys={`  [${toast.keys}]`} />;
}

/** A line and the keys that answer it: the keys stay whole at any width, the text gives way. */
function WithKeys({ text, tone, keys, bold = false }: { text: string; tone: Tone; keys: string; bold?: boolean }) {
  const color = useToneColor();
  return (
    <Box>
      <Box flexShrink={1}>
        <Line text={text} tone={tone} bold={bold} />
      </Box>
      <Box flexShrink={0}>
        <Text color={color(bold ? tone : 'info')} bold={bold}>
          {keys}
        </Text>
      </Box>
    </Box>
  );
}
