import stringWidth from 'string-width';
import { stripControl } from '../core/util/text.js';
import type { Tone } from './viewModel.js';

/**
 * Tables as text, cut here rather than by Ink (components/Table.tsx draws them). Widths are
 * measured with string-width, as Ink measures them, so a cell never spills into the next
 * column and a row never wraps.
 */

export interface TableCell {
  text: string;
  tone?: Tone;
  bold?: boolean;
  inverse?: boolean;
  /**
   * A cell of several styles (a title, then its last activity): drawn in place of `text`, one
   * after the other, each cut to its `max` columns and to what is left of the cell.
   */
  parts?: CellPart[];
}

export interface CellPart {
  text: string;
  tone?: Tone;
  bold?: boolean;
  inverse?: boolean;
  /** At most this many columns, so one part leaves room for the next. */
  max?: number;
}

/** One column: its width and a cell per row, top to bottom. */
export interface TableColumn {
  key: string;
  width: number;
  cells: TableCell[];
}

/** A column cut to the line: each cell's `text` fits in `width`. */
export interface FittedColumn {
  key: string;
  width: number;
  cells: TableCell[];
}

const PRINTABLE_ASCII = /^[\u0020-\u007e]*$/;
const graphemes = new Intl.Segmenter();

export const displayWidth = (text: string): number => (PRINTABLE_ASCII.test(text) ? text.length : stringWidth(text));

/** Agent text on one line: terminal controls stripped, every whitespace run one space. */
export function cellText(text: string): string {
  return stripControl(text).replace(/\s+/g, ' ');
}

/** At most `width` columns; cut text ends in `…` (as Ink's truncate-end), never inside a character. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (PRINTABLE_ASCII.test(text)) return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
  // Character by character, stopping past the width: agent text may be far longer than a cell.
  let cut = 0; // where the text that leaves room for the ellipsis ends
  let used = 0;
  for (const { segment, index } of graphemes.segment(text)) {
    used += displayWidth(segment);
    if (used > width) return `${text.slice(0, cut)}…`;
    if (used <= width - 1) cut = index + segment.length;
  }
  return text;
}

const fitted = new Map<string, string>();
const FIT_CACHE_SIZE = 10_000;

/**
 * A cell's text cut to `width`. Remembered: a screen of cells is fitted on every frame and few
 * change between frames, while measuring text that is not ASCII is slow.
 */
function fitText(raw: string, width: number): string {
  const key = `${width}:${raw}`;
  let text = fitted.get(key);
  if (text === undefined) {
    text = truncate(cellText(raw), width);
    // Relative times make new texts every second: start over rather than grow without bound.
    if (fitted.size >= FIT_CACHE_SIZE) fitted.clear();
    fitted.set(key, text);
  }
  return text;
}

const BLANK = /^ *$/;

/** A cell cut to `width`: its parts in order, each cut to its own limit and to what is left. */
function fitCell(cell: TableCell, width: number): TableCell {
  if (!cell.parts) return { ...cell, text: fitText(cell.text, width) };
  const parts: CellPart[] = [];
  let left = width;
  for (const part of cell.parts) {
    if (left <= 0) break;
    // Spaces between parts are layout, kept as they are; any other text is the agent's.
    const text = BLANK.test(part.text) ? part.text.slice(0, left) : fitText(part.text, Math.min(left, part.max ?? left));
    if (!text) continue;
    parts.push({ ...part, text });
    left -= displayWidth(text);
  }
  return { ...cell, text: parts.map((p) => p.text).join(''), parts };
}

/**
 * The columns that fit in `lineWidth`, one column apart: the first that does not fit whole is
 * narrowed to what is left, the rest are dropped, so nothing wraps.
 */
export function fitTable(columns: TableColumn[], lineWidth: number): FittedColumn[] {
  const table: FittedColumn[] = [];
  let x = 0;
  for (const column of columns) {
    const width = Math.min(column.width, lineWidth - x);
    if (width <= 0) break;
    table.push({ key: column.key, width, cells: column.cells.map((cell) => fitCell(cell, width)) });
    x += width + 1;
  }
  return table;
}

/** Whether two fitted columns draw the same: same width and, row by row, the same text and style. */
export function sameColumn(a: FittedColumn, b: FittedColumn): boolean {
  if (a === b) return true;
  if (a.width !== b.width || a.cells.length !== b.cells.length) return false;
  for (let i = 0; i < a.cells.length; i++) {
    const x = a.cells[i]!;
    const y = b.cells[i]!;
    if (x.text !== y.text || x.tone !== y.tone || !x.bold !== !y.bold || !x.inverse !== !y.inverse || !sameParts(x.parts, y.parts)) return false;
  }
  return true;
}

function sameParts(a: CellPart[] | undefined, b: CellPart[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => x.text === b[i]!.text && x.tone === b[i]!.tone && !x.bold === !b[i]!.bold && !x.inverse === !b[i]!.inverse);
}
