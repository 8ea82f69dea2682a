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
  const index = indexOf(state);
  if (index.openSignals.has(s.key)) return null;
  const n = state.nextSignalNumber++;
  const id = `s${n}`;
  const record = signalRecord(id, s, s.atMs, null, null);
  state.signals[id] = record;
  index.openSignals.set(s.key, id);
  index.signalOrder.ids.push(id);
  index.signalOrder.numbers.push(n);
  effects.push({ type: 'notify', signalId: id });
  if (state.nextSignalNumber % PRUNE_EVERY === 0) pruneResolved(state);
  return record;
}

/**
 * Resolved signals kept for history: those among the newest this many raised. Open signals are
 * never dropped. Bounds a long-running daemon's state (and state file).
 */
export const RESOLVED_SIGNALS_KEPT = 1_000;
const PRUNE_EVERY = 128;

/**
 * Drops the resolved signals raised before the newest RESOLVED_SIGNALS_KEPT. Runs every
 * PRUNE_EVERY raises (and on restore) over the front of the raise order only, so it is O(1)
 * amortized: the signals that fell out of the window since the last run, and the old ones that
 * were still open then (they are dropped once resolved).
 */
export function pruneResolved(state: SupervisorState): void {
  const { ids, numbers } = indexOf(state).signalOrder;
  const end = state.nextSignalNumber - RESOLVED_SIGNALS_KEPT;
  let old = 0;
  while (old < numbers.length && numbers[old]! < end) old++;
  if (old === 0) return;
  const openIds: string[] = [];
  const openNumbers: number[] = [];
  for (let i = 0; i < old; i++) {
    const id = ids[i]!;
    const signal = state.signals[id];
    if (signal === undefined) continue;
    if (signal.resolvedAtMs !== null) delete state.signals[id];
    else {
      openIds.push(id);
      openNumbers.push(numbers[i]!);
    }
  }
  ids.splice(0, old, ...openIds);
  numbers.splice(0, old, ...openNumbers);
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
