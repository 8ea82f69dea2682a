import type { Key } from 'ink';

/** A one-line text field's text after a key; null: the key is not for the text (it does nothing). */
export function editText(text: string, input: string, key: Key): string | null {
  if (key.backspace || key.delete) return text.slice(0, -1);
  // Ctrl-U clears the line, as in a shell.
  if (key.ctrl && input === 'u') return '';
  if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return null;
  return input ? text + input.replace(/[\u0000-\u001f\u007f]/g, '') : null;
}
