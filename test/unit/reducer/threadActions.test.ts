import { describe, expect, it } from 'vitest';
import { normalizeNotification } from '../../../src/core/state/normalize.js';
import { openSignals, selectFeed } from '../../../src/core/state/selectors.js';
import { commandApproval, turnCompleted, turnStarted, userMessage } from '../../support/events.js';
import { fold, HOST, readyState, T0, WS } from '../../support/replay.js';

const T = 'thread-1';
const U = 'turn-1';

describe('a reply, a steer and a retry', () => {
  it.each([
    ['reply', 'you replied: run the tests again'],
    ['steer', 'you added to the running turn: run the tests again'],
    ['retry', 'you retried the failed turn: run the tests again'],
  ] as const)('%s: one feed line naming what the person did, on the thread', (how, text) => {
    const { state } = fold(
      [turnStarted(T, U, T0 + 1), { type: 'thread/replied', atMs: T0 + 2, workspace: WS, threadId: T, turnId: U, how, text: 'run the tests\nagain' }],
      readyState(),
    );
    expect(selectFeed(state, { kinds: ['dispatch'] })).toEqual([expect.objectContaining({ workspace: WS, threadId: T, text })]);
  });
});

describe('archiving a thread', () => {
  const waiting = () =>
    fold([userMessage(T, U, 'fix the build', T0 + 1), turnStarted(T, U, T0 + 1), commandApproval({ requestId: 7, threadId: T, turnId: U, atMs: T0 + 2 })], readyState());

  it('removes the thread, refuses what waits on it, resolves its signals and says so in the feed', () => {
    const before = waiting().state;
    expect(openSignals(before).map((s) => s.kind)).toEqual(['needs_approval']);
    const { state, effects } = fold([{ type: 'thread/archived', atMs: T0 + 3, workspace: WS, threadId: T }], before);
    expect(state.threads[T]).toBeUndefined();
    expect(state.pendingApprovals).toEqual({});
    expect(openSignals(state)).toEqual([]);
    expect(effects).toContainEqual({ type: 'rejectServerRequest', workspace: WS, requestId: 7, message: 'the thread was archived' });
    expect(selectFeed(state).at(-1)).toMatchObject({ kind: 'dispatch', threadId: T, text: 'archived: fix the build' });
  });

  it("Codex's thread/archived notification (another client archived it) does the same; an unknown thread changes nothing", () => {
    const event = normalizeNotification(HOST, WS, { method: 'thread/archived', params: { threadId: T }, emittedAtMs: undefined, receivedAtMs: T0 + 3 });
    expect(event).toEqual({ type: 'thread/archived', atMs: T0 + 3, workspace: WS, threadId: T });
    const { state } = fold([turnCompleted(T, U, 'completed', T0 + 2), event!], waiting().state);
    expect(state.threads[T]).toBeUndefined();
    const feed = selectFeed(state).length;
    const again = fold([{ type: 'thread/archived', atMs: T0 + 4, workspace: WS, threadId: T }], state).state;
    expect(selectFeed(again)).toHaveLength(feed);
  });

  it('a thread waiting to be resumed after a reconnect is no longer resumed', () => {
    const start = readyState();
    start.workspaces[WS] = { ...start.workspaces[WS]!, resumeThreadIds: [T, 'other'] };
    const { state } = fold([turnStarted(T, U, T0 + 1), { type: 'thread/archived', atMs: T0 + 2, workspace: WS, threadId: T }], start);
    expect(state.workspaces[WS]!.resumeThreadIds).toEqual(['other']);
  });
});
