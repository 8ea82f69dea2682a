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

  /** Returns the complete lines in `chunk` (without `\n` or `\r\n`), skipping blank ones. */
  push(chunk: Buffer | string): { lines: string[]; oversized: number } {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const lines: string[] = [];
    let oversized = 0;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      const piece = buf.subarray(start, nl);
      start = nl + 1;
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      if (this.pendingBytes + piece.length > this.maxLineBytes) {
        oversized++;
        this.reset();
        continue;
      }
      const line =
        this.pending.length === 0
          ? piece.toString('utf8')
          : Buffer.concat([...this.pending, piece], this.pendingBytes + piece.length).toString('utf8');
      this.reset();
      const text = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (text.trim() !== '') lines.push(text);
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

export function encodeJsonl(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}
