import { Box, Text, Transform, useIsScreenReaderEnabled } from 'ink';
import { memo, useContext } from 'react';
import { fitTable, sameColumn, type FittedColumn, type TableColumn } from '../table.js';
import { ColorContext, paint } from '../theme.js';

/**
 * A table drawn column by column, each column one text node whatever the number of rows. Ink's
 * cost per frame grows with nodes and with distinct lines (it tokenizes each line it writes,
 * reusing lines already seen in the frame), so this is far cheaper than a box per cell, and
 * cells that repeat down a column (a status, a next step) cost once.
 */
export function Table({ columns, width }: { columns: TableColumn[]; width: number }) {
  const screenReader = useIsScreenReaderEnabled();
  const fitted = fitTable(columns, width);
  const rows = Math.max(0, ...fitted.map((c) => c.cells.length));
  if (screenReader) {
    // Read row by row, as a person reads the table.
    return (
      <Box flexDirection="column">
        {Array.from({ length: rows }, (_, i) => (
          <Text key={i}>{fitted.map((c) => c.cells[i]?.text ?? '').filter(Boolean).join(' ')}</Text>
        ))}
      </Box>
    );
  }
  return (
    <Box height={rows} width={width} columnGap={1}>
      {fitted.map((c) => (
        <Column key={c.key} column={c} />
      ))}
    </Box>
  );
}

/**
 * Ink lays out a blank block of the column's size, and the transform draws each row's real,
 * styled text into it as Ink writes the block line by line. Ink never sees the cells' text: it
 * measures every text node on every frame, slowly for anything but ASCII, and keeps each
 * distinct text it measured for good. A column whose cells did not change is not rendered again
 * (most columns in most frames: a state change touches a row or two); Ink still writes it.
 */
export const Column = memo(function Column({ column }: { column: FittedColumn }) {
  const color = useContext(ColorContext);
  const lines = column.cells.map((c) => (c.parts ? c.parts.map((p) => paint(p.text, { ...p, inverse: p.inverse || c.inverse }, color)).join('') : paint(c.text, c, color)));
  const blank = ' '.repeat(column.width);
  return (
    <Box width={column.width} flexShrink={0}>
      <Transform transform={(line, i) => lines[i] ?? line}>{lines.map(() => blank).join('\n')}</Transform>
    </Box>
  );
}, (a, b) => sameColumn(a.column, b.column));
