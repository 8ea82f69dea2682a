import { Box, Text } from 'ink';
import { stripControl } from '../../core/util/text.js';
import { useToneColor } from '../theme.js';
import type { Tone } from '../viewModel.js';

/** One fixed-width cell: agent text is stripped of terminal controls and never wraps. */
export function Cell({ width, text, tone = 'plain', bold = false, inverse = false }: { width: number; text: string; tone?: Tone; bold?: boolean; inverse?: boolean }) {
  const color = useToneColor();
  return (
    <Box width={width} flexShrink={0} marginRight={1}>
      <Text color={color(tone)} bold={bold} inverse={inverse} wrap="truncate-end">
        {stripControl(text).replace(/\s+/g, ' ')}
      </Text>
    </Box>
  );
}

/** A whole line of text, cut at the width. */
export function Line({ text, tone = 'plain', bold = false, inverse = false }: { text: string; tone?: Tone; bold?: boolean; inverse?: boolean }) {
  const color = useToneColor();
  return (
    <Text color={color(tone)} bold={bold} inverse={inverse} wrap="truncate-end">
      {stripControl(text).replace(/[\r\n\t]+/g, ' ') || ' '}
    </Text>
  );
}
