import { describe, expect, it } from 'vitest';
import { commandApproval, progress, threadSeen, turnStarted, userMessage } from '../../support/events.js';
import { fold, readyEvents, STALL_AFTER_MS, T0 } from '../../support/replay.js';
import type { SupervisorEvent } from '../../../src/core/state/events.js';
import { initialState } from '../../../src/core/state/model.js';
import { openSignals } from '../../../src/core/state/selectors.js';

describe('reducer follow-ups', () => {
  it('a thread that started without a preview is titled by its first prompt', () => {
    const { state } = fold([...readyEvents(), threadSeen('t1', T0 + 1), turnStarted('t1', 'u1', T0 + 2), userMessage('t1', 'u1', 'Fix the flaky test', T0 + 3)]);
    expect(state.threads.t1!.title).toBe('Fix the flaky test');
  });

  it('a job dispatched while its turn already waits on an approval is waiting_for_user', () => {
    const { state } = fold([
      ...readyEvents(),
      threadSeen('t1', T0 + 1),
      { type: 'job/queued', atMs: T0 + 2, key: 'p:a', planId: 'p', actionId: 'a', workspace: 'ws1', prompt: 'x' },
      turnStarted('t1', 'u1', T0 + 3),
      commandApproval({ requestId: 0, threadId: 't1', turnId: 'u1', atMs: T0 + 4 }),
      { type: 'job/dispatched', atMs: T0 + 5, key: 'p:a', threadId: 't1', turnId: 'u1' },
    ]);
    expect(state.jobs['p:a']!.status).toBe('waiting_for_user');
  });

  it('thread/closed ends a stall', () => {
    const { state } = fold([
      ...readyEvents(),
      threadSeen('t1', T0 + 1),
      turnStarted('t1', 'u1', T0 + 2),
      progress('t1', 'u1', T0 + 3),
      { type: 'health/tick', atMs: T0 + 3 + STALL_AFTER_MS },
      { type: 'thread/closed', atMs: T0 + 4 + STALL_AFTER_MS, workspace: 'ws1', threadId: 't1' },
    ]);
    expect(openSignals(state).filter((s) => s.kind === 'stalled')).toEqual([]);
    expect(state.threads.t1!.digest.blockers).toEqual([]);
  });

  it('the approval signal shows the command without terminal escapes', () => {
    const { state } = fold([
      ...readyEvents(),
      turnStarted('t1', 'u1', T0 + 1),
      commandApproval({ requestId: 1, threadId: 't1', turnId: 'u1', atMs: T0 + 2, command: "/bin/bash -lc 'echo \u001b]0;pwned\u0007hi'" }),
    ]);
    const signal = openSignals(state).find((s) => s.kind === 'needs_approval')!;
    expect(signal.context.command).toBe("/bin/bash -lc 'echo hi'");
  });
});

describe('recent items', () => {
  const command = (id: string, status: 'inProgress' | 'completed', atMs: number): SupervisorEvent => ({
    type: status === 'inProgress' ? 'item/started' : 'item/completed',
    atMs,
    workspace: 'ws1',
    threadId: 't1',
    turnId: 'u1',
    item: { type: 'commandExecution', id, command: `echo ${id}`, status, ...(status === 'completed' ? { exitCode: 0 } : {}) },
  });

  it('an item that completes after many others replaces its started entry', () => {
    const events = [...readyEvents(), threadSeen('t1', T0 + 1), turnStarted('t1', 'u1', T0 + 2), command('first', 'inProgress', T0 + 3)];
    for (let i = 0; i < 20; i++) events.push(command(`other${i}`, 'inProgress', T0 + 4 + i));
    events.push(command('first', 'completed', T0 + 30));
    const { state } = fold(events);
    const first = state.threads.t1!.recentItems.filter((i) => i.id === 'first');
    expect(first).toEqual([expect.objectContaining({ status: 'completed', text: 'echo first (exit 0)' })]);
    expect(state.threads.t1!.recentItems[0]!.id).toBe('first');
  });

  it('a re-sent item/started does not list the item twice', () => {
    const { state } = fold([
      ...readyEvents(),
      threadSeen('t1', T0 + 1),
      turnStarted('t1', 'u1', T0 + 2),
      command('c1', 'inProgress', T0 + 3),
      command('c1', 'inProgress', T0 + 4),
    ]);
    expect(state.threads.t1!.recentItems.map((i) => i.id)).toEqual(['c1']);
  });
});

describe('bounded history', () => {
  it('keeps every open signal and only the newest resolved ones', async () => {
    const { RESOLVED_SIGNALS_KEPT } = await import('../../../src/core/state/signals.js');
    const events = [...readyEvents()];
    // Each turn completes (a signal) and the next turn on the thread resolves it.
    for (let i = 0; i < RESOLVED_SIGNALS_KEPT * 2; i++) {
      events.push(turnStarted('t1', `u${i}`, T0 + 10 * i + 1));
      events.push({ type: 'turn/completed', atMs: T0 + 10 * i + 2, workspace: 'ws1', threadId: 't1', turnId: `u${i}`, status: 'completed', error: null });
    }
    const { state } = fold(events);
    const all = Object.values(state.signals);
    expect(all.length).toBeLessThanOrEqual(RESOLVED_SIGNALS_KEPT * 1.25 + 1);
    expect(all.filter((s) => s.resolvedAtMs === null)).toHaveLength(1);
    expect(openSignals(state)[0]!.turnId).toBe(`u${RESOLVED_SIGNALS_KEPT * 2 - 1}`);
    // The newest resolved ones are the ones kept.
    expect(state.signals[`s${RESOLVED_SIGNALS_KEPT * 2 - 1}`]?.resolvedAtMs).not.toBeNull();
  });

  it('an old signal that stayed open is dropped once it is resolved, without a restart', async () => {
    const { RESOLVED_SIGNALS_KEPT } = await import('../../../src/core/state/signals.js');
    const completed = (threadId: string, turnId: string, atMs: number): SupervisorEvent => ({
      type: 'turn/completed',
      atMs,
      workspace: 'ws1',
      threadId,
      turnId,
      status: 'completed',
      error: null,
    });
    const churn = (from: number, count: number): SupervisorEvent[] =>
      Array.from({ length: count }, (_, i) => [turnStarted('t1', `u${from + i}`, T0 + 10 * (from + i) + 1), completed('t1', `u${from + i}`, T0 + 10 * (from + i) + 2)]).flat();
    const { state } = fold([...readyEvents(), turnStarted('old', 'o1', T0), completed('old', 'o1', T0), ...churn(0, RESOLVED_SIGNALS_KEPT * 2)]);
    const old = openSignals(state).find((s) => s.threadId === 'old')!;
    expect(old.id).toBe('s1');
    // A new turn on the old thread resolves its signal; the raises after it prune it.
    fold([turnStarted('old', 'o2', T0 + 100_000), ...churn(RESOLVED_SIGNALS_KEPT * 2, 200)], state);
    expect(state.signals.s1).toBeUndefined();
    expect(Object.keys(state.signals).length).toBeLessThanOrEqual(RESOLVED_SIGNALS_KEPT * 1.25 + 1);
  });

  it('a state read from disk with older resolved signals is pruned by the same rule on restore', async () => {
    const { RESOLVED_SIGNALS_KEPT } = await import('../../../src/core/state/signals.js');
    const start = initialState();
    const total = RESOLVED_SIGNALS_KEPT + 300;
    for (let n = 1; n <= total; n++) {
      const open = n === 5;
      start.signals[`s${n}`] = {
        id: `s${n}`,
        key: `completed:t${n}`,
        kind: 'completed',
        workspace: 'ws1',
        threadId: `t${n}`,
        turnId: null,
        message: 'completed',
        context: {},
        createdAtMs: T0,
        resolvedAtMs: open ? null : T0 + 1,
        acknowledgedAtMs: null,
      };
    }
    start.nextSignalNumber = total + 1;
    const { state } = fold([{ type: 'supervisor/restored', atMs: T0 + 2 }], start);
    const ids = Object.keys(state.signals);
    // The open one, and the resolved ones among the newest RESOLVED_SIGNALS_KEPT raised.
    expect(ids).toHaveLength(RESOLVED_SIGNALS_KEPT + 1);
    expect(ids).toContain('s5');
    expect(ids).not.toContain('s6');
    expect(ids).toContain(`s${total}`);
    // Open means unresolved in the record (nothing else is stored): a new turn on t5 resolves it.
    fold([turnStarted('t5', 'u5', T0 + 3, 'ws1')], state);
    expect(state.signals.s5!.resolvedAtMs).toBe(T0 + 3);
  });
});
