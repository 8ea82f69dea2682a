import type { Key } from 'ink';

/** One key, as Ink's `useInput` would report it had it arrived alone. */
export interface KeyPress {
  input: string;
  key: Key;
}

export const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

const NAMED: (keyof Key)[] = ['upArrow', 'downArrow', 'leftArrow', 'rightArrow', 'pageDown', 'pageUp', 'home', 'end', 'return', 'escape', 'ctrl', 'tab', 'backspace', 'delete', 'meta', 'super', 'hyper'];

// What is left of an escape sequence Ink does not name (F13, focus reports) once it strips
// the ESC: one key, never the keys "[", "2", "5", "~".
const UNNAMED_SEQUENCE = /^(?:\[[0-?]*[ -/]*[@-~]|O[@-~])$/;

/**
 * The keys in one `useInput` call, in order. Ink 6 reads stdin in chunks and cuts a chunk only
 * at escape sequences (each arrow or PgUp comes alone, with its flags set), so a run of plain
 * characters — key repeat, typing ahead over a slow link, a paste — reaches the handler as one
 * `input` such as "jjj" or "3a\r". Each character of such a run becomes the key Ink reports
 * for it alone (its parse-keypress: Enter sets `return`, DEL `delete`, ^H `backspace`, Tab
 * `tab`, ^A…^Z `ctrl` with the letter as input, an upper-case letter `shift`).
 */
export function splitKeys(input: string, key: Key): KeyPress[] {
  const chars = [...input];
  if (chars.length <= 1 || NAMED.some((name) => key[name]) || UNNAMED_SEQUENCE.test(input)) return [{ input, key }];
  return chars.map(keyOf);
}

function keyOf(char: string): KeyPress {
  switch (char) {
    case '\r':
      return { input: char, key: { ...NO_KEY, return: true } };
    case '\t':
      return { input: '', key: { ...NO_KEY, tab: true } };
    case '\b':
      return { input: '', key: { ...NO_KEY, backspace: true } };
    case '\u007f':
      return { input: '', key: { ...NO_KEY, delete: true } };
  }
  // '\n' is not Enter to Ink (terminals send '\r'); it stays a plain character.
  const code = char.codePointAt(0)!;
  if (code <= 26 && char !== '\n') return { input: String.fromCharCode(code + 96), key: { ...NO_KEY, ctrl: true } };
  return { input: char, key: { ...NO_KEY, shift: /^[A-Z]$/.test(char) } };
}

/** How many keys at the start are plain text (typed or pasted into a text line as a whole). */
export function leadingText(keys: readonly KeyPress[]): number {
  const at = keys.findIndex(({ input, key }) => !input || NAMED.some((name) => key[name]) || /[\u0000-\u001f\u007f]/.test(input));
  return at === -1 ? keys.length : at;
}
