import { Box, Text } from 'ink';
import { useMemo } from 'react';
import { wrapDocument } from '../document.js';
import { opsTable, rowHeight, stripDocument } from '../opsLayout.js';
import { displayWidth, truncate } from '../table.js';
import { useToneColor } from '../theme.js';
import type { OpsRow } from '../viewModel.js';
import { visibleRows } from '../window.js';
import { DocumentLines } from './DocumentView.js';
import { Table } from './Table.js';

/** Lines of the detail strip: the selected row's texts wrapped, at least 4 so the table does not jump as the selection moves. */
const stripRows = (height: number, needed: number) => Math.min(Math.max(4, needed), Math.max(4, Math.floor(height * 0.4)));

export function OperationsView({ rows, selected, width, height }: { rows: OpsRow[]; selected: number; width: number; height: number }) {
  const color = useToneColor();
  const row = rows[selected];
  const strip = useMemo(() => (row ? wrapDocument(stripDocument(row), width) : []), [row, width]);
  if (rows.length === 0) {
    return (
      <Box flexDirection="column" height={height}>
        <Text color={color('dim')}>No workspaces. Add one with `cm-supervisor workspace add PATH`.</Text>
      </Box>
    );
  }
  const shown = stripRows(height, strip.length);
  // The heading, the rows, a rule naming the selected row, then its strip.
  const { start, end } = visibleRows(
    rows.map((r) => rowHeight(r, width)),
    selected,
    Math.max(1, height - shown - 2),
  );
  const table = opsTable(rows.slice(start, end), selected - start, width);
  // A strip longer than its lines ends in an ellipsis: Enter opens the whole thread.
  const lines = strip.length > shown ? [...strip.slice(0, shown - 1), { ...strip[shown - 1]!, text: `${truncate(strip[shown - 1]!.text, width - 2)} …` }] : strip;
  const rule = truncate(`── ${row ? row.name.replace(/^└ /, '') : ''} `, width);
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Table columns={table} width={width} />
      <Box flexGrow={1} />
      <Text color={color('dim')}>{rule + '─'.repeat(Math.max(0, width - displayWidth(rule)))}</Text>
      <Box height={shown} flexDirection="column">
        <DocumentLines lines={lines} width={width} />
      </Box>
    </Box>
  );
}
