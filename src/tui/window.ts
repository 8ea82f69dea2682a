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
