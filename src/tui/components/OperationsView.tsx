import { Box, Text } from 'ink';
import { useMemo } from 'react';
import type { TableCell, TableColumn } from '../table.js';
import { useToneColor } from '../theme.js';
import { columnsFor, type Column, type OpsRow } from '../viewModel.js';
import { visibleWindow } from '../window.js';
import { Table } from './Table.js';

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
  const shown = rows.slice(start, end);
  const table: TableColumn[] = columns.map((c) => ({
    key: c.key,
    width: c.width,
    cells: [{ text: c.title, tone: 'dim', bold: true }, ...shown.map((row, i) => cellOf(row, c, start + i === selected))],
  }));
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Table columns={table} width={width} />
    </Box>
  );
}

function cellOf(row: OpsRow, column: Column, isSelected: boolean): TableCell {
  if (column.key === 'status') return { text: `${row.status.glyph} ${row.status.word}`, tone: row.status.tone, inverse: isSelected };
  if (column.key === 'blockers') return { text: row.blockers, tone: row.blockerTone };
  if (row.kind === 'workspace' && column.key === 'name') return { text: row.name, tone: 'accent', bold: true };
  return { text: row[column.key] };
}
