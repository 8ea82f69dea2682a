// How a v2 plan run follows its turns in the (pure) reducer: attempts, retries with backoff,
// quota pauses with the host's reset time, blocked dependents, budget and deadline stops.
import { describe, expect, it } from 'vitest';
import type { PlanV2 } from '../../../src/core/contract/plan.js';
import type { SupervisorEvent } from '../../../src/core/state/events.js';
import type { SupervisorState } from '../../../src/core/state/model.js';
import { persistedPart } from '../../../src/core/persistence/stateStore.js';
import { PersistedStateSchema } from '../../../src/core/persistence/stateSchema.js';
import { fold, HOST, readyEvents, readyState, WS } from '../../support/replay.js';

const readyEventsAgain = (atMs: number) => readyEvents(WS, atMs).slice(2);
import { turnCompleted, turnStarted } from '../../support/events.js';

const at = 1_795_697_000_000;

function started(plan: Omit<PlanV2, 'version'>): SupervisorState {
  const full: PlanV2 = { version: 2, ...plan };
  return fold(
    [{ type: 'planRun/started', atMs: at, planId: 'p', plan: full, actions: full.actions.map((a) => ({ id: a.id, workspace: WS, host: HOST })), preset: {}, deadlineAtMs: null, retryFailed: false, fresh: false }],
    readyState(),
  ).state;
}

/** An attempt of `action` sent as turn `turnId` on thread `t-<action>`. */
function attempt(action: string, turnId: string, atMs: number, threadId = `t-${action}`): SupervisorEvent[] {
  return [
    { type: 'planRun/attemptStarted', atMs, planId: 'p', actionId: action },
    { type: 'job/queued', atMs, key: `p:${action}`, planId: 'p', actionId: action, workspace: WS, prompt: 'x' },
    { type: 'job/dispatched', atMs: atMs + 1, key: `p:${action}`, threadId, turnId },
    turnStarted(threadId, turnId, atMs + 2),
  ];
}

const action = (state: SupervisorState, id: string) => state.planRuns.p!.actions.find((a) => a.id === id)!;
const act = (id: string, extra: Record<string, unknown> = {}) => ({ id, workspace: WS, prompt: `do ${id}`, thread: 'latest', kind: 'turn' as const, ...extra });

describe('plan runs in the reducer', () => {
  it('a completed attempt completes the action; its dependent stops waiting on it; the run ends when all did', () => {
    const state = started({ actions: [act('a'), act('b', { after: ['a'] })] });
    expect(action(state, 'b')).toMatchObject({ status: 'waiting', waitingOn: ['a'] });
    fold([...attempt('a', 'u1', at + 10), turnCompleted('t-a', 'u1', 'completed', at + 20)], state);
    expect(action(state, 'a')).toMatchObject({ status: 'completed', startedAtMs: at + 10, endedAtMs: at + 20, attempts: [{ n: 1, outcome: 'completed', turnId: 'u1', threadId: 't-a' }] });
    expect(action(state, 'b').waitingOn).toEqual([]);
    fold([...attempt('b', 'u2', at + 30), turnCompleted('t-b', 'u2', 'completed', at + 40)], state);
    expect(state.planRuns.p!.endedAtMs).toBe(at + 40);
  });

  it('a transient failure within the retry policy waits out a doubling backoff; past it, the action fails', () => {
    const state = started({ actions: [act('a', { retry: { attempts: 1, backoffSec: 10 } })] });
    fold([...attempt('a', 'u1', at + 10), turnCompleted('t-a', 'u1', 'failed', at + 20, { message: 'boom', codexErrorInfo: 'internalServerError' })], state);
    expect(action(state, 'a')).toMatchObject({ status: 'waiting', resumesAtMs: at + 20 + 10_000, attempts: [{ outcome: 'failed', failure: 'transient' }] });
    fold([...attempt('a', 'u2', at + 10_030), turnCompleted('t-a', 'u2', 'failed', at + 10_040, { message: 'boom', codexErrorInfo: 'internalServerError' })], state);
    expect(action(state, 'a')).toMatchObject({ status: 'failed', error: 'boom', resumesAtMs: null });
    expect(action(state, 'a').attempts).toHaveLength(2);
  });

  it('a permanent failure is not retried and blocks its dependents', () => {
    const state = started({ actions: [act('a', { retry: { attempts: 3, backoffSec: 1 } }), act('b', { after: ['a'] }), act('c', { after: ['b'] })] });
    fold([...attempt('a', 'u1', at + 10), turnCompleted('t-a', 'u1', 'failed', at + 20, { message: 'too long', codexErrorInfo: 'contextWindowExceeded' })], state);
    expect(action(state, 'a')).toMatchObject({ status: 'failed', attempts: [{ failure: 'permanent' }] });
    expect(action(state, 'b')).toMatchObject({ status: 'blocked', error: 'blocked: a did not complete' });
    expect(action(state, 'c')).toMatchObject({ status: 'blocked', error: 'blocked: b did not complete' });
    expect(state.planRuns.p!.endedAtMs).toBe(at + 20);
  });

  it('the usage limit pauses the action until the host\'s exhausted window resets (a default pause without one)', () => {
    const state = started({ actions: [act('a'), act('b')] });
    fold(
      [
        { type: 'host/rateLimits', atMs: at + 5, host: HOST, name: null, primary: { usedPercent: 100, windowMins: 300, resetsAtMs: at + 90_000 }, secondary: null, reached: null },
        ...attempt('a', 'u1', at + 10),
        turnCompleted('t-a', 'u1', 'failed', at + 20, { message: 'usage limit', codexErrorInfo: 'usageLimitExceeded' }),
      ],
      state,
    );
    expect(action(state, 'a')).toMatchObject({ status: 'paused', resumesAtMs: at + 90_000, pauseReason: 'quota', attempts: [{ failure: 'quota' }] });
    const noReset = started({ actions: [act('a')] });
    fold([...attempt('a', 'u1', at + 10), turnCompleted('t-a', 'u1', 'failed', at + 20, { message: 'usage limit', codexErrorInfo: 'usageLimitExceeded' })], noReset);
    expect(action(noReset, 'a')).toMatchObject({ status: 'paused', resumesAtMs: at + 20 + 15 * 60_000, pauseReason: expect.stringMatching(/no reset time reported/) });
  });

  it('a turn lost with its app-server is transient: retried under the policy', () => {
    const state = started({ actions: [act('a', { retry: { attempts: 1, backoffSec: 0 } })] });
    fold([...attempt('a', 'u1', at + 10), { type: 'connection/disconnected', atMs: at + 20, host: HOST, message: 'exited', stderrTail: [], exit: 'crashed' } as SupervisorEvent], state);
    expect(action(state, 'a')).toMatchObject({ status: 'waiting', attempts: [{ outcome: 'interrupted', failure: 'transient' }] });
  });

  it('a stop asked by the loop (budget) ends the interrupted turn with its reason; a deadline ends waiting actions at once', () => {
    const state = started({ actions: [act('a', { budget: { tokens: 10 } }), act('b', { after: ['a'] })] });
    fold(
      [
        ...attempt('a', 'u1', at + 10),
        { type: 'planRun/stopping', atMs: at + 15, planId: 'p', actionId: 'a', status: 'interrupted', message: 'over its budget of 10 tokens (used 120); the turn was interrupted' },
        { type: 'planRun/stopping', atMs: at + 15, planId: 'p', actionId: 'b', status: 'timeout', message: 'timed out after 1s before it started' },
        turnCompleted('t-a', 'u1', 'interrupted', at + 20),
      ],
      state,
    );
    expect(action(state, 'a')).toMatchObject({ status: 'interrupted', error: 'over its budget of 10 tokens (used 120); the turn was interrupted' });
    expect(action(state, 'b')).toMatchObject({ status: 'timeout', error: 'timed out after 1s before it started' });
  });

  it('a run persists and reads back', () => {
    const state = started({ concurrency: 2, actions: [act('a', { retry: { attempts: 1, backoffSec: 5 } })] });
    fold(attempt('a', 'u1', at + 10), state);
    const parsed = PersistedStateSchema.parse(JSON.parse(JSON.stringify(persistedPart(state))));
    expect(parsed.planRuns).toEqual(state.planRuns);
  });
});

describe('plan runs and late news of an earlier attempt', () => {
  it("an earlier run's turn ending late (another thread) does not end the attempt now running", () => {
    const state = started({ actions: [act('a', { retry: { attempts: 1, backoffSec: 0 } })] });
    fold([...attempt('a', 'u1', at + 10), { type: 'connection/disconnected', atMs: at + 20, host: HOST, message: 'exited', stderrTail: [], exit: 'crashed' } as SupervisorEvent], state);
    fold([...readyEventsAgain(at + 25), ...attempt('a', 'u2', at + 30, 't-new')], state);
    fold([turnCompleted('t-a', 'u1', 'completed', at + 40)], state);
    expect(action(state, 'a')).toMatchObject({ status: 'running', attempts: [{ outcome: 'interrupted' }, { outcome: 'running', turnId: 'u2' }] });
  });

  it('dispatching an ended run again changes nothing without --retry-failed', () => {
    const plan = { actions: [act('a')] };
    const state = started(plan);
    fold([...attempt('a', 'u1', at + 10), turnCompleted('t-a', 'u1', 'completed', at + 20)], state);
    const feed = state.activityFeed.length;
    const full: PlanV2 = { version: 2, ...plan };
    fold([{ type: 'planRun/started', atMs: at + 50, planId: 'p', plan: full, actions: [{ id: 'a', workspace: WS, host: HOST }], preset: {}, deadlineAtMs: null, retryFailed: false, fresh: false }], state);
    expect(state.planRuns.p!.endedAtMs).toBe(at + 20);
    expect(state.activityFeed.length).toBe(feed);
  });
});

describe('plan runs restored', () => {
  it('an attempt that was still being sent when the loop stopped is lost: retried under the policy, else interrupted', () => {
    const retried = started({ actions: [act('a', { retry: { attempts: 1, backoffSec: 0 } }), act('b')] });
    fold(
      [
        { type: 'planRun/attemptStarted', atMs: at + 10, planId: 'p', actionId: 'a' },
        { type: 'planRun/attemptStarted', atMs: at + 10, planId: 'p', actionId: 'b' },
        { type: 'planRun/attemptLost', atMs: at + 20, planId: 'p', actionId: 'a', error: 'it was being sent when the previous cm-supervisor stopped' },
        { type: 'planRun/attemptLost', atMs: at + 20, planId: 'p', actionId: 'b', error: 'it was being sent when the previous cm-supervisor stopped' },
      ],
      retried,
    );
    expect(action(retried, 'a')).toMatchObject({ status: 'waiting', attempts: [{ outcome: 'interrupted', failure: 'transient' }] });
    expect(action(retried, 'b')).toMatchObject({ status: 'interrupted', error: 'it was being sent when the previous cm-supervisor stopped' });
  });
});

describe('plan runs kept', () => {
  it(`keeps the newest ended runs only (a re-run of a dropped one is judged by the ledger)`, async () => {
    const { MAX_ENDED_RUNS } = await import('../../../src/core/state/reducePlanRuns.js');
    const state = readyState();
    for (let i = 0; i <= MAX_ENDED_RUNS + 1; i++) {
      const plan: PlanV2 = { version: 2, actions: [act('a')] };
      const planId = `p${i}`;
      const t = at + i * 100;
      fold(
        [
          { type: 'planRun/started', atMs: t, planId, plan, actions: [{ id: 'a', workspace: WS, host: HOST }], preset: { a: { status: 'skipped', error: null } }, deadlineAtMs: null, retryFailed: false, fresh: false },
        ],
        state,
      );
    }
    expect(Object.keys(state.planRuns)).toHaveLength(MAX_ENDED_RUNS);
    expect(state.planRuns.p0).toBeUndefined();
    expect(state.planRuns.p1).toBeUndefined();
    expect(state.planRuns[`p${MAX_ENDED_RUNS + 1}`]).toBeDefined();
  });
});
