import { describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '../../../src/core/state/events.js';
import type { SupervisorState } from '../../../src/core/state/model.js';
import { normalizeServerRequest } from '../../../src/core/state/normalize.js';
import { openSignals, selectFeed } from '../../../src/core/state/selectors.js';
import { fold, HOST, readyState, WS } from '../../support/replay.js';
import { agentMessage, commandApproval, progress, turnCompleted, turnStarted, userMessage } from '../../support/events.js';

const STALL = 60_000;
const T = 'thread-s';
const TURN = 'turn-1';
const at = 1_795_697_000_000;

const tick = (atMs: number): SupervisorEvent => ({ type: 'health/tick', atMs });

/** A ready workspace with one turn running since `at` (last event at `at + 1`). */
function running(): SupervisorState {
  return fold([turnStarted(T, TURN, at), userMessage(T, TURN, 'build the thing', at + 1)], readyState({ stallAfterMs: STALL })).state;
}

const stalledSignals = (state: SupervisorState) => Object.values(state.signals).filter((s) => s.kind === 'stalled');

describe('health/tick stall detection', () => {
  it('does not call a turn stalled before stallAfterMs of silence', () => {
    const state = running();
    const { effects } = fold([tick(at + 1 + STALL - 1)], state);
    expect(effects).toEqual([]);
    expect(state.threads[T]!.stalledSinceMs).toBeNull();
  });

  it('calls a running turn stalled after stallAfterMs of silence, once', () => {
    const state = running();
    const { effects } = fold([tick(at + 1 + STALL)], state);
    const signals = stalledSignals(state);
    expect(signals).toHaveLength(1);
    expect(effects).toEqual([{ type: 'notify', signalId: signals[0]!.id }]);
    expect(signals[0]).toMatchObject({ threadId: T, turnId: TURN, context: { stalledForMs: STALL } });
    expect(signals[0]!.message).toContain('build the thing');
    const thread = state.threads[T]!;
    expect(thread.stalledSinceMs).toBe(at + 1);
    expect(thread.digest.blockers).toContainEqual({ kind: 'stalled', text: 'stalled: no events' });
    expect(selectFeed(state, { faults: true }).map((e) => e.kind)).toEqual(['stalled']);

    // Later ticks while still silent do not raise it again.
    expect(fold([tick(at + 2 * STALL), tick(at + 3 * STALL)], state).effects).toEqual([]);
    expect(stalledSignals(state)).toHaveLength(1);
  });

  it('an idle thread (no running turn) is never stalled', () => {
    const state = running();
    fold([agentMessage(T, TURN, 'done', at + 2), turnCompleted(T, TURN, 'completed', at + 3)], state);
    fold([tick(at + 10 * STALL)], state);
    expect(stalledSignals(state)).toEqual([]);
  });

  it('a turn waiting on an approval is blocked on us, not stalled', () => {
    const state = running();
    fold([commandApproval({ requestId: 1, threadId: T, turnId: TURN, atMs: at + 2 }), tick(at + 10 * STALL)], state);
    expect(stalledSignals(state)).toEqual([]);
  });

  it('a turn whose thread status says waitingOnApproval is not stalled either', () => {
    const state = running();
    fold(
      [
        { type: 'thread/statusChanged', atMs: at + 2, workspace: WS, threadId: T, status: { type: 'active', activeFlags: ['waitingOnApproval'] } },
        tick(at + 10 * STALL),
      ],
      state,
    );
    expect(stalledSignals(state)).toEqual([]);
  });

  it('a turn of a workspace that is not ready is not stalled (it is disconnected, not silent)', () => {
    const state = running();
    fold([{ type: 'connection/restarting', atMs: at + 2, host: HOST, attempt: 1, delayMs: 500 }, tick(at + 10 * STALL)], state);
    expect(stalledSignals(state)).toEqual([]);
  });

  it('streamed item/progress keeps a long command alive', () => {
    const state = running();
    const events: SupervisorEvent[] = [];
    for (let t = at + 1; t <= at + 5 * STALL; t += STALL / 2) events.push(progress(T, TURN, t), tick(t + STALL / 2 - 1));
    const { effects } = fold(events, state);
    expect(effects).toEqual([]);
    expect(stalledSignals(state)).toEqual([]);
    expect(state.threads[T]!.lastEventAtMs).toBe(at + 1 + 9 * (STALL / 2));
  });

  const laterEvents: [string, SupervisorEvent][] = [
    ['item/progress', progress(T, TURN, at + 2 * STALL)],
    ['item/completed', agentMessage(T, TURN, 'still here', at + 2 * STALL)],
    ['thread/statusChanged', { type: 'thread/statusChanged', atMs: at + 2 * STALL, workspace: WS, threadId: T, status: { type: 'active', activeFlags: [] } }],
    ['plan/updated', { type: 'plan/updated', atMs: at + 2 * STALL, workspace: WS, threadId: T, turnId: TURN, plan: [{ step: 'write tests', status: 'inProgress' }] }],
    [
      'tokenUsage/updated',
      { type: 'tokenUsage/updated', atMs: at + 2 * STALL, workspace: WS, threadId: T, totalTokens: 10, lastTokens: 10, contextWindow: null },
    ],
    ['approval/requested', commandApproval({ requestId: 4, threadId: T, turnId: TURN, atMs: at + 2 * STALL })],
    [
      'question/requested',
      normalizeServerRequest(WS, {
        id: 5,
        method: 'item/tool/requestUserInput',
        params: { threadId: T, turnId: TURN, itemId: 'q', isBlocking: true, questions: [{ id: 'a', header: 'A', question: 'Which?' }] },
        receivedAtMs: at + 2 * STALL,
      }),
    ],
    ['turn/completed', turnCompleted(T, TURN, 'completed', at + 2 * STALL)],
  ];

  for (const [name, event] of laterEvents) {
    it(`a later ${name} resolves the stall: signal, blocker and stalledSinceMs`, () => {
      const state = running();
      fold([tick(at + 1 + STALL)], state);
      const [signal] = stalledSignals(state);
      fold([event], state);
      expect(state.signals[signal!.id]!.resolvedAtMs).toBe(at + 2 * STALL);
      expect(openSignals(state).filter((s) => s.kind === 'stalled')).toEqual([]);
      const thread = state.threads[T]!;
      expect(thread.stalledSinceMs).toBeNull();
      expect(thread.digest.blockers.filter((b) => b.kind === 'stalled')).toEqual([]);
    });
  }

  it('a turn that stalls again after recovering raises a new signal', () => {
    const state = running();
    fold([tick(at + 1 + STALL), commandApproval({ requestId: 4, threadId: T, turnId: TURN, atMs: at + 2 * STALL })], state);
    fold([{ type: 'serverRequest/resolved', atMs: at + 2 * STALL + 5, workspace: WS, threadId: T, requestId: 4 }], state);
    const { effects } = fold([tick(at + 2 * STALL + 5 + STALL)], state);
    expect(effects).toHaveLength(1);
    expect(stalledSignals(state)).toHaveLength(2);
    expect(openSignals(state).map((s) => s.kind)).toEqual(['stalled']);
  });
});
