import { Box, Text, useIsScreenReaderEnabled } from 'ink';
import { useMemo } from 'react';
import { clampScroll, DOCUMENT_FOOTER, findMatches, matchIndexOf, wrapDocument, type DocLine, type Match, type WrappedLine } from '../document.js';
import type { CellPart, TableCell } from '../table.js';
import { useToneColor } from '../theme.js';
import { Column } from './Table.js';

export interface DocumentViewProps {
  lines: readonly DocLine[];
  width: number;
  /** Lines on screen, the footer included. */
  height: number;
  /** The first line shown (document.ts's BOTTOM pins the end); clamped to the document. */
  scroll: number;
  /** Text to highlight; the current match (`matchIndex`) stands out. */
  search?: string;
  matchIndex?: number;
}

/** A wrapped document's visible lines and a footer saying where they are and which match is current. */
export function DocumentView({ lines, width, height, scroll, search = '', matchIndex = 0 }: DocumentViewProps) {
  const color = useToneColor();
  const wrapped = useMemo(() => wrapDocument(lines, width), [lines, width]);
  const matches = useMemo(() => findMatches(wrapped, search), [wrapped, search]);
  const rows = Math.max(1, height - DOCUMENT_FOOTER);
  const start = clampScroll(scroll, wrapped.length, rows);
  const end = Math.min(wrapped.length, start + rows);
  const current = matchIndexOf(matchIndex, matches.length);
  const where = wrapped.length === 0 ? 'empty' : `lines ${start + 1}–${end} of ${wrapped.length}`;
  const found = search ? ` · /${search} ${matches.length === 0 ? 'not found' : `${current + 1} of ${matches.length}`}` : '';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box height={rows} flexDirection="column">
        <DocumentLines lines={wrapped.slice(start, end)} width={width} matches={matches} current={matches[current] ?? null} firstLine={start} />
      </Box>
      <Text color={color('dim')} wrap="truncate-end">
        {where + found}
      </Text>
    </Box>
  );
}

/**
 * Lines already wrapped to `width`, drawn as one text node (Table's Column), matches in inverse.
 * `firstLine` is the document line of `lines[0]`, which the matches count from.
 */
export function DocumentLines({ lines, width, matches = [], current = null, firstLine = 0 }: { lines: readonly WrappedLine[]; width: number; matches?: readonly Match[]; current?: Match | null; firstLine?: number }) {
  const screenReader = useIsScreenReaderEnabled();
  if (screenReader) {
    return (
      <Box flexDirection="column">
        {lines.map((line, i) => (
          <Text key={i}>{line.text || ' '}</Text>
        ))}
      </Box>
    );
  }
  const cells = lines.map((line, i) => cellOf(line, matches, current, firstLine + i));
  return <Column column={{ key: 'document', width, cells }} />;
}

function cellOf(line: WrappedLine, matches: readonly Match[], current: Match | null, at: number): TableCell {
  const style = { ...(line.tone ? { tone: line.tone } : {}), ...(line.bold ? { bold: true } : {}) };
  const here = matches.filter((m) => m.line === at);
  if (here.length === 0) return { text: line.text, ...style };
  const parts: CellPart[] = [];
  let from = 0;
  for (const m of here) {
    if (m.start > from) parts.push({ text: line.text.slice(from, m.start), ...style });
    parts.push({ text: line.text.slice(m.start, m.end), ...style, inverse: true, ...(m === current ? { tone: 'accent' as const, bold: true } : {}) });
    from = m.end;
  }
  if (from < line.text.length) parts.push({ text: line.text.slice(from), ...style });
  return { text: line.text, parts };
}
