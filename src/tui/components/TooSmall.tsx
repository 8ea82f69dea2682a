import { Box, Text } from 'ink';
import { wrapDocument } from '../document.js';
import { useToneColor } from '../theme.js';

/** Drawn instead of the screen when the terminal is below the minimum (terminalSize.ts): what is wrong and what to do. */
export function TooSmall({ message, width, height }: { message: string; width: number; height: number }) {
  const color = useToneColor();
  const lines = wrapDocument([{ text: message }], Math.max(1, width))
    .map((l) => l.text)
    .slice(0, Math.max(1, height));
  return (
    <Box flexDirection="column" width={width} height={height}>
      {lines.map((line, i) => (
        <Text key={i} color={color('warn')}>
          {line || ' '}
        </Text>
      ))}
    </Box>
  );
}
