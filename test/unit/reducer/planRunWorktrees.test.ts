// Worktree actions of a v2 plan run in the (pure) reducer: the worktree is recorded when made,
// a run ends only once each ended worktree action's diffstat is known, and it persists.
import { describe, expect, it } from 'vitest';
import type { PlanV2 } from '../../../src/core/contract/plan.js';
import type { SupervisorEvent } from '../../../src/core/state/events.js';
import type { SupervisorState } from '../../../src/core/state/model.js';
import { persistedPart } from '../../../src/core/persistence/stateStore.js';
import { PersistedStateSchema } from '../../../src/core/persistence/stateSchema.js';
import { fold, HOST, readyState, WS } from '../../support/replay.js';
import { turnCompleted, turnStarted } from '../../support/events.js';

const at = 1_795_697_000_000;
const act = (id: string, extra: Record<string, unknown> = {}) => ({ id, workspace: WS, prompt: `do ${id}`, thread: 'new' as const, kind: 'turn' as const, ...extra });

function started(actions: PlanV2['actions']): SupervisorState {
  const plan: PlanV2 = { version: 2, actions };
  return fold(
    [{ type: 'planRun/started', atMs: at, planId: 'p', plan, actions: actions.map((a) => ({ id: a.id, workspace: WS, host: HOST })), preset: {}, deadlineAtMs: null, retryFailed: false, fresh: false }],
    readyState(),
  ).state;
}

const ready = (atMs: number): SupervisorEvent => ({ type: 'planRun/worktreeReady', atMs, planId: 'p', actionId: 'w', path: '/h/worktrees/p/w', cwd: '/h/worktrees/p/w/sub', branch: 'cms/p/w', baseCommit: 'abc123', notes: ['the workspace has uncommitted changes'] });

function sent(atMs: number): SupervisorEvent[] {
  return [
    { type: 'planRun/attemptStarted', atMs, planId: 'p', actionId: 'w' },
    ready(atMs + 1),
    { type: 'job/queued', atMs: atMs + 2, key: 'p:w', planId: 'p', actionId: 'w', workspace: WS, prompt: 'x' },
    { type: 'job/dispatched', atMs: atMs + 3, key: 'p:w', threadId: 't-w', turnId: 'u1' },
    turnStarted('t-w', 'u1', atMs + 4),
  ];
}

const action = (state: SupervisorState) => state.planRuns.p!.actions.find((a) => a.id === 'w')!;

describe('worktree actions of plan runs in the reducer', () => {
  it('records the worktree when made (its notes in the feed), and ends the run only once the diffstat is known', () => {
    const state = started([act('w', { worktree: true })]);
    fold(sent(at + 10), state);
    expect(action(state)).toMatchObject({ status: 'running', worktree: '/h/worktrees/p/w', worktreeCwd: '/h/worktrees/p/w/sub', branch: 'cms/p/w', baseCommit: 'abc123', diffstat: null });
    expect(state.activityFeed.map((f) => f.text)).toContain('w: the workspace has uncommitted changes');
    fold([turnCompleted('t-w', 'u1', 'completed', at + 20)], state);
    expect(action(state).status).toBe('completed');
    expect(state.planRuns.p!.endedAtMs).toBeNull();
    fold([{ type: 'planRun/diffstat', atMs: at + 25, planId: 'p', actionId: 'w', diffstat: '1 file changed, 2 insertions(+), 0 deletions(-)' }], state);
    expect(action(state).diffstat).toBe('1 file changed, 2 insertions(+), 0 deletions(-)');
    expect(state.planRuns.p!.endedAtMs).toBe(at + 25);
  });

  it('ignores a diffstat of an action still running, and a worktree of an action not running', () => {
    const state = started([act('w', { worktree: true })]);
    fold([ready(at + 5)], state);
    expect(action(state).worktree).toBeNull();
    fold(sent(at + 10), state);
    fold([{ type: 'planRun/diffstat', atMs: at + 15, planId: 'p', actionId: 'w', diffstat: 'no changes' }], state);
    expect(action(state).diffstat).toBeNull();
  });

  it('a run with a worktree persists and reads back; a state saved before worktrees reads with none', () => {
    const state = started([act('w', { worktree: true })]);
    fold(sent(at + 10), state);
    const saved = JSON.parse(JSON.stringify(persistedPart(state)));
    expect(PersistedStateSchema.parse(saved).planRuns).toEqual(state.planRuns);
    for (const a of saved.planRuns.p.actions) {
      delete a.worktreeCwd;
      delete a.baseCommit;
    }
    expect(PersistedStateSchema.parse(saved).planRuns.p!.actions[0]).toMatchObject({ worktree: '/h/worktrees/p/w', worktreeCwd: null, baseCommit: null });
  });
});
