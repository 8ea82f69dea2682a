import type { SupervisorState } from './model.js';

/**
 * Lookups the reducer makes on most turn events, kept beside the state instead of in it:
 * which signal is open under a dedup key, which job a turn belongs to, and the order in which
 * the stored signals were raised (for pruning).
 *
 * All are derived from the records (an open signal is one with `resolvedAtMs === null`; a job
 * names its turn; a signal id carries its number), so they are neither persisted nor copied
 * into snapshots: each state object gets its index built from its records on first use (a
 * fresh, restored or hand-made state) and `reduce` keeps it current, as it is the only writer
 * of a live state (see model.ts).
 *
 * Maps, not plain objects: the keys come fresh from each parsed line, and looking a fresh string
 * up in a plain object interns it first; a miss (most turns are not ours; most turns have no
 * open `failed` signal) cost 300–900 ns in the bench, a Map lookup hashes the string instead.
 */
export interface StateIndex {
  /** Open signal id by dedup key. */
  openSignals: Map<string, string>;
  /** Job key by the id of the turn it started. */
  jobByTurn: Map<string, string>;
  /**
   * The stored signals in the order they were raised: their ids (the very strings that key
   * `state.signals`, so pruning looks them up without making new ones) and their numbers.
   */
  signalOrder: { ids: string[]; numbers: number[] };
}

/** The state object's own, hidden from enumeration: JSON, spreads and snapshots leave it out. */
interface Indexed {
  __index?: StateIndex;
}

/**
 * The index of this state object, built on first use. It lives on the state object itself, so
 * whoever owns a state owns its index: two reducers in one process (the loop and a client's
 * mirror) never share one, and nothing outlives its state.
 */
export function indexOf(state: SupervisorState): StateIndex {
  const indexed = state as SupervisorState & Indexed;
  let index = indexed.__index;
  if (index === undefined) {
    index = buildIndex(state);
    Object.defineProperty(state, '__index', { value: index, enumerable: false, writable: false, configurable: false });
  }
  return index;
}

function buildIndex(state: SupervisorState): StateIndex {
  const openSignals = new Map<string, string>();
  const raised: { id: string; n: number }[] = [];
  for (const signal of Object.values(state.signals)) {
    if (signal.resolvedAtMs === null) openSignals.set(signal.key, signal.id);
    raised.push({ id: signal.id, n: signalNumber(signal.id) });
  }
  raised.sort((a, b) => a.n - b.n);
  const jobByTurn = new Map<string, string>();
  for (const job of Object.values(state.jobs)) {
    if (job.turnId !== null) jobByTurn.set(job.turnId, job.key);
  }
  return { openSignals, jobByTurn, signalOrder: { ids: raised.map((r) => r.id), numbers: raised.map((r) => r.n) } };
}

/** `s12` → 12: signals are numbered in the order they were raised. */
function signalNumber(id: string): number {
  return Number(id.slice(1));
}
