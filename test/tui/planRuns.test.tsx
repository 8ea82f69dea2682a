import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { PlanV2 } from '../../src/core/contract/plan.js';
import type { SupervisorEvent } from '../../src/core/state/events.js';
import { turnCompleted, turnStarted } from '../support/events.js';
import { FakeApi } from '../support/fakeApi.js';
import { renderApp } from '../support/renderApp.js';
import { HOST, readyState, T0, WS } from '../support/replay.js';

afterEach(() => cleanup());

const act = (id: string, extra: Record<string, unknown> = {}) => ({ id, workspace: WS, prompt: `do ${id}`, thread: 'latest', kind: 'turn' as const, ...extra });
const plan: PlanV2 = {
  version: 2,
  id: 'rel',
  actions: [act('build', { retry: { attempts: 2, backoffSec: 300 } }), act('test', { after: ['build'] }), act('docs'), act('ship', { after: ['test', 'docs'] })],
};

function attempt(action: string, turnId: string, atMs: number): SupervisorEvent[] {
  const threadId = `t-${action}`;
  return [
    { type: 'planRun/attemptStarted', atMs, planId: 'rel', actionId: action },
    { type: 'job/queued', atMs, key: `rel:${action}`, planId: 'rel', actionId: action, workspace: WS, prompt: `do ${action}` },
    { type: 'job/dispatched', atMs: atMs + 1, key: `rel:${action}`, threadId, turnId },
    { type: 'thread/seen', atMs, workspace: WS, thread: { id: threadId, title: `do ${action}`, cwd: '/work/ws1', status: { type: 'idle' } } },
    turnStarted(threadId, turnId, atMs + 2),
  ];
}

/** build failed once (transient) and waits 5 minutes to retry; docs completed; test and ship wait on their dependencies. */
function runningPlan(): FakeApi {
  const api = new FakeApi(readyState());
  api.emitAll([
    { type: 'planRun/started', atMs: T0 + 1_000, planId: 'rel', plan, actions: plan.actions.map((a) => ({ id: a.id, workspace: WS, host: HOST })), preset: {}, deadlineAtMs: null, retryFailed: false, fresh: false },
    ...attempt('build', 'u1', T0 + 2_000),
    turnCompleted('t-build', 'u1', 'failed', T0 + 3_000, { message: 'upstream 503', codexErrorInfo: 'serverOverloaded' }),
    ...attempt('docs', 'u2', T0 + 2_000),
    turnCompleted('t-docs', 'u2', 'completed', T0 + 4_000),
  ]);
  return api;
}

describe('v2 plan runs in the operations view', () => {
  it('a row for the run and one per action: what each waits on, a retry on its way, what is done', async () => {
    const r = renderApp(runningPlan(), { width: 200, height: 40 });
    await r.waitFor('▤ plan rel');
    expect(r.lineWith('▤ plan rel')).toMatch(/1\/4 completed, 3 waiting/);
    expect(r.lineWith('build · ws1')).toMatch(/^· waiting/);
    expect(r.lineWith('build · ws1')).toMatch(/retry 2 in \d+s/);
    expect(r.lineWith('test · ws1')).toContain('waiting on build');
    expect(r.lineWith('ship · ws1')).toContain('waiting on test');
    expect(r.lineWith('docs · ws1')).toMatch(/^✓ done/);
    // The plan comes before the hosts.
    const lines = r.lines();
    expect(lines.findIndex((l) => l.includes('▤ plan rel'))).toBeLessThan(lines.findIndex((l) => l.includes('▣ local')));
  });

  it('a quota pause shows as paused with its resume time, not as a failure', async () => {
    const api = runningPlan();
    const resumesAtMs = T0 + 5 * 60_000;
    api.emit({ type: 'planRun/paused', atMs: T0 + 5_000, planId: 'rel', actionId: 'build', resumesAtMs, reason: 'quota' });
    const r = renderApp(api, { width: 200, height: 40 });
    await r.waitFor('▤ plan rel');
    const hhmm = new Date(resumesAtMs).toTimeString().slice(0, 5);
    expect(r.lineWith('build · ws1')).toMatch(new RegExp(`^⏸ paused .*paused \\(quota, resumes ${hhmm}\\)`));
    expect(r.lineWith('▤ plan rel')).toMatch(/1 paused/);
  });

  it("the strip of an action lists its attempts; Enter opens the thread of its last attempt", async () => {
    const r = renderApp(runningPlan());
    await r.waitFor('▤ plan rel');
    await r.tap('j');
    await r.waitFor(/^try\s+#1 failed \(transient\) \d\d:\d\d — upstream 503$/m);
    await r.press('\r', /lines \d+–\d+ of \d+/);
    expect(r.frame()).toContain('do build');
  });
});
