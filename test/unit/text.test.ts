import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cut, displayCommand, escapeControl, oneLine, stripControl } from '../../src/core/util/text.js';

describe('text helpers', () => {
  it('strips CSI, OSC, DCS and bare control characters from agent text', () => {
    expect(stripControl('a\u001b[31mred\u001b[0m b')).toBe('ared b');
    expect(stripControl('x\u001b]0;evil title\u0007y')).toBe('xy');
    expect(stripControl('x\u001b]8;;http://e\u001b\\link\u001b]8;;\u001b\\y')).toBe('xlinky');
    expect(stripControl('bell\u0007 back\bspace\r')).toBe('bell backspace');
    expect(stripControl('tab\tand\nnewline stay')).toBe('tab\tand\nnewline stay');
    expect(stripControl('\u009b2Jc1')).toBe('c1');
  });

  it('makes one bounded line', () => {
    expect(oneLine('  hello\n\n  world  ')).toBe('hello world');
    expect(oneLine('abcdefghij', 5)).toBe('abcd…');
  });

  it('shows the command inside the shell wrapper', () => {
    expect(displayCommand("/bin/bash -lc 'npm test'")).toBe('npm test');
    expect(displayCommand('/bin/zsh -lc "ls -la"')).toBe('ls -la');
    expect(displayCommand('git status')).toBe('git status');
  });
});

describe('escapeControl (names, paths and messages the CLI prints)', () => {
  // Every character a terminal could act on: C0 but tab and newline, DEL, C1.
  // eslint-disable-next-line no-control-regex
  const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

  it('shows an OSC 52 clipboard write, SGR, NUL and C1 CSI as visible escapes', () => {
    expect(escapeControl('/tmp/ev\u001b]52;c;aGk=\u0007X\u001b[31mred')).toBe('/tmp/ev\\x1b]52;c;aGk=\\x07X\\x1b[31mred');
    expect(escapeControl('a\u0000b\rc\u007fd\u009b2J')).toBe('a\\x00b\\x0dc\\u007fd\\u009b2J');
  });

  it('keeps tab, newline, backslashes and plain text as they are', () => {
    expect(escapeControl('tab\tand\nnewline, C:\\dir, ✓ é')).toBe('tab\tand\nnewline, C:\\dir, ✓ é');
  });

  it('leaves no terminal control character in any text, and escaping twice changes nothing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const escaped = escapeControl(text);
        expect(escaped).not.toMatch(TERMINAL_CONTROL);
        expect(escapeControl(escaped)).toBe(escaped);
      }),
    );
  });

  it('keeps JSON valid and its values the same (--json output passes through it)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(JSON.parse(escapeControl(JSON.stringify({ path: text })))).toEqual({ path: text });
      }),
    );
  });
});

describe('oneLine fast path', () => {
  it('gives the same result as the full cleaning on random text', async () => {
    const { seededRandom } = await import('../support/transcripts.js');
    const random = seededRandom(7);
    const alphabet = ['a', 'b', ' ', '  ', '\n', '\t', '\u00a0', '\u001b[31m', '\u001b]0;t\u0007', '\u0007', '\u009b1m', 'é', '✓', '\r'];
    const reference = (text: string, max: number) => {
      const flat = stripControl(text).replace(/\s+/g, ' ').trim();
      return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
    };
    for (let n = 0; n < 20_000; n++) {
      const length = Math.floor(random() * 12);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      const max = 1 + Math.floor(random() * 10);
      expect(oneLine(text, max), JSON.stringify(text)).toBe(reference(text, max));
    }
  });

  it('a line cleaned once and cut is the line cleaned at that width', async () => {
    const { seededRandom } = await import('../support/transcripts.js');
    const random = seededRandom(11);
    const alphabet = ['a', 'b', ' ', '  ', '\n', '\u001b[31m', 'é', '✓'];
    for (let n = 0; n < 20_000; n++) {
      const length = Math.floor(random() * 16);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      const wide = 1 + Math.floor(random() * 12);
      const narrow = 1 + Math.floor(random() * wide);
      expect(cut(oneLine(text, wide), narrow), JSON.stringify(text)).toBe(oneLine(text, narrow));
    }
  });
});
