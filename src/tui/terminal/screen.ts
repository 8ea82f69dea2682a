/** Alternate screen, cursor visibility: the terminal state a full-screen program must restore. */
export const ENTER_ALT_SCREEN = '\u001b[?1049h\u001b[2J\u001b[H';
export const LEAVE_ALT_SCREEN = '\u001b[?1049l';
export const HIDE_CURSOR = '\u001b[?25l';
export const SHOW_CURSOR = '\u001b[?25h';
