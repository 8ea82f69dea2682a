import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SignalRecord } from '../../src/core/state/model.js';
import { agentMessage, commandApproval, turnCompleted } from '../support/events.js';
import { FakeApi } from '../support/fakeApi.js';
import { NOW, renderApp, type AppOverrides } from '../support/renderApp.js';
import { readyEvents, T0, WS } from '../support/replay.js';
import { startedThread } from '../support/scenarios.js';

afterEach(() => cleanup());

/** Two running threads in ws1 and one in ws2; nothing has been signalled yet. */
function runningApi(): FakeApi {
  const api = new FakeApi();
  api.emitAll([
    ...readyEvents('ws2', T0),
    ...startedThread('tA', 'install deps', T0 + 1_000),
    ...startedThread('tC', 'write docs', T0 + 1_500),
    ...startedThread('tW', 'build site', T0 + 2_000, 'ws2'),
  ]);
  return api;
}

async function start(overrides: AppOverrides = {}) {
  const api = runningApi();
  const r = renderApp(api, overrides);
  await r.waitFor('build site');
  return { api, r };
}

const approve = (api: FakeApi, requestId: number, threadId = 'tA', workspace = WS) =>
  api.emit(commandApproval({ requestId, threadId, turnId: `${threadId}-turn`, atMs: T0 + 10_000 + requestId, command: `/bin/bash -lc 'npm run step${requestId}'`, workspace }));

const notified = (notify: { mock: { calls: unknown[][] } }) => notify.mock.calls.map(([s]) => s as SignalRecord);

describe('toasts and notifications', () => {
  it('a raised needs_approval signal shows a toast with the workspace and command, and notifies', async () => {
    const { api, r } = await start();
    approve(api, 1);
    await r.waitFor('! ws1 · needs approval: `npm run step1`  [3 answer]');
    expect(r.lines().at(-2)).toBe('! ws1 · needs approval: `npm run step1`  [3 answer]');
    expect(notified(r.notify)).toMatchObject([{ kind: 'needs_approval', workspace: WS, threadId: 'tA', context: { command: "/bin/bash -lc 'npm run step1'" } }]);
  });

  it('a failed turn notifies by default', async () => {
    const { api, r } = await start();
    api.emit(turnCompleted('tA', 'tA-turn', 'failed', T0 + 20_000, { message: 'database is locked' }));
    // What failed and why, once, and the keys that act on it.
    await r.waitFor('✗ ws1 · failed: install deps — database is locked  [Enter open · R retry]');
    expect(notified(r.notify)).toMatchObject([{ kind: 'failed', workspace: WS }]);
  });

  it('a completed turn neither notifies nor toasts by default', async () => {
    const { api, r } = await start();
    api.emitAll([agentMessage('tC', 'tC-turn', 'docs written', T0 + 20_000), turnCompleted('tC', 'tC-turn', 'completed', T0 + 20_001)]);
    await r.waitFor(/✓ done\s+└ write docs/);
    expect(r.notify).not.toHaveBeenCalled();
    expect(r.lines().at(-2)).toBe('');
  });

  it('a completed turn notifies when notifyKinds includes it', async () => {
    const { api, r } = await start({ notifyKinds: ['completed'] });
    api.emitAll([agentMessage('tC', 'tC-turn', 'docs written', T0 + 20_000), turnCompleted('tC', 'tC-turn', 'completed', T0 + 20_001)]);
    await r.waitFor('✓ ws1 · completed: write docs — docs written');
    expect(notified(r.notify)).toMatchObject([{ kind: 'completed', workspace: WS, threadId: 'tC' }]);
    // Only the kinds asked for: an approval is not among them now.
    approve(api, 2);
    await r.waitFor('3 Needs you (1)');
    expect(r.notify).toHaveBeenCalledTimes(1);
  });

  it(':mute WS stops notifications for that workspace only; :unmute brings them back', async () => {
    const { api, r } = await start();
    await r.press(':', /^: ?$/m);
    await r.press('mute ws1\r', 'notifications muted for ws1');
    approve(api, 1);
    await r.waitFor('3 Needs you (1)');
    expect(r.notify).not.toHaveBeenCalled();
    expect(r.lines().at(-2)).toBe('notifications muted for ws1');

    approve(api, 2, 'tW', 'ws2');
    await r.waitFor('! ws2 · needs approval: `npm run step2`');
    expect(notified(r.notify)).toMatchObject([{ workspace: 'ws2' }]);

    await r.press(':', /^: ?$/m);
    await r.press('unmute ws1\r', 'notifications unmuted for ws1');
    approve(api, 3, 'tC');
    await r.waitFor('! ws1 · needs approval: `npm run step3`');
    expect(notified(r.notify).map((s) => s.workspace)).toEqual(['ws2', 'ws1']);
  });

  it(':mute names the workspaces when given none or an unknown one', async () => {
    const { r } = await start();
    await r.press(':', /^: ?$/m);
    await r.press('mute nope\r', 'usage: :mute WORKSPACE (one of: ws1, ws2)');
  });

  it('the muted prop starts muted; :notify off silences every workspace', async () => {
    const { api, r } = await start({ muted: ['ws2'] });
    approve(api, 1, 'tW', 'ws2');
    await r.waitFor('3 Needs you (1)');
    expect(r.notify).not.toHaveBeenCalled();

    await r.press(':', /^: ?$/m);
    await r.press('notify off\r', 'notifications off');
    approve(api, 2);
    await r.waitFor('3 Needs you (2)');
    expect(r.notify).not.toHaveBeenCalled();
  });

  it('a toast goes away after 10 seconds', async () => {
    // Only the app's once-a-second clock tick is faked; rendering and polling use real timers.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      let clock = NOW;
      const { api, r } = await start({ now: () => clock });
      approve(api, 1);
      await r.waitFor('! ws1 · needs approval');
      clock += 9_000;
      await vi.advanceTimersByTimeAsync(1_000);
      expect(r.lines().at(-2)).toContain('! ws1 · needs approval');
      clock += 1_001;
      await vi.advanceTimersByTimeAsync(1_000);
      await r.waitForGone('! ws1 · needs approval');
      expect(r.lines().at(-2)).toBe('');
    } finally {
      vi.useRealTimers();
    }
  });
});
