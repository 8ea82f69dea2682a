import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '../../src/core/state/events.js';
import { agentMessage, commandApproval, turnCompleted } from '../support/events.js';
import { FakeApi } from '../support/fakeApi.js';
import { displayWidths, renderApp } from '../support/renderApp.js';
import { T0, WS } from '../support/replay.js';
import { startedThread } from '../support/scenarios.js';

afterEach(() => cleanup());

const TURN = 'tF-turn';

/** A thread that ran a command, replied, hit an upstream error and failed. */
function failedThreadEvents(): SupervisorEvent[] {
  return [
    ...startedThread('tF', 'fix the flaky test', T0 + 10_000),
    { type: 'plan/updated', atMs: T0 + 10_100, workspace: WS, threadId: 'tF', turnId: TURN, plan: [{ step: 'reproduce', status: 'completed' }, { step: 'patch the retry loop', status: 'inProgress' }] },
    {
      type: 'item/completed',
      atMs: T0 + 11_000,
      workspace: WS,
      threadId: 'tF',
      turnId: TURN,
      item: { type: 'commandExecution', id: 'cmd-1', command: "/bin/bash -lc 'npm test'", status: 'completed', exitCode: 1 },
    },
    agentMessage('tF', TURN, 'the test still fails on CI', T0 + 12_000),
    { type: 'turn/error', atMs: T0 + 13_000, workspace: WS, threadId: 'tF', turnId: TURN, error: { message: 'upstream returned 500', codexErrorInfo: 'internalServerError' }, willRetry: false },
    turnCompleted('tF', TURN, 'failed', T0 + 13_001, { message: 'upstream returned 500', codexErrorInfo: 'internalServerError' }),
  ];
}

describe('detail view', () => {
  it('Enter on a thread row shows its task, next step, recent items and last error; Esc goes back', async () => {
    const api = new FakeApi();
    api.emitAll(failedThreadEvents());
    const r = renderApp(api);
    await r.waitFor('└ fix the flaky');
    await r.tap('j'); // from the host row to the workspace row
    await r.tap('j'); // to the thread row
    await r.press('\r', 'recent items (3)');
    expect(r.lines()[2]).toBe('fix the flaky test');
    expect(r.lineWith('ws1 · tF · failed')).toBeTruthy();
    expect(r.frame()).toContain('task   fix the flaky test');
    expect(r.frame()).toContain('next   failed: send new instructions or retry');
    expect(r.frame()).toContain('error  upstream returned 500 (internalServerError)');
    expect(r.lineWith('npm test')).toMatch(/\d+s ago\s+\$ npm test \(exit 1\)/);
    expect(r.lineWith('the test still fails on CI')).toContain('‹ the test still fails on CI');
    expect(r.lineWith('› fix the flaky test')).toBeTruthy();
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(80);
    // The tab bar still says where we are.
    expect(r.lines()[1]).toContain('1 Operations');

    r.stdin.write('\u001b');
    await r.waitForGone('recent items');
    expect(r.frame()).toContain('WORKSPACE / THREAD');
  });

  it('Enter on a host or workspace row opens nothing', async () => {
    const api = new FakeApi();
    api.emitAll(failedThreadEvents());
    const r = renderApp(api);
    await r.waitFor('└ fix the flaky');
    // Enter on the (first, selected) host row and on the workspace row is a no-op: only the next key shows up.
    r.stdin.write('\r');
    await r.tap('j');
    r.stdin.write('\r');
    await r.press('?', 'Keys — operations view');
  });

  it('shows the plan of a running turn and answers its approval in place', async () => {
    const api = new FakeApi();
    api.emitAll([
      ...startedThread('tP', 'migrate the schema', T0 + 10_000),
      { type: 'plan/updated', atMs: T0 + 10_100, workspace: WS, threadId: 'tP', turnId: 'tP-turn', plan: [{ step: 'dump the data', status: 'completed' }, { step: 'apply the migration', status: 'inProgress' }, { step: 'verify', status: 'pending' }] },
      commandApproval({ requestId: 3, threadId: 'tP', turnId: 'tP-turn', atMs: T0 + 11_000, command: "/bin/bash -lc 'psql -f migrate.sql'", reason: 'writes to the database' }),
    ]);
    const r = renderApp(api, { width: 120, height: 40 });
    await r.waitFor('migrate the schema');
    await r.tap('j');
    await r.tap('j');
    await r.press('\r', 'recent items (1)');
    expect(r.frame()).toContain('☑ dump the data');
    expect(r.frame()).toContain('▸ apply the migration');
    expect(r.frame()).toContain('☐ verify');
    expect(r.frame()).toContain('approve? psql -f migrate.sql — writes to the database');
    expect(r.frame()).toContain('[a] accept  [A] accept for session');
    await r.press('a', 'approved: `psql -f migrate.sql` (ws1)');
    expect(api.actions()).toEqual([{ method: 'answerApproval', args: [`${WS}#3`, 'accept'] }]);
    await r.waitForGone('approve?');
    expect(r.lineWith('ws1 · tP')).toContain('running');
  });
});
