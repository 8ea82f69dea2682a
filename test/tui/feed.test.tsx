import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { agentMessage, commandApproval, turnCompleted } from '../support/events.js';
import { FakeApi } from '../support/fakeApi.js';
import { displayWidths, renderApp } from '../support/renderApp.js';
import { T0, WS } from '../support/replay.js';
import { startedThread } from '../support/scenarios.js';

afterEach(() => cleanup());

const APPROVAL = `${WS}#1`;

/** Three tasks: one waiting on an approval, one failed, one completed, in that order. */
function feedApi(): FakeApi {
  const api = new FakeApi();
  api.emitAll([
    ...startedThread('tA', 'install deps', T0 + 1_000),
    commandApproval({ requestId: 1, threadId: 'tA', turnId: 'tA-turn', atMs: T0 + 1_010, command: "/bin/bash -lc 'npm install'", reason: 'needs the network' }),
    ...startedThread('tB', 'run migrations', T0 + 2_000),
    turnCompleted('tB', 'tB-turn', 'failed', T0 + 3_000, { message: 'database is locked' }),
    ...startedThread('tC', 'write docs', T0 + 4_000),
    agentMessage('tC', 'tC-turn', 'docs written', T0 + 4_500),
    turnCompleted('tC', 'tC-turn', 'completed', T0 + 5_000),
  ]);
  return api;
}

const ENTRIES = ['completed: docs written', 'new task: write docs', 'failed: database is locked', 'new task: run migrations', 'needs approval: `npm install`', 'new task: install deps'];

async function openFeed(api = feedApi(), size: { width: number; height: number } = { width: 80, height: 24 }) {
  const r = renderApp(api, size);
  await r.waitFor('install deps');
  await r.press('2', 'activity feed, newest first');
  return r;
}

const row = (lines: string[], text: string) => lines.findIndex((l) => l.includes(text));

describe('activity feed', () => {
  it('lists entries newest first, marking what still needs input', async () => {
    const r = await openFeed();
    const lines = r.lines();
    const positions = ENTRIES.map((e) => row(lines, e));
    expect(positions.every((p) => p > 2)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(r.lineWith('needs approval')).toMatch(/^\d\d:\d\d:\d\d ! ws1 tA\s+needs approval: `npm install` — needs the/);
    expect(r.lineWith('failed: database')).toMatch(/^\d\d:\d\d:\d\d {3}ws1 tB\s+failed: database is locked/);
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(80);
  });

  it('fits 120 columns too', async () => {
    const r = await openFeed(feedApi(), { width: 120, height: 40 });
    expect(r.lines()).toHaveLength(40);
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(120);
    expect(r.lineWith('needs approval')).toContain('needs approval: `npm install` — needs the network');
  });

  it('at 60 columns (the narrowest screen) each entry stays on one line, its text cut with an ellipsis', async () => {
    const r = await openFeed(feedApi(), { width: 60, height: 20 });
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(60);
    expect(r.lineWith('needs approval')).toMatch(/^\d\d:\d\d:\d\d ! ws1 tA\s+needs approval: `npm install` — …$/);
    expect(r.lineWith('failed: data')).toMatch(/^\d\d:\d\d:\d\d {3}ws1 tB\s+failed: database is locked$/);
  });

  it('i shows only open approvals, and says so when nothing needs input any more', async () => {
    const api = feedApi();
    const r = await openFeed(api);
    await r.press('i', 'filter: needs my input');
    expect(r.frame()).toContain('needs approval: `npm install`');
    for (const other of ENTRIES.filter((e) => !e.startsWith('needs approval'))) expect(r.frame()).not.toContain(other);

    // Answered elsewhere (another client, or the CLI): the entry no longer needs input.
    api.emit({ type: 'approval/answered', atMs: T0 + 6_000, key: APPROVAL, decision: 'accept' });
    await r.waitFor('Nothing needs your input.');
    expect(r.frame()).not.toContain('needs approval: `npm install`');

    await r.press('i', 'approved: `npm install`');
    expect(r.frame()).not.toContain('filter:');
  });

  it('f shows faults only', async () => {
    const r = await openFeed();
    await r.press('f', 'filter: faults only');
    expect(r.frame()).toContain('failed: database is locked');
    for (const other of ENTRIES.filter((e) => !e.startsWith('failed'))) expect(r.frame()).not.toContain(other);
  });

  it('/ filters by typed text on Enter; Esc clears the filters, then goes back', async () => {
    const r = await openFeed();
    await r.press('/', /^\/ ?$/m);
    await r.press('docs', /^\/docs/m);
    // Typing alone does not filter yet.
    expect(r.frame()).toContain('new task: install deps');
    await r.press('\r', 'filter: "docs"');
    expect(r.frame()).toContain('completed: docs written');
    expect(r.frame()).toContain('new task: write docs');
    expect(r.frame()).not.toContain('install deps');
    expect(r.frame()).not.toContain('database');

    await r.press('f', 'filter: faults only, "docs"');
    await r.waitFor('No activity yet.');

    r.stdin.write('\u001b');
    await r.waitForGone('filter:');
    for (const entry of ENTRIES) expect(r.frame()).toContain(entry);

    r.stdin.write('\u001b');
    await r.waitFor('WORKSPACE / THREAD');
  });

  it("/ finds a failure by its thread's title, though the entry names only the error", async () => {
    const r = await openFeed();
    await r.press('/migrations\r', 'filter: "migrations"');
    expect(r.frame()).toContain('failed: database is locked');
    expect(r.frame()).toContain('new task: run migrations');
    expect(r.frame()).not.toContain('install deps');
  });

  it('Esc while typing a filter drops what was typed and keeps the current filter', async () => {
    const r = await openFeed();
    await r.press('/', /^\/ ?$/m);
    await r.press('zzz', /^\/zzz/m);
    r.stdin.write('\u001b');
    await r.waitForGone('/zzz');
    expect(r.frame()).not.toContain('filter:');
    expect(r.frame()).toContain('new task: install deps');
  });

  it('Backspace edits the filter text', async () => {
    const r = await openFeed();
    await r.press('/', /^\/ ?$/m);
    await r.press('docx', /^\/docx/m);
    await r.press('\u007f', /^\/doc ?$/m);
    await r.press('s\r', 'filter: "docs"');
  });

  it('Enter on an entry opens its thread', async () => {
    const r = await openFeed();
    // The newest entry is selected first.
    await r.press('\r', 'recent items');
    expect(r.frame()).toContain('task   write docs');
  });
});
