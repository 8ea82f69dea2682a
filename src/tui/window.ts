/** The slice of a list to show so that the selected row stays visible. */
export function visibleWindow(total: number, selected: number, height: number): { start: number; end: number } {
  if (height <= 0) return { start: 0, end: 0 };
  if (total <= height) return { start: 0, end: total };
  const start = Math.min(Math.max(0, selected - Math.floor(height / 2)), total - height);
  return { start, end: start + height };
}

export function clampIndex(index: number, total: number): number {
  return total === 0 ? 0 : Math.min(Math.max(0, index), total - 1);
}

/**
 * The slice of rows of different heights (one line or two) that fits in `height` lines with
 * the selected row whole and, where the list allows, near the middle.
 */
export function visibleRows(heights: readonly number[], selected: number, height: number): { start: number; end: number } {
  if (height <= 0 || heights.length === 0) return { start: 0, end: 0 };
  const at = clampIndex(selected, heights.length);
  let start = at;
  let end = at + 1;
  let used = heights[at]!;
  // Rows above the selection up to half the height, then below it, then above again.
  while (start > 0 && used + heights[start - 1]! <= Math.floor(height / 2)) used += heights[--start]!;
  while (end < heights.length && used + heights[end]! <= height) used += heights[end++]!;
  while (start > 0 && used + heights[start - 1]! <= height) used += heights[--start]!;
  return { start, end };
}
