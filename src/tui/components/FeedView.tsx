import { Box, Text } from 'ink';
import type { FeedEntry } from '../../core/state/model.js';
import { shortThreadId } from '../../core/util/text.js';
import type { TableColumn } from '../table.js';
import { useToneColor } from '../theme.js';
import type { FeedViewFilter, Tone } from '../viewModel.js';
import { visibleWindow } from '../window.js';
import { Table } from './Table.js';

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
        <Table columns={feedColumns(entries.slice(start, end), selected - start, needsInputNow, width)} width={width} />
      )}
    </Box>
  );
}

/** Time (highlighted when selected), a mark while it needs input, where it happened, what happened. */
function feedColumns(entries: FeedEntry[], selected: number, needsInputNow: (e: FeedEntry) => boolean, width: number): TableColumn[] {
  const source = Math.min(30, Math.floor(width / 4));
  return [
    { key: 'time', width: 8, cells: entries.map((e, i) => ({ text: new Date(e.atMs).toTimeString().slice(0, 8), tone: 'dim', inverse: i === selected })) },
    { key: 'mark', width: 1, cells: entries.map((e) => ({ text: needsInputNow(e) ? '!' : '', tone: 'warn', bold: true })) },
    { key: 'source', width: source, cells: entries.map((e) => ({ text: `${e.workspace}${e.threadId ? ` ${shortThreadId(e.threadId)}` : ''}`, tone: 'accent' })) },
    { key: 'text', width: Math.max(10, width - 12 - source), cells: entries.map((e) => ({ text: e.text, tone: KIND_TONES[e.kind] ?? 'plain' })) },
  ];
}
