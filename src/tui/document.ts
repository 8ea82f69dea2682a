import { stripControl } from '../core/util/text.js';
import { displayWidth } from './table.js';
import type { Tone } from './viewModel.js';

/**
 * Documents the person reads and scrolls (a thread's detail, its transcript, a diff): styled
 * lines wrapped to the terminal's width, a scroll offset, and literal search. Pure, so the UI's
 * reducer can hold the scroll and the search and the views only draw.
 */

export interface DocLine {
  /** May hold newlines (an agent's reply): each becomes a line of its own, indented by `hang`. */
  text: string;
  tone?: Tone;
  bold?: boolean;
  /** Columns that lines after the first are indented by, so a label's text stays in its column. */
  hang?: number;
}

/** A line of the wrapped document: fits the width it was wrapped to. */
export interface WrappedLine {
  text: string;
  tone?: Tone;
  bold?: boolean;
}

/** Pins the scroll to the end of the document: the newest lines show, whatever its length. */
export const BOTTOM = Number.POSITIVE_INFINITY;
/** The footer line DocumentView draws under the text. */
export const DOCUMENT_FOOTER = 1;

const graphemes = new Intl.Segmenter();
const TAB = '    ';

/** A text broken into lines of at most `width` columns, at spaces where it can and inside a word longer than the line. */
export function wrapText(text: string, width: number, hang = 0): string[] {
  const room = Math.max(1, width);
  const indent = ' '.repeat(Math.min(Math.max(0, hang), Math.floor(room / 2)));
  const lines: string[] = [];
  let line = '';
  let used = 0;
  let fresh = true; // nothing but the indent on this line yet
  const breakLine = () => {
    lines.push(line.trimEnd());
    line = indent;
    used = indent.length;
    fresh = true;
  };
  for (const token of text.match(/ +|[^ ]+/g) ?? []) {
    const w = displayWidth(token);
    if (token.startsWith(' ')) {
      // Spaces where the line breaks are dropped; elsewhere kept (a diff's indentation).
      if (used + w <= room && !(fresh && lines.length > 0)) {
        line += token;
        used += w;
      } else if (!fresh) breakLine();
      continue;
    }
    if (used + w > room && !fresh && indent.length + w <= room) breakLine();
    if (used + w <= room) {
      line += token;
      used += w;
      fresh = false;
      continue;
    }
    // A word longer than the line: cut between characters.
    for (const { segment } of graphemes.segment(token)) {
      const g = displayWidth(segment);
      if (used + g > room && !fresh) breakLine();
      line += segment;
      used += g;
      fresh = false;
    }
  }
  lines.push(line.trimEnd());
  return lines;
}

/** The document as lines of at most `width` columns; agent text has its terminal controls stripped. */
export function wrapDocument(lines: readonly DocLine[], width: number): WrappedLine[] {
  const out: WrappedLine[] = [];
  for (const line of lines) {
    const hang = line.hang ?? 0;
    const style = { ...(line.tone ? { tone: line.tone } : {}), ...(line.bold ? { bold: true } : {}) };
    const paragraphs = stripControl(line.text).replace(/\r\n?/g, '\n').replace(/\t/g, TAB).split('\n');
    paragraphs.forEach((paragraph, i) => {
      const text = i === 0 ? paragraph : ' '.repeat(hang) + paragraph;
      for (const piece of wrapText(text, width, hang)) out.push({ text: piece, ...style });
    });
  }
  return out;
}

/** The first line to show: the document's last page at most, 0 at least. */
export function clampScroll(scroll: number, total: number, rows: number): number {
  const last = Math.max(0, total - Math.max(1, rows));
  return Number.isNaN(scroll) ? 0 : Math.min(Math.max(0, scroll), last);
}

export type ScrollMove = 'lineUp' | 'lineDown' | 'pageUp' | 'pageDown' | 'top' | 'bottom';

/** The scroll after a key (`j`/`k`, PgUp/PgDn, `g`/`G`), for `rows` lines on screen. */
export function scrollBy(move: ScrollMove, scroll: number, total: number, rows: number): number {
  const at = clampScroll(scroll, total, rows);
  // A page keeps one line of the one before, so the eye finds its place.
  const page = Math.max(1, rows - 1);
  switch (move) {
    case 'lineUp':
      return clampScroll(at - 1, total, rows);
    case 'lineDown':
      return clampScroll(at + 1, total, rows);
    case 'pageUp':
      return clampScroll(at - page, total, rows);
    case 'pageDown':
      return clampScroll(at + page, total, rows);
    case 'top':
      return 0;
    case 'bottom':
      return clampScroll(BOTTOM, total, rows);
  }
}

export interface Match {
  line: number;
  /** String offsets in the wrapped line's text. */
  start: number;
  end: number;
}

/** Where `query` occurs, line by line, ignoring case; the query is text, not a pattern. A match across a wrap is not found. */
export function findMatches(lines: readonly { text: string }[], query: string): Match[] {
  const needle = query.toLowerCase();
  if (!needle) return [];
  const matches: Match[] = [];
  lines.forEach((line, i) => {
    const hay = line.text.toLowerCase();
    for (let at = hay.indexOf(needle); at !== -1; at = hay.indexOf(needle, at + needle.length)) {
      matches.push({ line: i, start: at, end: at + needle.length });
    }
  });
  return matches;
}

/** A match index wrapped around the matches (`n` past the last goes to the first). */
export function matchIndexOf(index: number, count: number): number {
  return count === 0 ? 0 : ((index % count) + count) % count;
}

/** The scroll that shows the match: unchanged if it is on screen, else the match a third of the way down. */
export function scrollToMatch(match: Match, scroll: number, total: number, rows: number): number {
  const at = clampScroll(scroll, total, rows);
  if (match.line >= at && match.line < at + rows) return at;
  return clampScroll(match.line - Math.floor(rows / 3), total, rows);
}
