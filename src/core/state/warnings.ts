import { oneLine } from '../util/text.js';
import type { SupervisorState } from './model.js';

/** Warnings kept for debugging: at least the newest this many, fewer than twice as many. */
export const WARNINGS_KEPT = 50;

/** Trimmed in batches: warnings come with most turns, and trimming one per warning cost a copy each. */
export function addWarning(state: SupervisorState, text: string): void {
  state.warnings.push(text);
  if (state.warnings.length >= 2 * WARNINGS_KEPT) state.warnings.splice(0, state.warnings.length - WARNINGS_KEPT);
}

/** A warning from an app-server, cleaned of control sequences and kept on one line. */
export function addServerWarning(state: SupervisorState, workspace: string, message: string): void {
  addWarning(state, `${workspace}: ${oneLine(message, 300)}`);
}
