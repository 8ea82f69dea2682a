import { Box, Text } from 'ink';
import { useToneColor } from '../theme.js';
import { columnsFor, type OpsRow } from '../viewModel.js';
import { visibleWindow } from '../window.js';
import { Cell } from './Cell.js';

export function OperationsView({ rows, selected, width, height }: { rows: OpsRow[]; selected: number; width: number; height: number }) {
  const color = useToneColor();
  const columns = columnsFor(width);
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
      {rows.slice(start, end).map((row, i) => {
        const isSelected = start + i === selected;
        return (
          <Box key={row.key} height={1}>
            {columns.map((c) => {
              if (c.key === 'status') return <Cell key={c.key} width={c.width} text={`${row.status.glyph} ${row.status.word}`} tone={row.status.tone} inverse={isSelected} />;
              const text = row[c.key];
              const tone = c.key === 'blockers' ? row.blockerTone : row.kind === 'workspace' && c.key === 'name' ? 'accent' : 'plain';
              return <Cell key={c.key} width={c.width} text={text} tone={tone} bold={row.kind === 'workspace' && c.key === 'name'} />;
            })}
          </Box>
        );
      })}
    </Box>
  );
}
