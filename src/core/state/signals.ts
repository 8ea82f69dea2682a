import type { Effect } from './events.js';
import { indexOf } from './indexes.js';
import type { SignalRecord, SupervisorState } from './model.js';

type SignalFields = Pick<SignalRecord, 'key' | 'kind' | 'workspace' | 'threadId' | 'turnId' | 'message' | 'context'>;

/** What raising a signal takes: its record's own fields, and when. */
export type RaiseSignal = SignalFields & { atMs: number };

/** A signal record written out field by field (spreads of records are slow in V8). */
function signalRecord(id: string, s: SignalFields, createdAtMs: number, resolvedAtMs: number | null, acknowledgedAtMs: number | null): SignalRecord {
  return {
    id,
    key: s.key,
    kind: s.kind,
    workspace: s.workspace,
    threadId: s.threadId,
    turnId: s.turnId,
    message: s.message,
    context: s.context,
    createdAtMs,
    resolvedAtMs,
    acknowledgedAtMs,
  };
}

/** Raises a signal unless one with the same key is still open (signals fire on transitions). */
export function raiseSignal(state: SupervisorState, effects: Effect[], s: RaiseSignal): SignalRecord | null {
  const open = indexOf(state).openSignals;
  if (open.has(s.key)) return null;
  const id = `s${state.nextSignalNumber++}`;
  const record = signalRecord(id, s, s.atMs, null, null);
  state.signals[id] = record;
  open.set(s.key, id);
  effects.push({ type: 'notify', signalId: id });
  pruneResolved(state);
  return record;
}

/**
 * Resolved signals kept for history: those among the newest this many raised. Open signals are
 * never dropped. Bounds a long-running daemon's state (and state file).
 */
export const RESOLVED_SIGNALS_KEPT = 1_000;
const PRUNE_EVERY = 128;

/**
 * Every PRUNE_EVERY raises, drops the signals that just fell out of the newest
 * RESOLVED_SIGNALS_KEPT if they are resolved: O(1) amortized, by id, without walking all
 * signals (listing the keys of a large keyed object sorts them, which cost more than the raise).
 */
function pruneResolved(state: SupervisorState): void {
  const next = state.nextSignalNumber;
  if (next % PRUNE_EVERY !== 0) return;
  const end = next - RESOLVED_SIGNALS_KEPT;
  for (let n = Math.max(1, end - PRUNE_EVERY); n < end; n++) {
    const id = `s${n}`;
    if (state.signals[id]?.resolvedAtMs != null) delete state.signals[id];
  }
}

/**
 * The same rule over all signals, for a state read from disk: its oldest signals may lie below
 * the window that pruneResolved walks from now on.
 */
export function pruneAllResolved(state: SupervisorState): void {
  const end = state.nextSignalNumber - RESOLVED_SIGNALS_KEPT;
  for (const signal of Object.values(state.signals)) {
    if (signal.resolvedAtMs !== null && Number(signal.id.slice(1)) < end) delete state.signals[signal.id];
  }
}

/** Marks the open signal with this key resolved: its condition has cleared. */
export function resolveSignal(state: SupervisorState, key: string, atMs: number): void {
  const open = indexOf(state).openSignals;
  const id = open.get(key);
  if (id === undefined) return;
  open.delete(key);
  const signal = state.signals[id];
  if (signal) state.signals[id] = withTimes(signal, atMs, signal.acknowledgedAtMs);
}

/** A copy with new resolved/acknowledged times. */
export function withTimes(s: SignalRecord, resolvedAtMs: number | null, acknowledgedAtMs: number | null): SignalRecord {
  return signalRecord(s.id, s, s.createdAtMs, resolvedAtMs, acknowledgedAtMs);
}

/** Resolves every open signal the predicate picks (open signals are few). */
export function resolveSignalsWhere(state: SupervisorState, atMs: number, pick: (s: SignalRecord) => boolean): void {
  for (const [key, id] of [...indexOf(state).openSignals]) {
    const signal = state.signals[id];
    if (signal && pick(signal)) resolveSignal(state, key, atMs);
  }
}

export const signalKeys = {
  approval: (requestKey: string) => `needs_approval:${requestKey}`,
  turn: (kind: 'failed' | 'completed', threadId: string) => `${kind}:${threadId}`,
  stalled: (threadId: string) => `stalled:${threadId}`,
  disconnected: (workspace: string) => `disconnected:${workspace}`,
};
