import { EventEmitter } from 'node:events';
import { render, renderToString } from 'ink';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { Table } from '../../src/tui/components/Table.js';
import { cellText, fitTable, sameColumn, truncate, type TableColumn } from '../../src/tui/table.js';
import { ColorContext, paint } from '../../src/tui/theme.js';
import { useChalkLevel } from '../support/chalkLevel.js';

// Colour codes and attributes are what these tests look at: chalk drops them under vitest.
useChalkLevel(1);

const GREEN = '\u001b[32m';
const INVERSE = '\u001b[7m';
// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '');

describe('truncate', () => {
  it('keeps text that fits and ends cut text with an ellipsis at the width', () => {
    expect(truncate('hello', 5)).toBe('hello');
    expect(truncate('hello world', 5)).toBe('hell…');
    expect(truncate('hello', 1)).toBe('…');
    expect(truncate('hello', 0)).toBe('');
  });

  it('counts wide characters as two columns and never cuts one in half', () => {
    expect(truncate('日本語', 6)).toBe('日本語');
    expect(truncate('日本語のテキスト', 5)).toBe('日本…');
    expect(truncate('ab日本', 4)).toBe('ab…');
    expect(truncate('ok 👍👍', 5)).toBe('ok …');
    for (const [text, width] of [['日本語のテキスト', 7], ['ok 👍👍👍', 6], ['└ refactor the parser', 9]] as const) {
      expect(stringWidth(truncate(text, width))).toBeLessThanOrEqual(width);
    }
  });

  it('keeps a combining mark with its letter', () => {
    expect(truncate('cafe\u0301 au lait', 5)).toBe('cafe\u0301…');
  });
});

describe('cellText', () => {
  it('strips terminal controls and puts the text on one line', () => {
    expect(cellText('a\u001b[31mb\u001b]0;title\u0007\n\tc  d')).toBe('ab c d');
  });
});

describe('fitTable', () => {
  const columns: TableColumn[] = [
    { key: 'a', width: 5, cells: [{ text: 'abcdefgh' }, { text: 'ab' }] },
    { key: 'b', width: 5, cells: [{ text: 'vwxyz' }, { text: '' }] },
    { key: 'c', width: 5, cells: [{ text: 'c' }, { text: 'c' }] },
  ];

  it('cuts each cell to its column', () => {
    const table = fitTable(columns, 17);
    expect(table.map((c) => c.width)).toEqual([5, 5, 5]);
    expect(table.map((c) => c.cells.map((cell) => cell.text))).toEqual([['abcd…', 'ab'], ['vwxyz', ''], ['c', 'c']]);
  });

  it('narrows the column that reaches past the line and drops the ones after it', () => {
    const table = fitTable(columns, 9);
    expect(table.map((c) => [c.key, c.width])).toEqual([
      ['a', 5],
      ['b', 3],
    ]);
    expect(table[1]!.cells[0]!.text).toBe('vw…');
  });
});

describe('sameColumn', () => {
  const column = { key: 'a', width: 5, cells: [{ text: 'ab', tone: 'ok' as const }, { text: 'cd', inverse: true }] };

  it('is true for the same width, texts and styles, and false when any of them differs', () => {
    expect(sameColumn(column, { ...column, cells: column.cells.map((c) => ({ ...c })) })).toBe(true);
    expect(sameColumn(column, { ...column, cells: [column.cells[0]!, { text: 'cd', inverse: false }] })).toBe(false);
    expect(sameColumn(column, { ...column, cells: [{ text: 'ab', tone: 'warn' }, column.cells[1]!] })).toBe(false);
    expect(sameColumn(column, { ...column, cells: [column.cells[0]!, { text: 'ce', inverse: true }] })).toBe(false);
    expect(sameColumn(column, { ...column, width: 6 })).toBe(false);
    expect(sameColumn(column, { ...column, cells: column.cells.slice(0, 1) })).toBe(false);
  });
});

describe('paint', () => {
  it('draws the tone only when colour is on; bold and inverse always (NO_COLOR keeps the highlight)', () => {
    expect(paint('ok', { tone: 'ok' }, true)).toBe(`${GREEN}ok\u001b[39m`);
    expect(paint('ok', { tone: 'ok' }, false)).toBe('ok');
    expect(paint('ok', { tone: 'ok', inverse: true }, false)).toBe(`${INVERSE}ok\u001b[27m`);
  });
});

describe('Table', () => {
  const columns: TableColumn[] = [
    { key: 'status', width: 9, cells: [{ text: 'STATUS', tone: 'dim', bold: true }, { text: '✓ done', tone: 'ok', inverse: true }, { text: '▶ running', tone: 'info' }] },
    { key: 'name', width: 10, cells: [{ text: 'NAME', tone: 'dim', bold: true }, { text: '日本語のテキスト' }, { text: 'build' }] },
    { key: 'next', width: 30, cells: [{ text: 'NEXT', tone: 'dim', bold: true }, { text: '' }, { text: 'waiting for the build to end' }] },
  ];

  it('draws each row on one line, columns aligned, the last column narrowed to the width', () => {
    const lines = plain(renderToString(<Table columns={columns} width={40} />, { columns: 40 })).split('\n');
    expect(lines).toEqual(['STATUS    NAME       NEXT', '✓ done    日本語の…', '▶ running build      waiting for the bu…']);
    expect(Math.max(...lines.map((l) => stringWidth(l)))).toBeLessThanOrEqual(40);
  });

  it('colours cells by tone, and only highlights them when colour is off', () => {
    const colored = renderToString(<Table columns={columns} width={40} />, { columns: 40 });
    expect(colored).toContain(`${GREEN}${INVERSE}✓ done`);
    const noColor = renderToString(
      <ColorContext.Provider value={false}>
        <Table columns={columns} width={40} />
      </ColorContext.Provider>,
      { columns: 40 },
    );
    expect(noColor).not.toMatch(/\u001b\[3\dm|\u001b\[9\dm/);
    expect(noColor).toContain(`${INVERSE}✓ done`);
  });

  it('reads row by row to a screen reader', () => {
    const stdout = Object.assign(new EventEmitter(), { columns: 40, rows: 10, isTTY: true, frames: [] as string[], write: (s: string) => stdout.frames.push(s) });
    const instance = render(<Table columns={columns} width={40} />, { stdout: stdout as unknown as NodeJS.WriteStream, isScreenReaderEnabled: true, patchConsole: false, debug: true });
    instance.unmount();
    expect(stdout.frames.join('')).toContain('STATUS NAME NEXT\n✓ done 日本語の…\n▶ running build waiting for the bu…');
  });
});

describe('cells of several parts', () => {
  it('cuts each part to its own limit and to what is left of the cell, keeping the spaces between', () => {
    const [column] = fitTable([{ key: 'text', width: 30, cells: [{ text: '', parts: [{ text: '└ a very long thread title indeed', max: 12 }, { text: '  ' }, { text: 'just now replied: all done', tone: 'info' }] }] }], 30);
    const cell = column!.cells[0]!;
    expect(cell.parts!.map((p) => p.text)).toEqual(['└ a very lo…', '  ', 'just now replie…']);
    expect(cell.text).toBe('└ a very lo…  just now replie…');
    expect(stringWidth(cell.text)).toBe(30);
  });

  it('counts wide characters, and drops parts with no room left', () => {
    const [column] = fitTable([{ key: 'text', width: 10, cells: [{ text: '', parts: [{ text: '修复构建脚本' }, { text: ' ' }, { text: 'more' }] }] }], 10);
    expect(column!.cells[0]!.parts!.map((p) => p.text)).toEqual(['修复构建…', ' ']);
  });

  it('draws each part in its style; a column whose parts change style draws again', () => {
    const parts = (tone: 'ok' | 'error') => [{ key: 'text', width: 20, cells: [{ text: '', parts: [{ text: 'done' }, { text: ' ' }, { text: 'ok', tone }] }] }];
    const [a] = fitTable(parts('ok'), 20);
    const [b] = fitTable(parts('error'), 20);
    expect(sameColumn(a!, b!)).toBe(false);
    expect(sameColumn(a!, fitTable(parts('ok'), 20)[0]!)).toBe(true);
    const out = renderToString(
      <ColorContext.Provider value={true}>
        <Table columns={parts('ok')} width={20} />
      </ColorContext.Provider>,
    );
    expect(out).toContain(`done ${GREEN}ok`);
    expect(plain(out).trimEnd()).toBe('done ok');
  });
});
