import { describe, expect, it } from 'vitest';
import { reduce } from '../../../src/core/state/reducer.js';
import { openSignals, signalCounts } from '../../../src/core/state/selectors.js';
import { fold, readyState, WS } from '../../support/replay.js';
import { commandApproval, turnCompleted, turnStarted } from '../../support/events.js';

const at = 1_795_697_000_000;

/** Two completed threads, one failed thread, one open approval. */
function withSignals() {
  return fold(
    [
      turnStarted('a', 'a1', at),
      turnCompleted('a', 'a1', 'completed', at + 1),
      turnStarted('b', 'b1', at + 2),
      turnCompleted('b', 'b1', 'completed', at + 3),
      turnStarted('c', 'c1', at + 4),
      turnCompleted('c', 'c1', 'failed', at + 5, { message: 'boom' }),
      turnStarted('d', 'd1', at + 6),
      commandApproval({ requestId: 1, threadId: 'd', turnId: 'd1', atMs: at + 7 }),
    ],
    readyState(),
  ).state;
}

describe('signals', () => {
  it('each event hands back its own effects: a later event neither changes nor can add to them', () => {
    const state = readyState();
    reduce(state, turnStarted('a', 'a1', at));
    const [, first] = reduce(state, turnCompleted('a', 'a1', 'completed', at + 1));
    reduce(state, turnStarted('b', 'b1', at + 2));
    const [, second] = reduce(state, turnCompleted('b', 'b1', 'completed', at + 3));
    const [, none] = reduce(state, turnStarted('c', 'c1', at + 4));
    expect(first).toEqual([{ type: 'notify', signalId: openSignals(state).find((x) => x.key === 'completed:a')!.id }]);
    expect(second).toEqual([{ type: 'notify', signalId: openSignals(state).find((x) => x.key === 'completed:b')!.id }]);
    expect(none).toEqual([]);
    expect(() => none.push({ type: 'notify', signalId: 'x' })).toThrow(TypeError);
    expect(reduce(state, turnStarted('d', 'd1', at + 5))[1]).toEqual([]);
  });

  it('counts open signals by kind, newest first in openSignals', () => {
    const state = withSignals();
    expect(signalCounts(state)).toEqual({ needs_approval: 1, failed: 1, completed: 2, stalled: 0, disconnected: 0 });
    expect(openSignals(state).map((s) => s.threadId)).toEqual(['d', 'c', 'b', 'a']);
  });

  it('signal/acknowledged sets acknowledgedAtMs once and takes the signal out of the counts', () => {
    const state = withSignals();
    const completed = openSignals(state).find((s) => s.threadId === 'a')!;
    const { effects } = fold([{ type: 'signal/acknowledged', atMs: at + 100, signalId: completed.id }], state);
    expect(effects).toEqual([]);
    expect(state.signals[completed.id]!.acknowledgedAtMs).toBe(at + 100);
    fold([{ type: 'signal/acknowledged', atMs: at + 200, signalId: completed.id }], state);
    expect(state.signals[completed.id]!.acknowledgedAtMs).toBe(at + 100);
    expect(signalCounts(state).completed).toBe(1);
    // Acknowledged is not resolved: the signal stays open (and still deduplicates) until its condition clears.
    expect(state.signals[completed.id]!.resolvedAtMs).toBeNull();
    expect(openSignals(state).map((s) => s.id)).toContain(completed.id);
  });

  it('an acknowledged signal still deduplicates: the same outcome again does not notify', () => {
    const state = withSignals();
    const failed = openSignals(state).find((s) => s.kind === 'failed')!;
    fold([{ type: 'signal/acknowledged', atMs: at + 100, signalId: failed.id }], state);
    expect(fold([turnCompleted('c', 'c1', 'failed', at + 101, { message: 'boom' })], state).effects).toEqual([]);
    expect(signalCounts(state).failed).toBe(0);
  });

  it('acknowledging an unknown signal id changes nothing', () => {
    const state = withSignals();
    const before = JSON.stringify(state.signals);
    fold([{ type: 'signal/acknowledged', atMs: at + 100, signalId: 's999' }], state);
    expect(JSON.stringify(state.signals)).toBe(before);
  });

  it('resolved signals leave the counts; signal ids are unique and increasing', () => {
    const state = withSignals();
    fold([{ type: 'serverRequest/resolved', atMs: at + 50, workspace: WS, threadId: 'd', requestId: 1 }], state);
    expect(signalCounts(state).needs_approval).toBe(0);
    const ids = Object.keys(state.signals).map((id) => Number(id.slice(1)));
    expect(ids).toEqual([1, 2, 3, 4]);
  });
});
