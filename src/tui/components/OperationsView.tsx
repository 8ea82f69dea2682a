import { Box, Text } from 'ink';
import { memo, useMemo } from 'react';
import { useToneColor } from '../theme.js';
import { columnsFor, type Column, type OpsRow } from '../viewModel.js';
import { visibleWindow } from '../window.js';
import { Cell } from './Cell.js';

export function OperationsView({ rows, selected, width, height }: { rows: OpsRow[]; selected: number; width: number; height: number }) {
  const color = useToneColor();
  const columns = useMemo(() => columnsFor(width), [width]);
  const { start, end } = visibleWindow(rows.length, selected, Math.max(0, height - 1));
  if (rows.length === 0) {
    return (
      <Box flexDirection="column" height={height}>
        <Text color={color('dim')}>No workspaces. Add one with `cm-supervisor workspace add PATH`.</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Box height={1}>
        {columns.map((c) => (
          <Cell key={c.key} width={c.width} text={c.title} tone="dim" bold />
        ))}
      </Box>
      {rows.slice(start, end).map((row, i) => (
        <OpsLine key={row.key} row={row} columns={columns} isSelected={start + i === selected} />
      ))}
    </Box>
  );
}

/**
 * One row. Rows are rebuilt from every snapshot (up to 20 a second), so a row whose content
 * did not change skips rendering: compared field by field, not by identity.
 */
const OpsLine = memo(
  function OpsLine({ row, columns, isSelected }: { row: OpsRow; columns: Column[]; isSelected: boolean }) {
    return (
      <Box height={1}>
        {columns.map((c) => {
          if (c.key === 'status') return <Cell key={c.key} width={c.width} text={`${row.status.glyph} ${row.status.word}`} tone={row.status.tone} inverse={isSelected} />;
          const text = row[c.key];
          const tone = c.key === 'blockers' ? row.blockerTone : row.kind === 'workspace' && c.key === 'name' ? 'accent' : 'plain';
          return <Cell key={c.key} width={c.width} text={text} tone={tone} bold={row.kind === 'workspace' && c.key === 'name'} />;
        })}
      </Box>
    );
  },
  (a, b) => a.isSelected === b.isSelected && a.columns === b.columns && sameRow(a.row, b.row),
);

function sameRow(a: OpsRow, b: OpsRow): boolean {
  return (
    a === b ||
    (a.key === b.key &&
      a.kind === b.kind &&
      a.name === b.name &&
      a.task === b.task &&
      a.last === b.last &&
      a.next === b.next &&
      a.blockers === b.blockers &&
      a.blockerTone === b.blockerTone &&
      a.status.glyph === b.status.glyph &&
      a.status.word === b.status.word &&
      a.status.tone === b.status.tone)
  );
}
