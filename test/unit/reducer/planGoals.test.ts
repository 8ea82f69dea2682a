// Goal actions of a v2 plan run in the (pure) reducer: the action ends when its goal does, not
// when a turn does, whichever comes first of the prompt's turn and the goal's set; how each end
// of a goal reads.
import { describe, expect, it } from 'vitest';
import type { PlanV2 } from '../../../src/core/contract/plan.js';
import type { GoalFacts, SupervisorEvent } from '../../../src/core/state/events.js';
import type { SupervisorState } from '../../../src/core/state/model.js';
import { PersistedStateSchema } from '../../../src/core/persistence/stateSchema.js';
import { persistedPart } from '../../../src/core/persistence/stateStore.js';
import { agentMessage, turnCompleted, turnStarted } from '../../support/events.js';
import { fold, HOST, readyState, WS } from '../../support/replay.js';

const at = 1_795_697_000_000;
const T = 't-g';

function started(extra: Record<string, unknown> = {}): SupervisorState {
  const plan: PlanV2 = { version: 2, actions: [{ id: 'g', workspace: WS, prompt: 'start', thread: 'new', kind: 'turn', goal: 'tests pass', ...extra }] };
  return fold([{ type: 'planRun/started', atMs: at, planId: 'p', plan, actions: [{ id: 'g', workspace: WS, host: HOST }], preset: {}, deadlineAtMs: null, retryFailed: false, fresh: false }], readyState()).state;
}

const goal = (over: Partial<GoalFacts> = {}): GoalFacts => ({ objective: 'tests pass', status: 'active', tokensUsed: 0, tokenBudget: null, timeUsedSeconds: 0, createdAt: 1000, ...over });
const updated = (atMs: number, turnId: string | null, over: Partial<GoalFacts> = {}): SupervisorEvent => ({ type: 'thread/goalUpdated', atMs, workspace: WS, threadId: T, turnId, goal: goal(over) });
/** The prompt's turn `u0`, sent (its turn/start answered). */
const sent = (atMs: number): SupervisorEvent[] => [
  { type: 'planRun/attemptStarted', atMs, planId: 'p', actionId: 'g' },
  { type: 'job/queued', atMs, key: 'p:g', planId: 'p', actionId: 'g', workspace: WS, prompt: 'start' },
  { type: 'job/dispatched', atMs: atMs + 1, key: 'p:g', threadId: T, turnId: 'u0' },
  turnStarted(T, 'u0', atMs + 2),
];
/** What the loop emits once `thread/goal/set` answered. */
const goalSet = (atMs: number): SupervisorEvent[] => [updated(atMs, null), { type: 'planRun/goalSet', atMs, planId: 'p', actionId: 'g', threadId: T, error: null }];
const promptDone = (atMs: number): SupervisorEvent[] => [agentMessage(T, 'u0', 'on it', atMs), turnCompleted(T, 'u0', 'completed', atMs + 1)];
/** A goal turn Codex starts by itself: its reply, the goal's report, completed. */
const goalTurn = (turnId: string, atMs: number, report: Partial<GoalFacts>): SupervisorEvent[] => [
  turnStarted(T, turnId, atMs),
  agentMessage(T, turnId, `reply ${turnId}`, atMs + 1),
  updated(atMs + 2, turnId, report),
  turnCompleted(T, turnId, 'completed', atMs + 3),
];
const action = (s: SupervisorState) => s.planRuns.p!.actions[0]!;

describe('goal actions in the reducer', () => {
  it.each([
    ['the prompt\'s turn ends before the goal is set', [...sent(at + 10), ...promptDone(at + 20), ...goalSet(at + 30)]],
    ['the goal is set while the prompt\'s turn runs', [...sent(at + 10), ...goalSet(at + 20), ...promptDone(at + 30)]],
  ])('%s: running through the goal turns, completed with the goal, the last reply and the goal\'s tokens', (_, opening) => {
    const state = started();
    fold(opening, state);
    expect(action(state)).toMatchObject({ status: 'running', attempts: [{ outcome: 'running', goalSet: true, turnId: 'u0' }] });
    fold(goalTurn('u1', at + 100, { tokensUsed: 40 }), state);
    expect(action(state)).toMatchObject({ status: 'running', tokens: 40 });
    fold(goalTurn('u2', at + 200, { tokensUsed: 90, status: 'complete' }), state);
    expect(action(state)).toMatchObject({ status: 'completed', endedAtMs: at + 203, finalMessage: 'reply u2', tokens: 90, error: null, attempts: [{ outcome: 'completed', endedAtMs: at + 203 }] });
    expect(state.planRuns.p!.endedAtMs).toBe(at + 203);
  });

  it('a completed prompt turn without a goal set yet does not end the action', () => {
    const state = started();
    fold([...sent(at + 10), ...promptDone(at + 20)], state);
    expect(action(state)).toMatchObject({ status: 'running', attempts: [{ outcome: 'running', goalSet: false }] });
  });

  it.each([
    ['blocked', { status: 'failed', error: 'goal blocked after 1 goal turn: the model reported it cannot complete it' }],
    ['budgetLimited', { status: 'interrupted', error: 'goal stopped at its token budget (90 of 80 tokens) after 1 goal turn, not complete' }],
    ['paused', { status: 'interrupted', error: 'goal paused after 1 goal turn, not complete' }],
    ['usageLimited', { status: 'paused', error: 'goal stopped by the usage limit after 1 goal turn, not complete' }],
  ] as const)('a goal that ends %s ends the action %o', (goalStatus, expected) => {
    const state = started();
    fold([...sent(at + 10), ...goalSet(at + 20), ...promptDone(at + 30), ...goalTurn('u1', at + 100, { tokensUsed: 90, tokenBudget: 80, status: goalStatus })], state);
    expect(action(state)).toMatchObject({ ...expected, finalMessage: 'reply u1' });
  });

  it('a goal cleared between turns ends the action interrupted; so does one cleared during a goal turn, once that turn ends', () => {
    const between = started();
    fold([...sent(at + 10), ...goalSet(at + 20), ...promptDone(at + 30), ...goalTurn('u1', at + 100, { tokensUsed: 5 }), { type: 'thread/goalCleared', atMs: at + 110, workspace: WS, threadId: T }], between);
    expect(action(between)).toMatchObject({ status: 'interrupted', endedAtMs: at + 110, error: 'goal cleared before it was complete (by another client or a person)', attempts: [{ outcome: 'interrupted', failure: 'permanent' }] });

    const during = started();
    fold([...sent(at + 10), ...goalSet(at + 20), ...promptDone(at + 30), ...goalTurn('u1', at + 100, { tokensUsed: 5 }), turnStarted(T, 'u2', at + 200), { type: 'thread/goalCleared', atMs: at + 210, workspace: WS, threadId: T }], during);
    expect(action(during).status).toBe('running');
    fold([turnCompleted(T, 'u2', 'completed', at + 220)], during);
    expect(action(during)).toMatchObject({ status: 'interrupted', endedAtMs: at + 220 });
  });

  it('a goal that could not be set fails the action, saying why', () => {
    const state = started();
    fold([...sent(at + 10), { type: 'planRun/goalSet', atMs: at + 20, planId: 'p', actionId: 'g', threadId: T, error: 'ephemeral threads do not support goals' }], state);
    expect(action(state)).toMatchObject({ status: 'failed', error: 'could not set its goal: ephemeral threads do not support goals', attempts: [{ outcome: 'failed', failure: 'permanent' }] });
    // The prompt's turn ending later changes nothing.
    fold(promptDone(at + 30), state);
    expect(action(state).status).toBe('failed');
  });

  it('a state saved before goal actions (attempts without goalSet) still loads', () => {
    const state = started({ goal: undefined });
    fold(sent(at + 10), state);
    const saved = JSON.parse(JSON.stringify(persistedPart(state))) as { planRuns: Record<string, { actions: { attempts: Record<string, unknown>[] }[] }> };
    delete saved.planRuns.p!.actions[0]!.attempts[0]!.goalSet;
    const loaded = PersistedStateSchema.parse(saved);
    expect(loaded.planRuns.p!.actions[0]!.attempts[0]!.goalSet).toBe(false);
  });
});
