import { oneLine } from '../util/text.js';
import type { SupervisorState } from './model.js';

/** Warnings kept for debugging: at least the newest this many, fewer than twice as many. */
export const WARNINGS_KEPT = 50;

/** Trimmed in batches: warnings come with most turns, and trimming one per warning cost a copy each. */
export function addWarning(state: SupervisorState, text: string): void {
  state.warnings.push(text);
  if (state.warnings.length >= 2 * WARNINGS_KEPT) state.warnings.splice(0, state.warnings.length - WARNINGS_KEPT);
}

/**
 * The last few messages as cleaned, with their raw text. Codex repeats the same few warnings
 * with every thread and turn ("Model metadata for … not found", a missing sandbox tool), and
 * cleaning a long one again costs more than comparing it with these. A memo of a pure
 * function: it changes no result.
 */
const recent: { raw: string; text: string }[] = [];
const RECENT_KEPT = 8;
/** Longer messages are not remembered: the memo must not hold on to a huge one. */
const REMEMBERED_MAX_LENGTH = 2_000;

/** A warning from an app-server, cleaned of control sequences and kept on one line. */
export function addServerWarning(state: SupervisorState, workspace: string, message: string): void {
  addWarning(state, `${workspace}: ${cleanWarning(message)}`);
}

function cleanWarning(message: string): string {
  for (const entry of recent) if (entry.raw === message) return entry.text;
  const text = oneLine(message, 300);
  if (message.length <= REMEMBERED_MAX_LENGTH) {
    if (recent.length === RECENT_KEPT) recent.pop();
    recent.unshift({ raw: message, text });
  }
  return text;
}
