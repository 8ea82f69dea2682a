import { describe, expect, it } from 'vitest';
import { LineDecoder } from '../../src/core/protocol/lineDecoder.js';

describe('LineDecoder', () => {
  it('joins partial chunks and splits many lines per chunk', () => {
    const d = new LineDecoder();
    expect(d.push('{"a":').lines).toEqual([]);
    expect(d.push('1}\n{"b":2}\n{"c"').lines).toEqual(['{"a":1}', '{"b":2}']);
    expect(d.push(':3}\n').lines).toEqual(['{"c":3}']);
  });

  it('strips CRLF and skips blank lines', () => {
    const d = new LineDecoder();
    expect(d.push('{"a":1}\r\n\r\n\n{"b":2}\r\n').lines).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('keeps a UTF-8 character split across chunks intact', () => {
    const d = new LineDecoder();
    const bytes = Buffer.from('{"t":"héllo ✓"}\n', 'utf8');
    const cut = bytes.indexOf(0xe2) + 1; // inside the 3-byte check mark
    expect(d.push(bytes.subarray(0, cut)).lines).toEqual([]);
    expect(d.push(bytes.subarray(cut)).lines).toEqual(['{"t":"héllo ✓"}']);
  });

  it('reassembles a multi-megabyte line from small chunks', () => {
    const d = new LineDecoder();
    const line = JSON.stringify({ text: 'y'.repeat(5 * 1024 * 1024) });
    const bytes = Buffer.from(`${line}\n`);
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i += 65536) out.push(...d.push(bytes.subarray(i, i + 65536)).lines);
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(line);
  });

  it('drops a line over the limit, counts it, and resumes at the next line', () => {
    const d = new LineDecoder(10);
    const first = d.push('0123456789ABCDEF');
    expect(first.oversized).toBe(1);
    expect(d.push('GHIJ\n{"ok":1}\n')).toEqual({ lines: ['{"ok":1}'], oversized: 0 });
  });

  it('drops an over-limit line between two good ones in the same chunk', () => {
    const d = new LineDecoder(10);
    expect(d.push('{"a":1}\n0123456789ABCDEF\n{"b":2}\n')).toEqual({ lines: ['{"a":1}', '{"b":2}'], oversized: 1 });
  });

  it('decodes many lines of one chunk, with multi-byte characters and whitespace-only lines', () => {
    const d = new LineDecoder();
    const chunk = Buffer.from('{"a":"é"}\n{"b":"✓"}\r\n \t\n\u00a0\n{"c":"日本"}\n{"d"', 'utf8');
    expect(d.push(chunk)).toEqual({ lines: ['{"a":"é"}', '{"b":"✓"}', '{"c":"日本"}'], oversized: 0 });
    expect(d.push(':4}\n').lines).toEqual(['{"d":4}']);
  });

  it('decodes a chunk of mostly ASCII lines with a few multi-byte ones scattered through it', () => {
    const expected = Array.from({ length: 300 }, (_, i) => JSON.stringify({ i, text: i % 37 === 5 ? `naïve ✓ 日本 ${i}` : `plain ${i}` }));
    const text = expected.map((line, i) => (i % 50 === 0 ? `${line}\r\n\n` : `${line}\n`)).join('');
    const d = new LineDecoder();
    expect(d.push(Buffer.from(text, 'utf8'))).toEqual({ lines: expected, oversized: 0 });
    expect(d.flush()).toBeNull();
  });

  it('flush returns an unterminated last line', () => {
    const d = new LineDecoder();
    d.push('{"a":1}\n{"tail":');
    expect(d.flush()).toBe('{"tail":');
    expect(d.flush()).toBeNull();
  });
});
