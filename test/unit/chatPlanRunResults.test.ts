// What the chat says about a v2 plan it dispatched: the run's start (ready and waiting actions),
// each action that ended or paused (not each attempt's turn), and the run's end.
import { describe, expect, it } from 'vitest';
import type { DispatchResult } from '../../src/core/api/supervisorApi.js';
import { chatUpdatesFrom, planRunStartedText } from '../../src/core/chat/results.js';
import type { PlanV2 } from '../../src/core/contract/plan.js';
import type { SupervisorEvent } from '../../src/core/state/events.js';
import type { SupervisorState } from '../../src/core/state/model.js';
import { agentMessage, turnCompleted, turnStarted } from '../support/events.js';
import { fold, HOST, readyState, WS } from '../support/replay.js';

const at = 1_795_697_000_000;
const act = (id: string, extra: Record<string, unknown> = {}) => ({ id, workspace: WS, prompt: `do ${id}`, thread: 'new', kind: 'turn' as const, ...extra });
const plan: PlanV2 = { version: 2, id: 'p', actions: [act('build', { retry: { attempts: 1, backoffSec: 1 } }), act('lint'), act('test', { after: ['build'] }), act('ship', { after: ['build', 'lint'] })] };
const result = (skipped: string[] = []): DispatchResult => ({
  planId: 'p',
  planRun: true,
  results: plan.actions.map((a) => ({ id: a.id, workspace: WS, status: skipped.includes(a.id) ? 'skipped' : 'dispatched', jobKey: `p:${a.id}`, threadId: null, turnId: null, error: null })),
});

function attempt(action: string, turnId: string, atMs: number): SupervisorEvent[] {
  return [
    { type: 'planRun/attemptStarted', atMs, planId: 'p', actionId: action },
    { type: 'job/queued', atMs, key: `p:${action}`, planId: 'p', actionId: action, workspace: WS, prompt: 'x' },
    { type: 'job/dispatched', atMs: atMs + 1, key: `p:${action}`, threadId: `t-${action}`, turnId },
    turnStarted(`t-${action}`, turnId, atMs + 2),
  ];
}

describe('the chat and a v2 plan run', () => {
  it('says how the run started: how many are ready and what the others wait on', () => {
    expect(planRunStartedText(plan, result())).toBe('plan p started: 4 actions, 2 ready, 1 waiting on build, 1 waiting on build, lint');
    expect(planRunStartedText(plan, result(['build']))).toBe('plan p started: 4 actions, 2 ready, 1 waiting on lint, 1 done before (skipped)');
  });

  it('reports each action once it ended (a retried attempt is no news), with blocked ones, and the run\'s end', () => {
    const tracked = new Map([['p', 'prop-1']]);
    let state: SupervisorState = fold([{ type: 'planRun/started', atMs: at, planId: 'p', plan, actions: plan.actions.map((a) => ({ id: a.id, workspace: WS, host: HOST })), preset: {}, deadlineAtMs: null, retryFailed: false, fresh: false }], readyState()).state;
    const step = (events: SupervisorEvent[]) => {
      const prev = state;
      // The chat compares snapshots (copies) of the state; the reducer changes its own in place.
      state = fold(events, structuredClone(prev)).state;
      return chatUpdatesFrom(prev, state, tracked).map((u) => `${u.role}: ${u.text}`);
    };
    const transient = { message: 'overloaded', codexErrorInfo: 'serverOverloaded' };
    expect(step([...attempt('build', 'u1', at + 10), turnCompleted('t-build', 'u1', 'failed', at + 20, transient)])).toEqual([]);
    expect(step([...attempt('lint', 'u2', at + 30), agentMessage('t-lint', 'u2', 'lint clean', at + 31), turnCompleted('t-lint', 'u2', 'completed', at + 40)])).toEqual([`result: ${WS} (lint) completed: lint clean`]);
    expect(step([...attempt('build', 'u3', at + 1100), turnCompleted('t-build', 'u3', 'failed', at + 1110, { message: 'too long', codexErrorInfo: 'contextWindowExceeded' })])).toEqual([
      `error: ${WS} (build) failed: too long`,
      `error: ${WS} (test) blocked: build did not complete`,
      `error: ${WS} (ship) blocked: build did not complete`,
      'supervisor: plan p ended: 1 failed, 1 completed, 2 blocked',
    ]);
    expect(chatUpdatesFrom(null, state, tracked).filter((u) => u.proposalId !== 'prop-1')).toEqual([]);
  });
});
