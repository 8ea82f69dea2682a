import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { turnCompleted } from '../support/events.js';
import { FakeApi } from '../support/fakeApi.js';
import { renderApp } from '../support/renderApp.js';
import { T0 } from '../support/replay.js';
import { signalsApi, startedThread } from '../support/scenarios.js';

afterEach(() => cleanup());

async function typeCommand(r: ReturnType<typeof renderApp>, command: string) {
  await r.press(':', /^: ?$/m);
  await r.press(command, new RegExp(`^:${command}`, 'm'));
}

describe('command line', () => {
  it(':feed switches to the feed, :ws back to operations, :approvals to the queue', async () => {
    const r = renderApp(signalsApi());
    await r.waitFor('install deps');
    await typeCommand(r, 'feed');
    await r.press('\r', 'activity feed, newest first');
    await typeCommand(r, 'approvals');
    await r.press('\r', '[a] accept');
    await typeCommand(r, 'ws');
    await r.press('\r', 'WORKSPACE / THREAD');
  });

  it('runs a command delivered in one chunk with its Enter (a paste)', async () => {
    const r = renderApp(signalsApi());
    await r.waitFor('install deps');
    await r.press(':', /^: ?$/m);
    await r.press('feed\r', 'activity feed, newest first');
  });

  it('runs a command whose colon came in the same chunk (fast typing over SSH, a paste)', async () => {
    const r = renderApp(signalsApi());
    await r.waitFor('install deps');
    await r.press(':feed\r', 'activity feed, newest first');
    await r.press('/migra\r', 'filter: "migra"', 'new task: run migrations');
    expect(r.frame()).not.toContain('install deps');
  });

  it(':bogus says the command is unknown', async () => {
    const api = signalsApi();
    const r = renderApp(api);
    await r.waitFor('install deps');
    await typeCommand(r, 'bogus');
    await r.press('\r', 'unknown command ":bogus"');
    expect(api.actions()).toEqual([]);
  });

  it('Esc leaves the command line without running it', async () => {
    const r = renderApp(signalsApi());
    await r.waitFor('install deps');
    await typeCommand(r, 'feed');
    r.stdin.write('\u001b');
    await r.waitForGone(':feed');
    expect(r.frame()).toContain('WORKSPACE / THREAD');
  });

  it(':ack acknowledges every open signal and the badges disappear', async () => {
    const api = signalsApi();
    const r = renderApp(api);
    await r.waitFor('install deps');
    expect(r.lines()[0]).toMatch(/^cm-supervisor needs_approval 1 failed 1 · /);
    await typeCommand(r, 'ack');
    await r.press('\r', 'acknowledged 2 signal(s)');
    expect(api.actions().map((c) => c.method)).toEqual(['ackSignal', 'ackSignal']);
    expect(new Set(api.actions().map((c) => c.args[0]))).toEqual(new Set(Object.keys(api.state.signals)));
    await r.waitFor(/^cm-supervisor · test · /m);
    // Acknowledging is not answering: the approval still waits.
    expect(r.lines()[1]).toContain('3 Needs you (1)');
  });

  it(':ack ID acknowledges one signal', async () => {
    const api = signalsApi();
    const failed = Object.values(api.state.signals).find((s) => s.kind === 'failed')!;
    const r = renderApp(api);
    await r.waitFor('install deps');
    await typeCommand(r, `ack ${failed.id}`);
    await r.press('\r', `acknowledged ${failed.id}`);
    await r.waitFor(/^cm-supervisor needs_approval 1 · /m);
    expect(api.actions()).toEqual([{ method: 'ackSignal', args: [failed.id] }]);
  });

  it(':ack with an unknown id shows the refusal', async () => {
    const api = signalsApi();
    const r = renderApp(api);
    await r.waitFor('install deps');
    await typeCommand(r, 'ack s999');
    await r.press('\r', 'no signal with id "s999"');
  });

  it('. acknowledges the signals of the selected thread only', async () => {
    const api = signalsApi();
    const r = renderApp(api);
    await r.waitFor('install deps');
    // Rows: the host, ws1, tB (failed), tA (approval).
    await r.tap('j');
    await r.tap('j');
    await r.press('.', 'acknowledged 1 signal(s)');
    await r.waitFor(/^cm-supervisor needs_approval 1 · /m);
    const failed = Object.values(api.state.signals).find((s) => s.kind === 'failed')!;
    expect(api.actions()).toEqual([{ method: 'ackSignal', args: [failed.id] }]);
  });

  it(':dispatch FILE runs the dispatcher it was given and shows its result', async () => {
    const api = signalsApi();
    const files: string[] = [];
    const r = renderApp(api, { dispatchFile: (path) => (files.push(path), Promise.resolve('dispatched 2 action(s) from plan p1')) });
    await r.waitFor('install deps');
    await typeCommand(r, 'dispatch plan.json');
    await r.press('\r', 'dispatched 2 action(s) from plan p1');
    expect(files).toEqual(['plan.json']);
  });

  it(':dispatch says when it is not available', async () => {
    const r = renderApp(signalsApi());
    await r.waitFor('install deps');
    await typeCommand(r, 'dispatch plan.json');
    await r.press('\r', 'dispatch is not available here');
  });
});

describe('quitting', () => {
  it('q calls onQuit', async () => {
    const r = renderApp(signalsApi());
    await r.waitFor('install deps');
    r.stdin.write('q');
    await waitForCalls(r.onQuit, 1);
  });

  it('with confirmQuitWhenRunning and a running turn, asks first: n cancels, y quits', async () => {
    const r = renderApp(signalsApi(), { confirmQuitWhenRunning: true });
    await r.waitFor('install deps');
    await r.press('q', '1 turn(s) are running; quitting stops them. Quit? (y/n)');
    expect(r.onQuit).not.toHaveBeenCalled();
    r.stdin.write('n');
    await r.waitForGone('Quit? (y/n)');
    expect(r.onQuit).not.toHaveBeenCalled();
    await r.press('q', 'Quit? (y/n)');
    r.stdin.write('y');
    await waitForCalls(r.onQuit, 1);
  });

  it('with confirmQuitWhenRunning and nothing running, quits at once', async () => {
    const api = new FakeApi();
    api.emitAll([...startedThread('tB', 'run migrations', T0 + 2_000), turnCompleted('tB', 'tB-turn', 'completed', T0 + 3_000)]);
    const r = renderApp(api, { confirmQuitWhenRunning: true });
    await r.waitFor('run migrations');
    r.stdin.write('q');
    await waitForCalls(r.onQuit, 1);
    expect(r.frame()).not.toContain('Quit?');
  });

  it(':q quits like q', async () => {
    const r = renderApp(signalsApi());
    await r.waitFor('install deps');
    await typeCommand(r, 'q');
    r.stdin.write('\r');
    await waitForCalls(r.onQuit, 1);
  });
});

async function waitForCalls(spy: { mock: { calls: unknown[] } }, n: number) {
  await vi.waitFor(() => expect(spy.mock.calls).toHaveLength(n));
}
