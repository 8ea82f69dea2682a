import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '../../src/core/state/events.js';
import { agentMessage, commandApproval, progress, turnCompleted, turnStarted, userMessage } from '../support/events.js';
import { FakeApi } from '../support/fakeApi.js';
import { renderApp } from '../support/renderApp.js';
import { T0, WS } from '../support/replay.js';
import { startedThread } from '../support/scenarios.js';

afterEach(() => cleanup());

// What a hostile or broken agent may print: clear screen, set the window title, colours,
// an 8-bit CSI, a bell.
const CLEAR = '\u001b[2J';
const TITLE = '\u001b]0;pwned\u0007';
const RED = '\u001b[31m';
const CSI8 = '\u009b2J';
const dirty = (text: string) => `${CLEAR}${text.split(' ').join(` ${RED}`)}${TITLE}${CSI8}\u0007`;

function hostileEvents(): SupervisorEvent[] {
  return [
    ...startedThread('tX', dirty('fix the build'), T0 + 1_000),
    agentMessage('tX', 'tX-turn', dirty('all green now'), T0 + 1_500),
    commandApproval({ requestId: 1, threadId: 'tX', turnId: 'tX-turn', atMs: T0 + 2_000, command: `/bin/bash -lc '${dirty('rm -rf dist')}'`, cwd: dirty('/repo'), reason: dirty('cleans the output') }),
    {
      type: 'question/requested',
      atMs: T0 + 2_500,
      question: {
        key: `${WS}#2`,
        workspace: WS,
        requestId: 2,
        method: 'item/tool/requestUserInput',
        kind: 'userInput',
        threadId: 'tY',
        turnId: 'tY-turn',
        message: dirty('which branch?'),
        questions: [{ id: 'b', header: dirty('Branch'), question: dirty('which branch?'), options: [dirty('main')], isSecret: false }],
        receivedAtMs: T0 + 2_500,
      },
    },
    ...startedThread('tZ', 'deploy', T0 + 3_000),
    { type: 'turn/error', atMs: T0 + 3_100, workspace: WS, threadId: 'tZ', turnId: 'tZ-turn', error: { message: dirty('upstream 500') }, willRetry: false },
    turnCompleted('tZ', 'tZ-turn', 'failed', T0 + 3_200, { message: dirty('upstream 500') }),
    { type: 'thread/renamed', atMs: T0 + 3_300, workspace: WS, threadId: 'tZ', name: dirty('deploy to prod') },
  ];
}

describe('agent text never reaches the terminal as control sequences', () => {
  it('no frame in any view contains ESC, an 8-bit CSI or BEL (colours off)', async () => {
    const api = new FakeApi();
    const r = renderApp(api, { width: 120, height: 40 });
    await r.waitFor('ws1');
    // Emitted while the UI runs, so the raised signals become toasts too, one at a time.
    const [approval, question, failure] = [hostileEvents().slice(0, 5), hostileEvents().slice(5, 6), hostileEvents().slice(6)];
    api.emitAll(approval!);
    await r.waitFor('! ws1 · needs approval: `rm -rf dist`');
    api.emitAll(question!);
    await r.waitFor('! ws1 · question: which branch?');
    api.emitAll(failure!);
    await r.waitFor('✗ ws1 · failed: deploy — upstream 500', 'deploy to prod');
    expect(r.lineWith('└ fix the build')).toContain('replied:');
    expect(r.lineWith('└ deploy to prod')).toContain('error: upstream 500');

    await r.press('2', 'activity feed');
    expect(r.frame()).toContain('asks: which branch?');
    await r.press('3', '› ws1 · fix the build · `rm -rf dist`');
    expect(r.frame()).toContain('reason     cleans the output');
    await r.press('j', 'Branch: which branch?  (main)');
    await r.press('1', 'WORKSPACE / THREAD');
    await r.tap('j');
    await r.tap('j');
    await r.press('\r', 'recent items');
    expect(r.frame()).toContain('deploy to prod');
    expect(r.frame()).toContain('error  upstream 500');
    await r.press('?', 'Keys — thread view');

    for (const frame of r.frames) {
      expect(frame).not.toContain('\u001b');
      expect(frame).not.toContain('\u009b');
      expect(frame).not.toContain('\u0007');
    }
  });

  it('at 80 columns the cut text leaves no half sequence behind', async () => {
    const api = new FakeApi();
    api.emitAll(hostileEvents());
    const r = renderApp(api);
    await r.waitFor('fix the build');
    await r.press('3', '› ws1 · fix the build');
    for (const frame of r.frames) {
      expect(frame).not.toContain('\u001b]');
      expect(frame).not.toContain(CLEAR);
      expect(frame).not.toContain('\u001b');
    }
  });
});

describe('render coalescing', () => {
  it('1,000 events emitted at once lead to a handful of renders, and the last frame shows the last state', async () => {
    const api = new FakeApi();
    const r = renderApp(api, { width: 120, height: 40 });
    await r.waitFor('ws1');
    const framesBefore = r.frames.length;
    const snapshotsBefore = api.calls.filter((c) => c.method === 'snapshot').length;

    const events: SupervisorEvent[] = [];
    for (let t = 0; t < 10; t++) {
      const thread = `t${t}`;
      const turn = `${thread}-turn`;
      const at = T0 + 1_000 + t * 1_000;
      events.push(turnStarted(thread, turn, at), userMessage(thread, turn, `task number ${t}`, at + 1));
      // Streaming output: the bulk of a storm.
      for (let i = 0; i < 97; i++) events.push(progress(thread, turn, at + 2 + i));
      if (t % 3 === 0) events.push(commandApproval({ requestId: t, threadId: thread, turnId: turn, atMs: at + 100, command: `echo ${t}` }));
      else events.push(agentMessage(thread, turn, `finished ${t}`, at + 100), turnCompleted(thread, turn, 'completed', at + 101));
    }
    expect(events.length).toBeGreaterThanOrEqual(1_000);
    for (const event of events) api.emit(event);

    await r.waitFor('3 Needs you (4)', /✓ done\s+└ task number 8/, /! approval\s+└ task number 9/);
    const renders = r.frames.length - framesBefore;
    expect(renders).toBeGreaterThan(0);
    expect(renders).toBeLessThan(20);
    expect(api.calls.filter((c) => c.method === 'snapshot').length - snapshotsBefore).toBeLessThan(20);
    // The last signal raised is the one the toast shows.
    expect(r.lines().at(-2)).toContain('! ws1 · needs approval: `echo 9`');
    expect(r.lines()[0]).toContain('needs_approval 4');
  });

  it('unsubscribes when unmounted', async () => {
    const api = new FakeApi();
    const r = renderApp(api);
    await r.waitFor('ws1');
    expect(api.subscriberCount).toBe(1);
    r.unmount();
    expect(api.subscriberCount).toBe(0);
  });
});
