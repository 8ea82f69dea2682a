import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { BOTTOM, clampScroll, findMatches, matchIndexOf, scrollBy, scrollToMatch, wrapDocument, wrapText } from '../../src/tui/document.js';

describe('wrapText', () => {
  it.each([
    ['breaks at spaces', 'the quick brown fox jumps', 10, 0, ['the quick', 'brown fox', 'jumps']],
    ['keeps a text that fits', 'short', 10, 0, ['short']],
    ['an empty text is one empty line', '', 10, 0, ['']],
    ['cuts a word longer than the line between characters', 'https://example.com/a/very/long/path', 10, 0, ['https://ex', 'ample.com/', 'a/very/lon', 'g/path']],
    ['fills the rest of a line before cutting a long word', 'see https://example.com/x', 10, 0, ['see https:', '//example.', 'com/x']],
    ['indents the lines after the first by the hang', 'task   upgrade the dependencies now', 16, 7, ['task   upgrade', '       the depen', '       dencies', '       now']],
    ['counts wide characters as two columns', '修复构建脚本然后发布', 8, 0, ['修复构建', '脚本然后', '发布']],
    ['never splits an emoji', 'ok 👍👍👍', 4, 0, ['ok', '👍👍', '👍']],
    ['keeps leading indentation (a diff, code)', '    return x;', 20, 0, ['    return x;']],
    ['drops the spaces where it breaks', 'aaaa     bbbb', 6, 0, ['aaaa', 'bbbb']],
  ])('%s', (_name, text, width, hang, expected) => {
    const lines = wrapText(text, width, hang);
    expect(lines).toEqual(expected);
    for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(width);
  });
});

describe('wrapDocument', () => {
  it('splits newlines into lines indented by the hang, expands tabs, strips terminal controls and keeps the style', () => {
    const wrapped = wrapDocument([{ text: 'reply  first\nsecond\tline \u001b[31mred\u001b[0m\u0007', tone: 'info', hang: 7 }, { text: '' }, { text: 'title', bold: true }], 40);
    expect(wrapped).toEqual([
      { text: 'reply  first', tone: 'info' },
      { text: '       second    line red', tone: 'info' },
      { text: '' },
      { text: 'title', bold: true },
    ]);
  });
});

describe('scrolling', () => {
  it.each([
    // move, from, total lines, rows on screen → to
    ['pageDown', 0, 100, 20, 19],
    ['pageDown', 75, 100, 20, 80],
    ['pageUp', 10, 100, 20, 0],
    ['pageUp', 50, 100, 20, 31],
    ['lineDown', 80, 100, 20, 80],
    ['lineUp', 0, 100, 20, 0],
    ['top', 42, 100, 20, 0],
    ['bottom', 0, 100, 20, 80],
    ['bottom', 0, 5, 20, 0],
    ['pageDown', BOTTOM, 100, 20, 80],
    ['pageUp', BOTTOM, 100, 20, 61],
  ] as const)('%s from %s of %s lines with %s rows → %s', (move, from, total, rows, to) => {
    expect(scrollBy(move, from, total, rows)).toBe(to);
  });

  it('clamps to the document: BOTTOM pins its last page, a short document does not scroll', () => {
    expect(clampScroll(BOTTOM, 100, 20)).toBe(80);
    expect(clampScroll(BOTTOM, 10, 20)).toBe(0);
    expect(clampScroll(-3, 100, 20)).toBe(0);
  });
});

describe('search', () => {
  const lines = [{ text: 'Error: a (b) failed' }, { text: '' }, { text: 'no error here, ERROR there' }, { text: 'cost $1.00 [x]*' }];

  it.each([
    ['error', [{ line: 0, start: 0, end: 5 }, { line: 2, start: 3, end: 8 }, { line: 2, start: 15, end: 20 }]],
    ['(b)', [{ line: 0, start: 9, end: 12 }]],
    ['$1.00 [x]*', [{ line: 3, start: 5, end: 15 }]],
    ['.', [{ line: 3, start: 7, end: 8 }]],
    ['', []],
    ['absent', []],
  ])('finds %j as text, ignoring case', (query, expected) => {
    expect(findMatches(lines, query)).toEqual(expected);
  });

  it('n past the last match goes to the first, N before the first to the last', () => {
    expect(matchIndexOf(3, 3)).toBe(0);
    expect(matchIndexOf(-1, 3)).toBe(2);
    expect(matchIndexOf(5, 0)).toBe(0);
  });

  it('scrolls a match into view a third of the way down, and not at all when it is on screen', () => {
    expect(scrollToMatch({ line: 50, start: 0, end: 1 }, 0, 100, 21)).toBe(43);
    expect(scrollToMatch({ line: 10, start: 0, end: 1 }, 0, 100, 21)).toBe(0);
    expect(scrollToMatch({ line: 99, start: 0, end: 1 }, 0, 100, 21)).toBe(79);
  });
});
