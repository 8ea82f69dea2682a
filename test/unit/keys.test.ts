import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { leadingText, NO_KEY, splitKeys, type KeyPress } from '../../src/tui/keys.js';

const k = (flags: Partial<Key> = {}): Key => ({ ...NO_KEY, ...flags });
const press = (input: string, flags: Partial<Key> = {}): KeyPress => ({ input, key: k(flags) });

// What Ink 6.8's useInput hands the handler for a read (its input parser cuts a read only at
// escape sequences, then parse-keypress names a lone key), and the keys that read holds.
describe('splitKeys: one useInput call → the keys in it, in order', () => {
  it.each<[string, string, Partial<Key>, KeyPress[]]>([
    ['a lone key passes through', 'j', {}, [press('j')]],
    ['key repeat', 'jjj', {}, [press('j'), press('j'), press('j')]],
    ['two pane keys', '31', {}, [press('3'), press('1')]],
    ['a pane key, then a decision', '3a', {}, [press('3'), press('a')]],
    ['an upper-case letter in a run is shifted, as alone', 'aA', {}, [press('a'), press('A', { shift: true })]],
    ['Enter in a run', ':feed\r', {}, [press(':'), press('f'), press('e'), press('e'), press('d'), press('\r', { return: true })]],
    ['Tab, DEL and ^H in a run', '\t\u007f\b', {}, [press('', { tab: true }), press('', { delete: true }), press('', { backspace: true })]],
    ['Ctrl keys in a run carry the letter (^@ as `, as Ink names it)', 'x\u0003\u0015\u0000', {}, [press('x'), press('c', { ctrl: true }), press('u', { ctrl: true }), press('`', { ctrl: true })]],
    ['\\n is a plain character to Ink, not Enter', 'a\n', {}, [press('a'), press('\n')]],
    ['a character outside the BMP is one key', 'j😀', {}, [press('j'), press('😀')]],
    ['a pasted line splits into its characters', 'go on', {}, [...'go on'].map((c) => press(c))],
  ])('%s: %j', (_name, input, flags, keys) => {
    expect(splitKeys(input, k(flags))).toEqual(keys);
  });

  // Ink delivers each escape sequence of a read as its own call, already named.
  it.each<[string, string, Partial<Key>]>([
    ['↓', '', { downArrow: true }],
    ['↑', '', { upArrow: true }],
    ['PgUp', '', { pageUp: true }],
    ['a lone Esc', '', { escape: true, meta: true }],
    ['Alt-x', 'x', { meta: true }],
    ['Ctrl-C alone', 'c', { ctrl: true }],
    ['Shift-Tab', '', { tab: true, shift: true }],
    // F13 and focus reports are sequences Ink does not name: it hands over what follows the ESC.
    ['an unnamed CSI sequence (F13)', '[25~', {}],
    ['an unnamed CSI sequence (focus in)', '[I', {}],
    ['an unnamed SS3 sequence', 'OX', {}],
  ])('%s stays one key', (_name, input, flags) => {
    expect(splitKeys(input, k(flags))).toEqual([press(input, flags)]);
  });

});

describe('leadingText: how much of the keys goes into a text line as a whole', () => {
  it.each<[string, KeyPress[], number]>([
    ['a pasted line with spaces, then Enter', splitKeys('fix the build\rjjj', NO_KEY), 'fix the build'.length],
    ['all text', splitKeys('Hello World', NO_KEY), 11],
    ['Backspace first', splitKeys('\u007fab', NO_KEY), 0],
    ['Ctrl-U stops the run', splitKeys('ab\u0015c', NO_KEY), 2],
    ['a Tab stops the run', splitKeys('a\tb', NO_KEY), 1],
    ['an arrow', [press('', { upArrow: true }), press('a')], 0],
    ['Alt-x is not text', [press('x', { meta: true })], 0],
  ])('%s', (_name, keys, n) => {
    expect(leadingText(keys)).toBe(n);
  });
});
