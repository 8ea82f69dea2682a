import { Box, Text } from 'ink';
import { bindingsFor, type View } from '../keymap.js';
import { useToneColor } from '../theme.js';

export function HelpOverlay({ view, width, height }: { view: View; width: number; height: number }) {
  const color = useToneColor();
  const bindings = bindingsFor(view);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold>{`Keys — ${view === 'ops' ? 'operations' : view} view (Esc closes)`}</Text>
      {bindings.slice(0, Math.max(0, height - 1)).map((b) => (
        <Text key={`${b.command}-${b.keys}`} wrap="truncate-end">
          <Text color={color('info')}>{b.keys.padEnd(10)}</Text>
          {b.description}
        </Text>
      ))}
    </Box>
  );
}
