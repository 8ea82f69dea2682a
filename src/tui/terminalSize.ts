/**
 * The smallest terminal the TUI draws in: the header, the tab bar, the status and hint lines,
 * and in the operations view a heading, three two-line thread rows and the four-line detail
 * strip; 60 columns leave a thread's texts 46 beside the status.
 */
export const MIN_WIDTH = 60;
export const MIN_HEIGHT = 16;

export type SizeCheck = { ok: true } | { ok: false; message: string };

/** Whether a terminal of `width` × `height` is big enough, and if not what to tell the person. */
export function minimumSize(width: number, height: number): SizeCheck {
  if (width >= MIN_WIDTH && height >= MIN_HEIGHT) return { ok: true };
  return {
    ok: false,
    message: `terminal ${width}x${height} is too small for cm-supervisor: it needs at least ${MIN_WIDTH}x${MIN_HEIGHT} — enlarge the window; q quits`,
  };
}
