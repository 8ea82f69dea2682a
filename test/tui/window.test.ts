import { describe, expect, it } from 'vitest';
import { visibleRows } from '../../src/tui/window.js';

describe('visibleRows: rows of one and two lines', () => {
  // host, workspace, then threads of two lines
  const heights = [1, 1, 2, 2, 2, 1, 2, 2, 2, 2, 1, 2];

  it.each([
    // selected, lines on screen → the rows shown
    [0, 30, { start: 0, end: 12 }],
    [0, 8, { start: 0, end: 5 }],
    [4, 8, { start: 3, end: 7 }],
    [11, 8, { start: 8, end: 12 }],
    [6, 7, { start: 5, end: 9 }],
    [3, 1, { start: 3, end: 4 }],
  ])('selected %i in %i lines → %j', (selected, height, expected) => {
    const shown = visibleRows(heights, selected, height);
    expect(shown).toEqual(expected);
    expect(selected).toBeGreaterThanOrEqual(shown.start);
    expect(selected).toBeLessThan(shown.end);
  });

  it('never shows more lines than fit, except a selected row taller than the screen', () => {
    for (let selected = 0; selected < heights.length; selected++) {
      for (let height = 2; height < 20; height++) {
        const { start, end } = visibleRows(heights, selected, height);
        expect(heights.slice(start, end).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(height);
        expect(selected >= start && selected < end).toBe(true);
      }
    }
  });

  it('shows nothing for no rows or no room', () => {
    expect(visibleRows([], 0, 10)).toEqual({ start: 0, end: 0 });
    expect(visibleRows(heights, 0, 0)).toEqual({ start: 0, end: 0 });
  });
});
