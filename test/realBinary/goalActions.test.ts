// Goal actions of a v2 plan against the real codex app-server and the mock model: the loop sends
// the prompt, sets the goal, and the action completes only when the goal does (not when a turn
// does); a goal cleared from outside or stopped at its token budget ends the action not completed.
import { afterEach, describe, expect, it } from 'vitest';
import type { CodexClient } from '../../src/core/connection/codexClient.js';
import { Supervisor } from '../../src/core/loop/supervisor.js';
import type { SupervisorState } from '../../src/core/state/model.js';
import type { PlanRunAction } from '../../src/core/state/planRuns.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';

const WAIT_MS = 30_000;
let env: RealCodexEnv | null = null;
let supervisor: Supervisor | null = null;

afterEach(async () => {
  await supervisor?.stop();
  await env?.cleanup();
  supervisor = null;
  env = null;
});

async function start(): Promise<Supervisor> {
  env = await startRealCodexEnv();
  supervisor = new Supervisor({ workspaces: [{ name: 'api', path: await env.workspace('api') }], codexBin: env.codexBin, env: env.home.env, pollIntervalMs: 200 });
  await supervisor.start();
  return supervisor;
}

const goalAction = (goal: string, extra: Record<string, unknown> = {}) => ({
  version: 2,
  id: 'g',
  actions: [{ id: 'green', workspace: 'api', prompt: `start working ${Math.random()}`, thread: 'new', goal, ...extra }],
});
const actionOf = (s: SupervisorState): PlanRunAction | undefined => s.planRuns.g?.actions[0];
const ended = (s: SupervisorState) => s.planRuns.g?.endedAtMs != null;

describe('goal actions of a v2 plan (real codex)', () => {
  it('completes only when the goal does: running through the goal turns, completed after the 3rd, the last reply and the goal\'s tokens', async () => {
    const sup = await start();
    // Every turn that completed on the action's thread, with the action's status right then.
    const seen = new Map<string, string>();
    sup.subscribe(() => {
      const s = sup.liveState();
      const action = actionOf(s);
      const thread = action?.attempts[0]?.threadId ? s.threads[action.attempts[0].threadId] : undefined;
      if (thread?.lastTurn && !seen.has(thread.lastTurn.id)) seen.set(thread.lastTurn.id, action!.status);
    });
    expect((await sup.dispatch(goalAction('the changelog is written [goal-turns 3]'))).planRun).toBe(true);
    const state = await sup.waitUntil(ended, WAIT_MS);
    const action = actionOf(state)!;
    const thread = state.threads[action.attempts[0]!.threadId!]!;
    expect(thread.goal).toMatchObject({ objective: 'the changelog is written [goal-turns 3]', status: 'complete', turns: 3 });
    expect(action).toMatchObject({ status: 'completed', error: null, finalMessage: 'Goal complete: the changelog is written [goal-turns 3]', tokens: thread.goal!.tokensUsed });
    expect(action.tokens).toBeGreaterThan(0);
    expect(action.attempts).toEqual([expect.objectContaining({ n: 1, outcome: 'completed', goalSet: true })]);
    // The prompt's turn and the goal turns: all but the last ended with the action still running.
    const statuses = [...seen.values()];
    expect(statuses.length).toBeGreaterThanOrEqual(3);
    expect(statuses.slice(0, -1).every((s) => s === 'running')).toBe(true);
    expect(statuses.at(-1)).toBe('completed');
  });

  it('a goal cleared from outside ends the action interrupted, saying so', async () => {
    const sup = await start();
    // The mock never completes this goal: Codex would go on with goal turns until it is cleared.
    await sup.dispatch(goalAction('keep going'));
    const running = await sup.waitUntil((s) => {
      const action = actionOf(s);
      const threadId = action?.attempts[0]?.threadId;
      return action?.status === 'running' && !!threadId && (s.threads[threadId]?.goal?.turns ?? 0) >= 2;
    }, WAIT_MS);
    const threadId = actionOf(running)!.attempts[0]!.threadId!;
    // Another client of the same app-server (as a person in the Codex TUI would).
    const client = await (sup as unknown as { clientOf(workspace: string): Promise<CodexClient> }).clientOf('api');
    expect(await client.threadGoalClear({ threadId, origin: 'user' })).toEqual({ cleared: true });
    const state = await sup.waitUntil(ended, WAIT_MS);
    expect(actionOf(state)).toMatchObject({
      status: 'interrupted',
      error: 'goal cleared before it was complete (by another client or a person)',
      attempts: [expect.objectContaining({ outcome: 'interrupted', failure: 'permanent' })],
    });
    expect(actionOf(state)!.finalMessage).toMatch(/^Working toward the goal/);
  });

  it('--timeout ends a goal action that never completes: its goal is cleared, so its thread stops too', async () => {
    const sup = await start();
    await sup.dispatch(goalAction('keep going until stopped'), { timeoutSec: 1 });
    const state = await sup.waitUntil(ended, WAIT_MS);
    const action = actionOf(state)!;
    expect(action).toMatchObject({ status: 'timeout', error: expect.stringMatching(/^timed out after 1s/) });
    const threadId = action.attempts[0]!.threadId!;
    await sup.waitUntil((s) => s.threads[threadId]!.goal === null && s.threads[threadId]!.currentTurnId === null, WAIT_MS);
    const last = sup.liveState().threads[threadId]!.lastTurn!.id;
    // Goal turns follow each other within ~10 ms while a goal is active: none comes any more.
    await new Promise((r) => setTimeout(r, 500));
    expect(sup.liveState().threads[threadId]!.lastTurn!.id).toBe(last);
    expect(sup.liveState().threads[threadId]!.currentTurnId).toBeNull();
  });

  it('budget.tokens is the goal\'s token budget: Codex stops the goal there and the action ends interrupted', async () => {
    const sup = await start();
    await sup.dispatch(goalAction('keep going on a budget', { budget: { tokens: 50 } }));
    const state = await sup.waitUntil(ended, WAIT_MS);
    const action = actionOf(state)!;
    expect(state.threads[action.attempts[0]!.threadId!]!.goal).toMatchObject({ status: 'budgetLimited', tokenBudget: 50 });
    expect(action).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/^goal stopped at its token budget \(\d+ of 50 tokens\)( after \d+ goal turns?)?, not complete$/) });
  });
});
