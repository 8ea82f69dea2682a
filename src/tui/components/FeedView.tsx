import { Box, Text } from 'ink';
import { memo } from 'react';
import type { FeedEntry } from '../../core/state/model.js';
import { useToneColor } from '../theme.js';
import type { FeedViewFilter, Tone } from '../viewModel.js';
import { visibleWindow } from '../window.js';
import { Cell } from './Cell.js';

const KIND_TONES: Partial<Record<FeedEntry['kind'], Tone>> = {
  turn_failed: 'error',
  turn_interrupted: 'error',
  error: 'error',
  connection: 'warn',
  stalled: 'warn',
  approval: 'warn',
  question: 'warn',
  turn_completed: 'ok',
  warning: 'dim',
};

export function FeedView({
  entries,
  selected,
  filter,
  needsInputNow,
  width,
  height,
}: {
  entries: FeedEntry[];
  selected: number;
  filter: FeedViewFilter;
  needsInputNow: (e: FeedEntry) => boolean;
  width: number;
  height: number;
}) {
  const color = useToneColor();
  const active = [filter.needsInput && 'needs my input', filter.faults && 'faults only', filter.text && `"${filter.text}"`].filter(Boolean).join(', ');
  const { start, end } = visibleWindow(entries.length, selected, Math.max(0, height - 1));
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text color={color('dim')} wrap="truncate-end">
        {`activity feed, newest first${active ? ` — filter: ${active}` : ''}  (i needs input, f faults, / text)`}
      </Text>
      {entries.length === 0 ? (
        <Text color={color('dim')}>{filter.needsInput ? 'Nothing needs your input.' : 'No activity yet.'}</Text>
      ) : (
        entries.slice(start, end).map((e, i) => <FeedLine key={e.seq} entry={e} waiting={needsInputNow(e)} isSelected={start + i === selected} width={width} />)
      )}
    </Box>
  );
}

/** One entry. Entries are immutable records, so an unchanged row skips rendering on the next snapshot. */
const FeedLine = memo(function FeedLine({ entry: e, waiting, isSelected, width }: { entry: FeedEntry; waiting: boolean; isSelected: boolean; width: number }) {
  return (
    <Box height={1}>
      <Cell width={8} text={new Date(e.atMs).toTimeString().slice(0, 8)} tone="dim" inverse={isSelected} />
      <Cell width={1} text={waiting ? '!' : ' '} tone="warn" bold />
      <Cell width={Math.min(30, Math.floor(width / 4))} text={`${e.workspace}${e.threadId ? ` ${e.threadId.slice(-6)}` : ''}`} tone="accent" />
      <Cell width={Math.max(10, width - 12 - Math.min(30, Math.floor(width / 4)))} text={e.text} tone={KIND_TONES[e.kind] ?? 'plain'} />
    </Box>
  );
});
