import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commandApproval, turnCompleted } from '../support/events.js';
import { renderApp } from '../support/renderApp.js';
import { T0 } from '../support/replay.js';
import { signalsApi, startedThread } from '../support/scenarios.js';

afterEach(() => cleanup());

/** Rows of signalsApi: the host, ws1, tB (failed: run migrations), tA (running, waiting on an approval: install deps). */
async function onRow(rowsDown: number, overrides: Parameters<typeof renderApp>[1] = {}) {
  const api = signalsApi();
  const r = renderApp(api, overrides);
  await r.waitFor('install deps');
  for (let i = 0; i < rowsDown; i++) await r.tap('j');
  return { api, r };
}
const FAILED = 2;
const RUNNING = 3;
const footer = (r: { lines: () => string[] }) => r.lines().at(-1) ?? '';

describe('act keys on the selected thread', () => {
  it('the footer offers only the keys that apply: R on a failed thread, x on a running one', async () => {
    const { r } = await onRow(FAILED);
    expect(footer(r)).toContain('R retry');
    expect(footer(r)).not.toContain('x interrupt');
    await r.tap('j');
    expect(footer(r)).toContain('x interrupt');
    expect(footer(r)).not.toContain('R retry');
    await r.tap('k');
    await r.tap('k');
    // The workspace row: no thread, no thread keys.
    expect(footer(r)).not.toContain('r reply');
  });

  it('R retries the failed turn as a new turn', async () => {
    const { api, r } = await onRow(FAILED);
    await r.press('R', 'retried ws1: run migrations: turn');
    expect(api.actions()).toEqual([{ method: 'retryTurn', args: ['tB'] }]);
  });

  it('x asks once; n leaves the turn running, y interrupts it', async () => {
    const { api, r } = await onRow(RUNNING);
    await r.press('x', 'Interrupt the running turn of ws1: install deps? (y/n)');
    await r.press('n');
    await r.waitForGone('(y/n)');
    expect(api.actions()).toEqual([]);
    await r.press('x', '(y/n)');
    await r.press('y', 'interrupted ws1: install deps');
    expect(api.actions()).toEqual([{ method: 'interruptTurn', args: ['tA', 'tA-turn'] }]);
  });

  it('"xy" typed at once asks and does not answer its own question', async () => {
    const { api, r } = await onRow(RUNNING);
    await r.press('xy', 'Interrupt the running turn of ws1: install deps? (y/n)');
    expect(api.actions()).toEqual([]);
  });

  it('r opens a one-line composer: a new turn on an idle thread', async () => {
    const { api, r } = await onRow(FAILED);
    await r.press('r', 'reply to ws1: run migrations ›');
    await r.press('unlock the database first', 'reply to ws1: run migrations › unlock the database first');
    await r.press('\r', 'sent to ws1: run migrations: turn');
    expect(api.actions()).toEqual([{ method: 'reply', args: ['tB', 'unlock the database first'] }]);
  });

  it('r on a running thread steers its turn; typed ahead in one read', async () => {
    const { api, r } = await onRow(RUNNING);
    await r.press('ruse pnpm\r', 'steered the running turn of ws1: install deps');
    expect(api.actions()).toEqual([{ method: 'reply', args: ['tA', 'use pnpm'] }]);
  });

  it('Esc closes the composer and sends nothing', async () => {
    const { api, r } = await onRow(FAILED);
    await r.press('rnever mind', '› never mind');
    r.stdin.write('\u001b');
    await r.waitForGone('› never mind');
    expect(api.actions()).toEqual([]);
  });

  it('t shows the transcript, D the diff, Esc returns to the list', async () => {
    const { api, r } = await onRow(FAILED);
    await r.press('t', 'run migrations');
    await r.waitFor(/lines 1–\d+ of \d+/);
    expect(api.calls.map((c) => c.method)).toContain('transcript');
    await r.press('D', 'no changes in the last turn');
    r.stdin.write('\u001b');
    await r.waitFor(/lines 1–\d+ of \d+/);
    r.stdin.write('\u001b');
    await r.waitFor('WORKSPACE / THREAD');
  });

  it('# asks, then archives; the thread leaves the view', async () => {
    const { api, r } = await onRow(FAILED);
    await r.press('#', 'Archive ws1: run migrations?');
    await r.press('y', 'archived ws1: run migrations');
    expect(api.actions()).toEqual([{ method: 'archiveThread', args: ['tB'] }]);
    await r.waitForGone('└ run migrations');
  });

  it('! hands the terminal to the shell it was given and says how it ended', async () => {
    const shell = vi.fn(() => Promise.resolve('back from /bin/sh (exit 0)'));
    const { r } = await onRow(FAILED, { shell });
    await r.press('!', 'back from /bin/sh (exit 0)');
    expect(shell).toHaveBeenCalledWith('tB');
  });

  it('a failure toast offers Enter and R: they act on its thread, wherever the selection is', async () => {
    const api = signalsApi();
    const r = renderApp(api);
    await r.waitFor('install deps');
    api.emitAll([...startedThread('tC', 'deploy docs', T0 + 5_000), turnCompleted('tC', 'tC-turn', 'failed', T0 + 6_000, { message: 'upstream 502' })]);
    await r.waitFor('✗ ws1 · failed: deploy docs — upstream 502  [Enter open · R retry]');
    await r.press('R', 'retried ws1: deploy docs');
    expect(api.actions()).toEqual([{ method: 'retryTurn', args: ['tC'] }]);
  });

  it('Enter on a failure toast opens its thread', async () => {
    const api = signalsApi();
    const r = renderApp(api);
    await r.waitFor('install deps');
    api.emitAll([...startedThread('tC', 'deploy docs', T0 + 5_000), turnCompleted('tC', 'tC-turn', 'failed', T0 + 6_000, { message: 'upstream 502' })]);
    await r.waitFor('[Enter open · R retry]');
    await r.press('\r', 'upstream 502', /lines \d+–\d+ of \d+/);
    expect(r.frame()).toContain('deploy docs');
  });

  it('an approval toast leaves Enter to the selection', async () => {
    const { api, r } = await onRow(FAILED);
    // t0 sorts after the other threads: the selection stays on tB.
    api.emitAll([...startedThread('t0', 'deploy docs', T0 + 5_000), commandApproval({ requestId: 9, threadId: 't0', turnId: 't0-turn', atMs: T0 + 5_010 })]);
    await r.waitFor('[3 answer]');
    await r.press('\r', 'database is locked', /lines \d+–\d+ of \d+/);
    expect(r.frame()).toContain('run migrations');
  });
});

describe('the detail view scrolls and searches', () => {
  it('g, G, PgUp and / with n', async () => {
    const api = signalsApi();
    const r = renderApp(api, { height: 16 });
    await r.waitFor('install deps');
    await r.tap('jj');
    await r.press('\r', /lines \d+–\d+ of \d+/);
    await r.press('g', /lines 1–\d+ of \d+/);
    await r.press('/locked\r', /\/locked 1 of \d+/);
    expect(r.frame()).toContain('database is locked');
    await r.press('n', /\/locked (1|2) of \d+/);
    r.stdin.write('\u001b');
    await r.waitForGone('/locked');
    r.stdin.write('\u001b');
    await r.waitFor('WORKSPACE / THREAD');
  });
});
