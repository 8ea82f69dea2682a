import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commandApproval } from '../support/events.js';
import { useChalkLevel } from '../support/chalkLevel.js';
import { FakeApi } from '../support/fakeApi.js';
import { renderApp } from '../support/renderApp.js';
import { T0, WS } from '../support/replay.js';
import { everyStatusApi, signalsApi, startedThread } from '../support/scenarios.js';

// Key repeat, typing ahead over a slow link and pastes reach the app as one read holding
// several keys ("jjj"); each must act as if typed alone, in order.
useChalkLevel(1);
afterEach(() => cleanup());

const INVERSE = '\u001b[7m';
// eslint-disable-next-line no-control-regex
const plain = (line: string) => line.replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '');

async function operations() {
  const r = renderApp(everyStatusApi());
  await r.waitFor('old session');
  const highlighted = () => plain(r.lines().slice(3).find((l) => l.includes(INVERSE)) ?? '');
  const activeTab = () => plain(r.lines()[1]!.split(INVERSE)[1] ?? '').split(' ').slice(1, 3).join(' ');
  return { r, highlighted, activeTab };
}

function twoApprovals(): FakeApi {
  const api = new FakeApi();
  api.emitAll([
    ...startedThread('tA', 'install deps', T0 + 1_000),
    commandApproval({ requestId: 1, threadId: 'tA', turnId: 'tA-turn', atMs: T0 + 1_010, command: "/bin/bash -lc 'npm install'" }),
    ...startedThread('tB', 'deploy', T0 + 2_000),
    commandApproval({ requestId: 2, threadId: 'tB', turnId: 'tB-turn', atMs: T0 + 2_010, command: "/bin/bash -lc 'make deploy'" }),
  ]);
  return api;
}

/**
 * Reads are handled in order, so once a later read's "?" opened the help, every key written
 * before it was handled or dropped: a check that something did not happen needs no sleep.
 */
async function handledSoFar(r: ReturnType<typeof renderApp>) {
  await r.press('?', 'Esc closes');
}

describe('several keys in one read', () => {
  it('"jjj" moves the selection three rows, "kk" two back', async () => {
    const { r, highlighted } = await operations();
    expect(highlighted()).toMatch(/^● ready\s+▣ local/);
    // Host, ws1, then ws1's threads: the third row down is its second thread.
    r.stdin.write('jjj');
    await vi.waitFor(() => expect(highlighted()).toContain('└ refactor parser'));
    r.stdin.write('kk');
    await vi.waitFor(() => expect(highlighted()).toMatch(/^● ready\s+ws1/));
  });

  it('arrows in one read, and arrows mixed with letters, each move once', async () => {
    const { r, highlighted } = await operations();
    r.stdin.write('\u001b[B\u001b[B');
    await vi.waitFor(() => expect(highlighted()).toContain('└ install deps'));
    r.stdin.write('j\u001b[Aj');
    await vi.waitFor(() => expect(highlighted()).toContain('└ refactor parser'));
  });

  it('"31" from the feed ends in the Operations view; "23" in Needs you', async () => {
    const { r, activeTab } = await operations();
    await r.press('2', 'activity feed, newest first');
    r.stdin.write('31');
    await r.waitFor('WORKSPACE / THREAD');
    expect(activeTab()).toBe('1 Operations');
    r.stdin.write('23');
    await r.waitFor('[a] accept');
    expect(activeTab()).toBe('3 Needs');
  });

  it('"3a" opens Needs you and accepts the approval selected there', async () => {
    const api = signalsApi();
    const r = renderApp(api);
    await r.waitFor('install deps');
    r.stdin.write('3a');
    await r.waitFor('approved: `npm install` (ws1)', 'Nothing needs you.');
    expect(api.actions()).toEqual([{ method: 'answerApproval', args: [`${WS}#1`, 'accept'] }]);
  });

  it('"ja" accepts the second approval: the decision sees the selection the key before moved', async () => {
    const api = twoApprovals();
    const r = renderApp(api);
    await r.waitFor('install deps');
    await r.press('3', '› ws1 · install deps');
    r.stdin.write('ja');
    await r.waitFor('approved: `make deploy` (ws1)');
    expect(api.actions()).toEqual([{ method: 'answerApproval', args: [`${WS}#2`, 'accept'] }]);
  });
});

describe('what typing ahead must not do', () => {
  it('one read decides one approval at most: "aa" (key repeat) does not accept the next one unseen', async () => {
    const api = twoApprovals();
    const r = renderApp(api);
    await r.waitFor('install deps');
    await r.press('3', '› ws1 · install deps');
    r.stdin.write('aa');
    await r.waitFor('approved: `npm install` (ws1)', '3 Needs you (1)', '› ws1 · deploy');
    await handledSoFar(r);
    expect(api.actions()).toEqual([{ method: 'answerApproval', args: [`${WS}#1`, 'accept'] }]);
  });

  it('a q in a pasted chunk still asks before quitting, and the y after it in the chunk does not answer', async () => {
    const r = renderApp(signalsApi(), { confirmQuitWhenRunning: true });
    await r.waitFor('install deps');
    r.stdin.write('jqy');
    await r.waitFor('1 turn(s) are running; quitting stops them. Quit? (y/n)');
    // The rest of the read is dropped once the question is asked: "n", read later, still finds it.
    r.stdin.write('n');
    await r.waitForGone('Quit? (y/n)');
    expect(r.onQuit).not.toHaveBeenCalled();
    // Asked and answered in reads of their own, it quits.
    await r.press('q', 'Quit? (y/n)');
    r.stdin.write('y');
    await vi.waitFor(() => expect(r.onQuit).toHaveBeenCalledTimes(1));
  });

  it('a pasted line goes into the chat input as text, not as commands (q, 1, d, a …)', async () => {
    const api = everyStatusApi();
    const r = renderApp(api, { width: 100, height: 30 });
    await r.waitFor('old session');
    await r.press('4', 'Ask the supervisor');
    r.stdin.write('iquit 1 and deploy all\r');
    await r.waitFor('you: quit 1 and deploy all');
    expect(api.actions().map((c) => [c.method, c.args[0]])).toEqual([['chatSend', 'quit 1 and deploy all']]);
    expect(r.onQuit).not.toHaveBeenCalled();
  });

  it('the lines after the first of a multi-line paste into a text line are dropped, not run as keys', async () => {
    const api = signalsApi();
    const r = renderApp(api);
    await r.waitFor('install deps');
    // ":ap" submits and opens Needs you; the "a" on the next pasted line must not accept.
    r.stdin.write(':ap\ra\r');
    await r.waitFor('[a] accept');
    await handledSoFar(r);
    expect(api.actions()).toEqual([]);
    expect(r.frame()).toContain('3 Needs you (1)');
  });

  it('Backspace held down (one read of DELs) deletes one character per DEL', async () => {
    const r = renderApp(signalsApi());
    await r.waitFor('install deps');
    const commandLine = () => plain(r.lines().at(-2) ?? '');
    r.stdin.write(':');
    await vi.waitFor(() => expect(commandLine()).toBe(': '));
    r.stdin.write('feedxyz');
    await vi.waitFor(() => expect(commandLine()).toBe(':feedxyz '));
    r.stdin.write('\u007f\u007f\u007f');
    await vi.waitFor(() => expect(commandLine()).toBe(':feed '));
    await r.press('\r', 'activity feed, newest first');
  });
});
