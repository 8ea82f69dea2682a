// ESC-introduced sequences (CSI, OSC, DCS/SOS/PM/APC strings, two-byte escapes), C1 CSI, and
// the remaining C0/C1 control characters except tab and newline.
const ESCAPE_SEQUENCES =
  // eslint-disable-next-line no-control-regex
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[PX^_][^\u001b]*(?:\u001b\\)?|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const HAS_CONTROL = new RegExp(CONTROL_CHARS.source);

/** Agent text is untrusted: strip everything a terminal would interpret. */
export function stripControl(text: string): string {
  // Every sequence starts with a control character (ESC or C1 CSI): text without one is clean.
  if (!HAS_CONTROL.test(text)) return text;
  return text.replace(ESCAPE_SEQUENCES, '').replace(CONTROL_CHARS, '');
}

/**
 * Names, paths and messages printed by the CLI: every control character shown as its escape
 * (`\x1b`, `\x00`, `\u009b`) instead of reaching the terminal, so a person sees that something
 * odd is in a name (stripping would hide it). Tab and newline stay: they lay out our own text.
 * Backslashes are left alone, so escaping twice changes nothing; C1 and DEL take the `\u00XX`
 * form, which JSON reads back as the same character (JSON.stringify leaves them raw).
 */
export function escapeControl(text: string): string {
  if (!HAS_CONTROL.test(text)) return text;
  return text.replace(CONTROL_CHARS, (c) => {
    const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
    return c < ' ' ? `\\x${hex}` : `\\u00${hex}`;
  });
}

/** One display line: control sequences stripped, whitespace collapsed, cut with an ellipsis. */
// Anything oneLine would change: control characters, runs of whitespace, or whitespace that
// is not a plain space, and leading/trailing whitespace.
// eslint-disable-next-line no-control-regex
const NEEDS_CLEANING = /[\u0000-\u001f\u007f-\u009f]|\s\s|[^\S ]|^\s|\s$/;

export function oneLine(text: string, max = 120): string {
  // Most text is already one clean line: skip the three regex passes (a hot path of the reducer).
  const flat = NEEDS_CLEANING.test(text) ? stripControl(text).replace(/\s+/g, ' ').trim() : text;
  return cut(flat, max);
}

/**
 * Cuts a line that `oneLine` already cleaned to `max` characters with an ellipsis:
 * `cut(oneLine(t, n), m)` equals `oneLine(t, m)` for any `m <= n`, so text shown at several
 * widths is cleaned once.
 */
export function cut(line: string, max: number): string {
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** `/bin/bash -lc 'npm test'` → `npm test`: the command a person typed, not the wrapper. */
export function displayCommand(command: string): string {
  const match = /^(?:\/usr)?\/bin\/(?:ba|z)?sh -l?c (['"])([\s\S]*)\1$/.exec(command.trim());
  return match ? match[2]! : command;
}

/**
 * A thread id short enough for a column. Codex's ids are UUIDv7, which begin with their creation
 * time: threads started together share their first characters, so the random end is shown.
 */
export function shortThreadId(id: string): string {
  return id.slice(-6);
}

const BARS = '▁▂▃▄▅▆▇█';

/** Counts as a line of bars scaled to the largest; a quiet span is a space. */
export function sparkline(series: readonly number[]): string {
  const max = Math.max(0, ...series);
  return series.map((n) => (n <= 0 || max === 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((n / max) * (BARS.length - 1)))])).join('');
}

/** A token count as people read it: `950`, `12.3k`, `4.1M`. */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}
