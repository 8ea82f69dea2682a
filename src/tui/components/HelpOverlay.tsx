import { Box, Text } from 'ink';
import type { View } from '../keymap.js';
import { useToneColor } from '../theme.js';
import { helpLines, VIEW_NAMES } from '../ui/helpLines.js';

export function HelpOverlay({ view, scroll, width, height }: { view: View; scroll: number; width: number; height: number }) {
  const color = useToneColor();
  const lines = helpLines(view);
  const room = Math.max(1, height - 2);
  const start = Math.min(scroll, Math.max(0, lines.length - room));
  const more = lines.length > room ? ` — lines ${start + 1}–${Math.min(lines.length, start + room)} of ${lines.length}, j/k scroll` : '';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate-end">{`Keys — ${VIEW_NAMES[view]} view (Esc closes${more})`}</Text>
      {lines.slice(start, start + room).map((l, i) => (
        <Text key={i} wrap="truncate-end">
          <Text color={color('info')}>{l.keys.padEnd(16)}</Text>
          {l.description || ' '}
        </Text>
      ))}
    </Box>
  );
}
