import type { Effect } from './events.js';
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
  if (state.openSignalKeys[s.key] !== undefined) return null;
  const id = `s${state.nextSignalNumber++}`;
  const record = signalRecord(id, s, s.atMs, null, null);
  state.signals[id] = record;
  state.openSignalKeys[s.key] = id;
  effects.push({ type: 'notify', signalId: id });
  pruneResolved(state);
  return record;
}

/** Resolved signals kept for history; open ones are never dropped. */
export const RESOLVED_SIGNALS_KEPT = 1_000;

/**
 * Drops the oldest resolved signals once there are a quarter more than we keep, so a
 * long-running daemon's state (and state file) stays bounded.
 */
function pruneResolved(state: SupervisorState): void {
  // Looking is O(signals): do it once every 256 signals, which keeps raising O(1) amortized.
  if (state.nextSignalNumber % 256 !== 0) return;
  const ids = Object.keys(state.signals);
  const open = Object.keys(state.openSignalKeys).length;
  if (ids.length - open <= RESOLVED_SIGNALS_KEPT * 1.25) return;
  let excess = ids.length - open - RESOLVED_SIGNALS_KEPT;
  // Ids are created in order (s1, s2, …) and object keys keep insertion order: oldest first.
  for (const id of ids) {
    if (excess <= 0) break;
    if (state.signals[id]!.resolvedAtMs === null) continue;
    delete state.signals[id];
    excess--;
  }
}

/** Marks the open signal with this key resolved: its condition has cleared. */
export function resolveSignal(state: SupervisorState, key: string, atMs: number): void {
  const id = state.openSignalKeys[key];
  if (id === undefined) return;
  delete state.openSignalKeys[key];
  const signal = state.signals[id];
  if (signal) state.signals[id] = withTimes(signal, atMs, signal.acknowledgedAtMs);
}

/** A copy with new resolved/acknowledged times. */
export function withTimes(s: SignalRecord, resolvedAtMs: number | null, acknowledgedAtMs: number | null): SignalRecord {
  return signalRecord(s.id, s, s.createdAtMs, resolvedAtMs, acknowledgedAtMs);
}

/** Resolves every open signal the predicate picks (open signals are few). */
export function resolveSignalsWhere(state: SupervisorState, atMs: number, pick: (s: SignalRecord) => boolean): void {
  for (const [key, id] of Object.entries(state.openSignalKeys)) {
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
