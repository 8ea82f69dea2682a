import { isAscii } from 'node:buffer';

/**
 * Splits a byte stream into lines (the framing of newline-delimited JSON, and stderr).
 *
 * Chunks are kept as Buffers until a newline arrives, so a multi-megabyte line split over
 * many chunks is decoded once (no quadratic string concatenation) and a UTF-8 character
 * split across chunks is never corrupted. A line longer than `maxLineBytes` is dropped
 * (counted in `oversized`) instead of being buffered without bound.
 */
export class LineDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;

  constructor(private readonly maxLineBytes = 64 * 1024 * 1024) {}

  /** Bytes of the line not finished yet. */
  get partialBytes(): number {
    return this.pendingBytes;
  }

  /** Returns the complete lines in `chunk` (without `\n` or `\r\n`), skipping blank ones. */
  push(chunk: Buffer | string): { lines: string[]; oversized: number } {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const lines: string[] = [];
    let oversized = 0;
    let start = 0;
    const first = buf.indexOf(10);
    if (first !== -1) {
      // The first line may end what earlier chunks left pending.
      oversized += this.takeLine(buf, 0, first, lines);
      start = first + 1;
      const last = buf.lastIndexOf(10);
      if (last > first && last - start <= this.maxLineBytes) {
        // No line in between can be over the limit: decoded together instead of one Buffer view
        // and one decode per line (a newline byte never splits a UTF-8 character).
        decodeLines(buf, start, last, lines);
        start = last + 1;
      } else {
        for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
          oversized += this.takeLine(buf, start, nl, lines);
          start = nl + 1;
        }
      }
    }
    if (start < buf.length && !this.discarding) {
      const rest = buf.subarray(start);
      if (this.pendingBytes + rest.length > this.maxLineBytes) {
        oversized++;
        this.reset();
        this.discarding = true;
      } else {
        // Copy: the caller may reuse its chunk buffer.
        this.pending.push(Buffer.from(rest));
        this.pendingBytes += rest.length;
      }
    }
    return { lines, oversized };
  }

  /** The line in `buf[from, to)` after what is pending; 1 when it was over the limit and dropped. */
  private takeLine(buf: Buffer, from: number, to: number, lines: string[]): number {
    if (this.discarding) {
      this.discarding = false;
      return 0;
    }
    if (this.pendingBytes + (to - from) > this.maxLineBytes) {
      this.reset();
      return 1;
    }
    if (this.pending.length === 0) {
      addLine(buf.toString('utf8', from, to), lines);
    } else {
      addLine(Buffer.concat([...this.pending, buf.subarray(from, to)], this.pendingBytes + to - from).toString('utf8'), lines);
      this.reset();
    }
    return 0;
  }

  /** Whatever is left without a final newline (a peer that exits mid-line). */
  flush(): string | null {
    const text = this.pending.length === 0 ? null : Buffer.concat(this.pending).toString('utf8');
    this.reset();
    this.discarding = false;
    return text === null || text.trim() === '' ? null : text;
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/**
 * Adds the lines of `buf[from, to)`. A range that is all ASCII is checked once and each line
 * decoded as Latin-1 (a plain copy; cheaper than decoding the range and splitting it, whose
 * lines are slices of a 64 KiB string); a range with other bytes is halved at a newline until
 * each non-ASCII line is decoded on its own. Decoding UTF-8 that is not ASCII is several times
 * slower and makes a two-byte string, which JSON.parse also reads slower: one "é" would
 * otherwise make every line decoded with it two-byte.
 */
function decodeLines(buf: Buffer, from: number, to: number, lines: string[]): void {
  if (isAscii(buf.subarray(from, to))) {
    let start = from;
    for (let nl = buf.indexOf(10, start); nl !== -1 && nl < to; nl = buf.indexOf(10, start)) {
      addLine(buf.toString('latin1', start, nl), lines);
      start = nl + 1;
    }
    addLine(buf.toString('latin1', start, to), lines);
    return;
  }
  const middle = from + ((to - from) >> 1);
  let nl = buf.indexOf(10, middle);
  if (nl === -1 || nl >= to) nl = buf.lastIndexOf(10, middle);
  if (nl < from) {
    addLine(buf.toString('utf8', from, to), lines);
    return;
  }
  decodeLines(buf, from, nl, lines);
  decodeLines(buf, nl + 1, to, lines);
}

/** Adds the line without a trailing `\r`, unless it is blank. */
function addLine(line: string, lines: string[]): void {
  const text = line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
  // A line that starts with a visible ASCII character (a JSON line starts with `{`) is not blank.
  const code = text.charCodeAt(0);
  if ((code > 32 && code < 127) || (text.length > 0 && text.trim() !== '')) lines.push(text);
}

export function encodeJsonl(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}
