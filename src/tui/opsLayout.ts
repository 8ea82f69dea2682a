import type { DocLine } from './document.js';
import type { CellPart, TableCell, TableColumn } from './table.js';
import { columnsFor, WIDE_LAYOUT, type Column, type OpsRow } from './viewModel.js';

/**
 * The operations view's table for a width: at WIDE_LAYOUT columns and more, one line per row
 * with a column per text; below, a thread takes two lines (its title and last activity, then
 * its task, next step and blockers), so the texts a person supervises are never dropped.
 */

const STATUS_WIDTH = 13;

/** Screen lines of a row: two for a thread below WIDE_LAYOUT, else one. */
export function rowHeight(row: OpsRow, width: number): number {
  return width < WIDE_LAYOUT && row.kind === 'thread' ? 2 : 1;
}

/** The table of `rows` (the visible ones) with its heading; `selected` is an index into `rows` or -1. */
export function opsTable(rows: readonly OpsRow[], selected: number, width: number): TableColumn[] {
  if (width >= WIDE_LAYOUT) {
    return columnsFor(width).map((c) => ({
      key: c.key,
      width: c.width,
      cells: [{ text: c.title, tone: 'dim', bold: true }, ...rows.map((row, i) => wideCell(row, c, i === selected))],
    }));
  }
  const main = Math.max(10, width - STATUS_WIDTH - 1);
  const status: TableCell[] = [{ text: 'STATUS', tone: 'dim', bold: true }];
  const text: TableCell[] = [{ text: 'WORKSPACE / THREAD · LAST ACTIVITY   ↳ TASK → NEXT STEP · BLOCKERS', tone: 'dim', bold: true }];
  rows.forEach((row, i) => {
    status.push({ text: `${row.status.glyph} ${row.status.word}`, tone: row.status.tone, inverse: i === selected });
    text.push(firstLine(row, main));
    if (row.kind === 'thread') {
      status.push({ text: '' });
      text.push(secondLine(row, main));
    }
  });
  return [
    { key: 'status', width: STATUS_WIDTH, cells: status },
    { key: 'text', width: main, cells: text },
  ];
}

function wideCell(row: OpsRow, column: Column, isSelected: boolean): TableCell {
  if (column.key === 'status') return { text: `${row.status.glyph} ${row.status.word}`, tone: row.status.tone, inverse: isSelected };
  if (column.key === 'blockers') return { text: row.blockers, tone: row.blockerTone };
  if (column.key === 'tokens') return { text: row.tokens, tone: 'dim' };
  if (row.kind === 'workspace' && column.key === 'name') return { text: row.name, tone: 'accent', bold: true };
  return { text: row[column.key] };
}

const GAP = { text: '  ' };

function firstLine(row: OpsRow, width: number): TableCell {
  if (row.kind === 'workspace') {
    // The workspace's name, its tokens and last 30 minutes, then its path.
    return { text: '', parts: [{ text: row.name, tone: 'accent', bold: true, max: Math.floor(width / 2) }, GAP, ...tokens(row), { text: row.last }, GAP, { text: row.task, tone: 'dim' }] };
  }
  if (row.kind === 'host') return { text: '', parts: [{ text: row.name, max: Math.floor(width / 3) }, GAP, { text: row.last }, GAP, { text: row.task, tone: 'dim' }] };
  if (row.kind === 'plan') return { text: '', parts: [{ text: row.name, bold: true, max: Math.floor(width / 3) }, GAP, { text: row.task }, GAP, { text: row.next, tone: 'dim' }] };
  if (row.kind === 'action') return { text: '', parts: [{ text: row.name, max: Math.floor(width * 0.35) }, GAP, ...tokens(row), { text: row.next || row.last }, ...(row.blockers ? [GAP, { text: row.blockers, tone: row.blockerTone }] : [])] };
  return { text: '', parts: [{ text: row.name, max: Math.floor(width * 0.45) }, GAP, ...tokens(row), { text: row.last }] };
}

function tokens(row: OpsRow): CellPart[] {
  return row.tokens ? [{ text: row.tokens, tone: 'dim' }, { text: ' ' }] : [];
}

/** The blockers none of `texts` already says: "approval: `npm test`" is said by "waiting for your approval: `npm test`". */
function unsaid(row: OpsRow, texts: string[]): string {
  return row.blockerList.filter((b) => !texts.some((t) => t.includes(b.replace(/^[a-z ]+: /, '')))).join('; ');
}

function secondLine(row: OpsRow, width: number): TableCell {
  // The task is left out where it only repeats the title (a thread is named after its first request).
  const title = row.name.replace(/^└ /, '').replace(/…$/, '');
  const task = row.task && !row.task.startsWith(title) ? [{ text: row.task, tone: 'dim' as const, max: Math.floor(width * 0.3) }, { text: ' → ', tone: 'dim' as const }] : [{ text: '→ ', tone: 'dim' as const }];
  const rest = unsaid(row, [row.next]);
  const blockers = rest ? [GAP, { text: rest, tone: row.blockerTone }] : [];
  return { text: '', parts: [{ text: '  ' }, ...task, { text: row.next, tone: 'dim', max: rest ? Math.floor(width * 0.45) : width }, ...blockers] };
}

/** The detail strip under the table: the selected row's texts in full, each said once, wrapped by DocumentView's rules. */
export function stripDocument(row: OpsRow): DocLine[] {
  const line = (label: string, text: string, tone: DocLine['tone'] = 'plain'): DocLine[] => (text ? [{ text: `${label.padEnd(5)} ${text}`, tone, hang: 6 }] : []);
  if (row.kind === 'host') return [...line('host', `${row.name.replace(/^▣ /, '')} · ${row.task}`), ...line('state', row.last), ...line('next', row.next), ...line('error', row.blockers, row.blockerTone)];
  if (row.kind === 'workspace') return [...line('path', row.task), ...line('used', [row.tokens, row.last.trim()].filter(Boolean).join(' ')), ...line('next', row.next)];
  if (row.kind === 'plan') return [...line('plan', row.task), ...line('when', row.last), ...line('next', row.next), ...line('error', row.blockers, row.blockerTone)];
  if (row.kind === 'action') {
    return [
      ...line('task', row.task),
      ...line('next', row.next),
      ...(row.details ?? []).flatMap((d) => line(d.label, d.text, d.tone)),
      ...line('error', row.blockers, row.blockerTone),
    ];
  }
  return [
    ...line('task', row.task || '-'),
    ...line('last', row.last, row.status.word === 'failed' ? 'error' : 'plain'),
    ...line('next', row.next),
    // A failure's reason is the last activity already; an approval's command, the next step.
    ...line('block', unsaid(row, [row.next, row.last]), row.blockerTone),
  ];
}
