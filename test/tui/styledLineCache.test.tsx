import { renderToString } from 'ink';
import { describe, expect, it } from 'vitest';
import { Table } from '../../src/tui/components/Table.js';
import { cacheStyledLines, keepStyledLinesAcrossFrames, type LineCaches } from '../../src/tui/styledLineCache.js';
import type { TableColumn } from '../../src/tui/table.js';
import { useChalkLevel } from '../support/chalkLevel.js';

useChalkLevel(1);

describe('cacheStyledLines', () => {
  /** A stand-in for Ink's cache prototype; each frame is a new object on it, as in Ink. */
  function fake() {
    const tokenized: string[] = [];
    const proto: LineCaches = {
      getStyledChars(line: string) {
        tokenized.push(line);
        return [line];
      },
    };
    cacheStyledLines(proto);
    return { tokenized, frame: () => Object.create(proto) as LineCaches };
  }

  it('tokenizes a line once in a frame and not again in the next frame', () => {
    const { tokenized, frame } = fake();
    const first = frame();
    const a = first.getStyledChars('a');
    first.getStyledChars('b');
    expect(first.getStyledChars('a')).toBe(a);
    const second = frame();
    expect(second.getStyledChars('a')).toBe(a);
    second.getStyledChars('c');
    expect(tokenized).toEqual(['a', 'b', 'c']);
  });

  it('keeps only the lines of the frame before', () => {
    const { tokenized, frame } = fake();
    frame().getStyledChars('b');
    frame().getStyledChars('c');
    frame().getStyledChars('b');
    expect(tokenized).toEqual(['b', 'c', 'b']);
  });
});

describe('keepStyledLinesAcrossFrames', () => {
  // Frame to frame: a status and a name change to text of the same length, the selection moves.
  const table = (status: string, name: string, selected: number): TableColumn[] => [
    {
      key: 'status',
      width: 11,
      cells: [{ text: 'STATUS', tone: 'dim', bold: true }, ...['▶ running', status, '! approval'].map((text, i) => ({ text, tone: 'info' as const, inverse: i === selected }))],
    },
    { key: 'name', width: 12, cells: [{ text: 'NAME', tone: 'dim', bold: true }, { text: '修复构建脚本 🚀' }, { text: name }, { text: 'docs', tone: 'accent' }] },
  ];
  const frames = [table('✓ done', 'build', 0), table('✗ fail', 'build', 0), table('✗ fail', 'tests', 1), table('✓ done', 'build', 2)];
  const draw = (columns: TableColumn[]) => renderToString(<Table columns={columns} width={24} />, { columns: 24 });

  it("installs in the pinned Ink, and Ink draws the same frames with it (each render is a frame)", async () => {
    const without = frames.map(draw);
    expect(await keepStyledLinesAcrossFrames()).toBe(true);
    expect(frames.map(draw)).toEqual(without);
    expect(without[2]).toContain('tests');
    expect(await keepStyledLinesAcrossFrames()).toBe(true);
  });
});
