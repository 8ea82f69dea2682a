import { describe, expect, it } from 'vitest';
import type { GoalFacts, SupervisorEvent } from '../../../src/core/state/events.js';
import { normalizeNotification } from '../../../src/core/state/normalize.js';
import { openSignals, selectFeed } from '../../../src/core/state/selectors.js';
import { goalInProgress } from '../../../src/core/state/threadGoal.js';
import { agentMessage, dispatchedJob, threadSeen, turnCompleted, turnStarted } from '../../support/events.js';
import { fold, readyState, T0, WS } from '../../support/replay.js';

const T = 'thread-1';
const goal = (over: Partial<GoalFacts> = {}): GoalFacts => ({ objective: 'make the tests pass', status: 'active', tokensUsed: 0, tokenBudget: null, timeUsedSeconds: 0, createdAt: 1000, ...over });
const updated = (atMs: number, turnId: string | null, over: Partial<GoalFacts> = {}): SupervisorEvent => ({ type: 'thread/goalUpdated', atMs, workspace: WS, threadId: T, turnId, goal: goal(over) });
const cleared = (atMs: number): SupervisorEvent => ({ type: 'thread/goalCleared', atMs, workspace: WS, threadId: T });
/** One goal turn as Codex 0.171 sends it: started, the reply, the goal's report, completed. */
const goalTurn = (turnId: string, atMs: number, report: Partial<GoalFacts>, reply = `reply ${turnId}`): SupervisorEvent[] => [
  turnStarted(T, turnId, atMs),
  agentMessage(T, turnId, reply, atMs + 1),
  updated(atMs + 2, turnId, report),
  turnCompleted(T, turnId, 'completed', atMs + 3),
];

describe('goal mode in the state', () => {
  it('normalizes thread/goal/updated and thread/goal/cleared as 0.171 sends them (zod-checked: a goal without objective is a protocol warning)', () => {
    const params = { threadId: T, turnId: null, goal: { threadId: T, objective: 'write hello.txt', status: 'active', tokenBudget: 100000, tokensUsed: 0, timeUsedSeconds: 0, createdAt: 1796563481, updatedAt: 1796563481 } };
    expect(normalizeNotification('local', WS, { method: 'thread/goal/updated', params, emittedAtMs: T0 } as never)).toEqual({
      type: 'thread/goalUpdated',
      atMs: T0,
      workspace: WS,
      threadId: T,
      turnId: null,
      goal: { objective: 'write hello.txt', status: 'active', tokensUsed: 0, tokenBudget: 100000, timeUsedSeconds: 0, createdAt: 1796563481 },
    });
    expect(normalizeNotification('local', WS, { method: 'thread/goal/cleared', params: { threadId: T }, emittedAtMs: T0 } as never)).toEqual({ type: 'thread/goalCleared', atMs: T0, workspace: WS, threadId: T });
    const bad = normalizeNotification('local', WS, { method: 'thread/goal/updated', params: { threadId: T, turnId: null, goal: { status: 'active' } }, emittedAtMs: T0 } as never);
    expect(bad).toMatchObject({ type: 'protocol/error' });
  });

  it('keeps the goal with its usage and counts the turns since it was set; the next step reads "goal: … (turn N)"', () => {
    const { state } = fold([threadSeen(T, T0), updated(T0 + 10, null, { tokenBudget: 5000 }), ...goalTurn('g1', T0 + 20, { tokensUsed: 120, tokenBudget: 5000 }), turnStarted(T, 'g2', T0 + 30)], readyState());
    const thread = state.threads[T]!;
    expect(thread.goal).toEqual({ objective: 'make the tests pass', status: 'active', tokensUsed: 120, tokenBudget: 5000, timeUsedSeconds: 0, turns: 2, heldCompletion: true, createdAt: 1000, updatedAtMs: T0 + 22 });
    expect(thread.digest.nextStep).toBe('goal: make the tests pass (turn 2)');
    const justSet = fold([threadSeen(T, T0), updated(T0 + 10, null)], readyState()).state.threads[T]!;
    expect(justSet.digest.nextStep).toBe('goal: make the tests pass (starting)');
  });

  it('a turn that completes while the goal is active raises no "completed" and leaves the job running; the goal\'s end does both', () => {
    const events: SupervisorEvent[] = [
      threadSeen(T, T0),
      ...dispatchedJob('plan:a', T, 'g1', T0 + 1),
      updated(T0 + 5, null),
      ...goalTurn('g1', T0 + 10, { tokensUsed: 100 }),
      ...goalTurn('g2', T0 + 20, { tokensUsed: 200 }),
    ];
    const midway = fold(events, readyState());
    expect(openSignals(midway.state)).toEqual([]);
    expect(midway.effects).toEqual([]);
    expect(midway.state.jobs['plan:a']!.status).toBe('running');
    expect(selectFeed(midway.state, { workspace: WS }).filter((e) => e.kind === 'turn_completed').map((e) => e.text)).toEqual(['goal turn 1 done: reply g1', 'goal turn 2 done: reply g2']);

    const done = fold([...events, ...goalTurn('g3', T0 + 30, { tokensUsed: 300, status: 'complete' }, 'all green')], readyState());
    const signals = openSignals(done.state);
    expect(signals.map((s) => [s.kind, s.turnId, s.message])).toEqual([['completed', 'g3', 'completed: (new thread) — goal complete — all green']]);
    expect(done.state.jobs['plan:a']).toMatchObject({ status: 'completed', finalMessage: 'all green' });
    const thread = done.state.threads[T]!;
    expect(thread.goal).toMatchObject({ status: 'complete', turns: 3, heldCompletion: false, tokensUsed: 300 });
    expect(thread.digest.nextStep).toBe('idle: awaiting instructions');
    expect(goalInProgress(midway.state.threads[T]!)).toBe(true);
    expect(goalInProgress(thread)).toBe(false);
  });

  it('a goal set after the prompt\'s turn ended: the job is completed, but the thread is still in goal mode until the goal ends', () => {
    const early = fold([threadSeen(T, T0), ...dispatchedJob('plan:a', T, 'p', T0 + 1), turnStarted(T, 'p', T0 + 2), turnCompleted(T, 'p', 'completed', T0 + 3), updated(T0 + 4, null)], readyState()).state;
    expect(early.jobs['plan:a']!.status).toBe('completed');
    expect(goalInProgress(early.threads[T]!)).toBe(true);
    const ended = fold(goalTurn('g1', T0 + 10, { status: 'complete' }), early).state;
    expect(goalInProgress(ended.threads[T]!)).toBe(false);
  });

  it('a goal cleared between turns, or during a turn, ends it: the held completion is told once', () => {
    const base: SupervisorEvent[] = [threadSeen(T, T0), ...dispatchedJob('plan:a', T, 'g1', T0 + 1), updated(T0 + 5, null), ...goalTurn('g1', T0 + 10, {})];
    const idle = fold([...base, cleared(T0 + 50)], readyState()).state;
    expect(idle.threads[T]!.goal).toBeNull();
    expect(openSignals(idle).map((s) => s.message)).toEqual(['completed: (new thread) — goal cleared — reply g1']);
    expect(idle.jobs['plan:a']!.status).toBe('completed');

    const running = fold([...base, turnStarted(T, 'g2', T0 + 20), cleared(T0 + 21)], readyState()).state;
    expect(running.threads[T]!.goal).toMatchObject({ status: 'cleared' });
    expect(openSignals(running)).toEqual([]);
    const after = fold([agentMessage(T, 'g2', 'stopped', T0 + 22), turnCompleted(T, 'g2', 'completed', T0 + 23)], running).state;
    expect(after.threads[T]!.goal).toBeNull();
    expect(openSignals(after).map((s) => s.message)).toEqual(['completed: (new thread) — goal cleared — stopped']);
    expect(after.jobs['plan:a']!.status).toBe('completed');
    expect(after.threads[T]!.digest.nextStep).toBe('idle: awaiting instructions');
  });

  it('a goal that stops at its budget, or is blocked, says so in the next step; a failed goal turn fails the job', () => {
    const budget = fold([threadSeen(T, T0), updated(T0 + 1, null), ...goalTurn('g1', T0 + 10, { status: 'budgetLimited', tokensUsed: 5001, tokenBudget: 5000 })], readyState()).state;
    expect(budget.threads[T]!.digest.nextStep).toBe('goal stopped at its token budget: make the tests pass');
    expect(openSignals(budget).map((s) => s.kind)).toEqual(['completed']);
    const blocked = fold([threadSeen(T, T0), updated(T0 + 1, null, { status: 'blocked' })], readyState()).state;
    expect(blocked.threads[T]!.digest.nextStep).toBe('goal blocked: make the tests pass');

    const failed = fold(
      [threadSeen(T, T0), ...dispatchedJob('plan:a', T, 'g1', T0 + 1), updated(T0 + 5, null), ...goalTurn('g1', T0 + 10, {}), turnStarted(T, 'g2', T0 + 20), turnCompleted(T, 'g2', 'failed', T0 + 21, { message: 'HTTP 500' })],
      readyState(),
    ).state;
    expect(failed.jobs['plan:a']).toMatchObject({ status: 'failed', error: 'HTTP 500' });
    expect(openSignals(failed).map((s) => s.kind)).toEqual(['failed']);
  });

  it('a new goal (another createdAt) starts counting again; a plain thread is unaffected', () => {
    const state = fold([threadSeen(T, T0), updated(T0 + 1, null), ...goalTurn('g1', T0 + 10, { status: 'complete' }), updated(T0 + 40, null, { objective: 'next', createdAt: 2000 }), turnStarted(T, 'n1', T0 + 41)], readyState()).state;
    expect(state.threads[T]!.goal).toMatchObject({ objective: 'next', turns: 1, heldCompletion: false });
    expect(state.threads[T]!.digest.nextStep).toBe('goal: next (turn 1)');
    const plain = fold([threadSeen(T, T0), turnStarted(T, 'p', T0 + 1), turnCompleted(T, 'p', 'completed', T0 + 2)], readyState()).state;
    expect(plain.threads[T]!.goal).toBeNull();
    expect(openSignals(plain).map((s) => s.kind)).toEqual(['completed']);
  });
});
