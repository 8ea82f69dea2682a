import { cleanup } from 'ink-testing-library';
import stringWidth from 'string-width';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { initialState } from '../../src/core/state/model.js';
import { FakeApi } from '../support/fakeApi.js';
import { displayWidths, renderApp } from '../support/renderApp.js';
import { T0 } from '../support/replay.js';
import { turnCompleted } from '../support/events.js';
import { everyStatusApi, signalsApi, startedThread } from '../support/scenarios.js';

afterEach(() => cleanup());

/** A thread that failed with the long reason Codex gives for an upstream error, and used tokens. */
const LONG_REASON = 'api: failed: unexpected status 500 Internal Server Error: {"error":{"message":"The server had an error while processing your request. Sorry about that!"}} url: https://api.openai.com/v1/responses';
function longFailureApi() {
  const api = everyStatusApi();
  api.emitAll([
    ...startedThread('th9', 'bump the dependencies and run the whole test suite', T0 + 58_000),
    { type: 'tokenUsage/updated', atMs: T0 + 58_500, workspace: 'ws1', threadId: 'th9', totalTokens: 12_345, lastTokens: 345, contextWindow: null },
    turnCompleted('th9', 'th9-turn', 'failed', T0 + 59_000, { message: LONG_REASON }),
  ]);
  return api;
}

/** The text without any whitespace: wrapped text reads as one line again, whether it wrapped at a space or inside a word. */
const unwrapped = (frame: string) => frame.replace(/\s+/g, '');
const squeezed = (text: string) => text.replace(/\s+/g, '');

describe('operations view at 80x24', () => {
  it('shows each host and workspace on one line, each thread on two: title and last activity, then next step and blockers', async () => {
    const r = renderApp(everyStatusApi(), { height: 40 });
    await r.waitFor('old session');
    expect(r.lineWith('▣ local')).toMatch(/^● ready\s+▣ local\s+up 1m · codex 0.171.0/);
    // The workspace row shows the sparkline of its last 30 minutes (the scenario ran this minute), then its path.
    expect(r.lineWith(' ws1 ')).toMatch(/^● ready\s+ws1\s+[ ▁▂▃▄▅▆▇█]*█\s+\/work\/ws1$/);
    const second = (text: string) => r.lines()[r.lines().findIndex((l) => l.includes(text)) + 1]!;
    expect(r.lineWith('install deps')).toMatch(/^! approval\s+└ install deps\s+\d+s ago started a turn$/);
    // The approval blocker is not repeated: the next step names the command already.
    expect(second('install deps')).toMatch(/^ {16}→ waiting for your approval: `npm install`$/);
    expect(r.lineWith('refactor parser')).toMatch(/^▶ running\s+└ refactor parser\s+\d+s ago started a turn$/);
    expect(second('refactor parser')).toMatch(/^ {16}→ working on the current turn$/);
    expect(r.lineWith('run migrations')).toMatch(/^✗ failed\s+└ run migrations\s+15s ago failed: database is locked$/);
    expect(second('run migrations')).toMatch(/^ {16}→ failed: send new .*error: database is locked$/);
    expect(r.lineWith('write docs')).toMatch(/^✓ done\s+└ write docs\s+39s ago replied: docs written$/);
    expect(second('long build')).toContain('stalled: no events');
    expect(r.lineWith('old session')).toMatch(/^· not loaded\s+└ old session$/);
    expect(r.lineWith('▣ h2')).toMatch(/^✕ down\s+▣ h2\s+30s ago the app-serv/);
    expect(r.lineWith(' ws2 ')).toMatch(/^✕ down\s+ws2\s+\/work\/ws2$/);
    expect(r.lineWith('▣ h3')).toMatch(/^↻ restarting\s+▣ h3\s+20s ago the app-serv/);
    expect(r.frame()).toMatch(/^↻ restarting\s+ws3\s+\/work\/ws3$/m);
  });

  it('does not call a down host "up" (its last connection time outlives the connection)', async () => {
    const r = renderApp(everyStatusApi(), { height: 40 });
    await r.waitFor(' ws2 ');
    expect(r.lineWith('▣ local')).toContain(' up 1m');
    expect(r.lineWith('▣ h2')).not.toMatch(/ up \d/);
    expect(r.lineWith('▣ h3')).not.toMatch(/ up \d/);
  });

  it("a failed thread's whole reason, its task, next step and blockers are on screen, wrapped in the strip under the table", async () => {
    const r = renderApp(longFailureApi());
    await r.waitFor('bump the dependencies');
    expect(r.lineWith('bump the dependencies')).toMatch(/^✗ failed\s+└ bump the dependencies.*12k tok just now failed: api: fai/);
    // The thread is the third row: host, workspace, thread.
    await r.tap('j');
    await r.press('j', '── bump the dependencies and run the whole test suite ──');
    const screen = unwrapped(r.frame());
    expect(screen).toContain(squeezed('task bump the dependencies and run the whole test suite'));
    expect(screen).toContain(squeezed(`last just now failed: ${LONG_REASON}`));
    expect(screen).toContain(squeezed('next failed: send new instructions or retry'));
    // Said once: the last activity is the failure.
    expect(screen).not.toContain(squeezed(`block error: ${LONG_REASON}`));
    expect(r.lines()).toHaveLength(24);
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(80);
  });

  it('a strip longer than its lines ends in an ellipsis (Enter opens the whole thread)', async () => {
    const api = everyStatusApi();
    const endless = `${'very long reason '.repeat(40)}THE END`;
    api.emitAll([...startedThread('th9', 'retry forever', T0 + 58_000), turnCompleted('th9', 'th9-turn', 'failed', T0 + 59_000, { message: endless })]);
    const r = renderApp(api);
    await r.waitFor('retry forever');
    await r.tap('j');
    await r.press('j', '── retry forever ──');
    const rule = r.lines().findIndex((l) => l.startsWith('── retry forever'));
    expect(r.lines()[rule + 8]).toMatch(/ …$/);
    expect(r.frame()).not.toContain('THE END');
    expect(r.lines()).toHaveLength(24);
  });

  it('fits the terminal: 24 rows, none wider than 80 columns, the selected row kept on screen as it moves down', async () => {
    const r = renderApp(everyStatusApi());
    await r.waitFor('old session');
    expect(r.lines()).toHaveLength(24);
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(80);
    expect(r.lines().at(-1)).toContain('Enter open');
    // The last row (ws3) is below the fold; moving there scrolls it into view.
    expect(r.frame()).not.toContain('/work/ws3');
    for (let i = 0; i < 12; i++) await r.tap('j');
    await r.waitFor('── ws3 ──');
    expect(r.frame()).toMatch(/^↻ restarting\s+ws3\s+\/work\/ws3$/m);
    expect(r.lines()).toHaveLength(24);
  });
  it('shows needs_approval and failed badges in the header, before anything that may be cut', async () => {
    const r = renderApp(signalsApi());
    await r.waitFor('run migrations');
    expect(r.lines()[0]).toMatch(/^cm-supervisor needs_approval 1 failed 1 · test/);
    expect(displayWidths(r.lines()[0]!)[0]).toBeLessThanOrEqual(80);
    expect(r.lines()[1]).toContain('3 Needs you (1)');
  });

  it('cuts a title with wide characters and emoji inside its share of the line, never past 80 columns', async () => {
    const api = everyStatusApi();
    api.emitAll(startedThread('th7', '修复构建脚本 🚀 然后发布'.repeat(3), T0 + 58_000));
    const r = renderApp(api);
    await r.waitFor('修复构建');
    const row = r.lineWith('修复构建');
    expect(row).toMatch(/^▶ running\s+└ 修复构建脚本 🚀.*…  just now started a turn$/);
    expect(displayWidths(row)[0]).toBeLessThanOrEqual(80);
    const at = (line: string, text: string) => stringWidth(line.slice(0, line.indexOf(text)));
    expect(at(row, '└')).toBe(at(r.lineWith('STATUS'), 'WORKSPACE'));
  });

  it('says how to add a workspace when there is none', async () => {
    const r = renderApp(new FakeApi(initialState()));
    await r.waitFor('No workspaces. Add one with `cm-supervisor workspace add PATH`.');
  });
});

describe('operations view at 120x40 and 200x60', () => {
  it('draws one line per row with TOKENS, TASK and BLOCKERS columns', async () => {
    const r = renderApp(longFailureApi(), { width: 120, height: 40 });
    await r.waitFor('old session');
    expect(r.lineWith('STATUS')).toMatch(/^STATUS\s+WORKSPACE \/ THREAD\s+TOKENS\s+TASK\s+LAST ACTIVITY\s+NEXT STEP\s+BLOCKERS$/);
    expect(r.lineWith('└ install deps')).toMatch(/install deps\s+install deps\s+\d+s ago start.*waiting for your.*approval: `npm/);
    expect(r.lineWith('└ run migrations')).toMatch(/run migrations\s+run migrations\s+15s ago fail.*error: database is/);
    expect(r.lineWith('└ bump the dep')).toMatch(/└ bump the dep\S* +12k tok +bump the/);
    expect(r.lineWith('└ long build')).toContain('stalled: no events');
    expect(r.lineWith(' ws1 ')).toMatch(/ws1\s+12k tok\s+\/work\/ws1/);
  });

  it("at 200x60 the strip under the table shows the selected thread's whole failure reason", async () => {
    const r = renderApp(longFailureApi(), { width: 200, height: 60 });
    await r.waitFor('old session');
    await r.tap('j');
    await r.press('j', '── bump the dependencies and run the whole test suite ──');
    const screen = unwrapped(r.frame());
    expect(screen).toContain(squeezed(`last just now failed: ${LONG_REASON}`));
    expect(screen).toContain(squeezed('next failed: send new instructions or retry'));
    // The BLOCKERS column has the reason too, cut to the column.
    expect(r.lineWith('└ bump the dep')).toMatch(/error: api: failed: unexpected .*…$/);
    expect(r.lines()).toHaveLength(60);
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(200);
  });

  it('fits the terminal: 40 rows, none wider than 120 columns', async () => {
    const r = renderApp(everyStatusApi(), { width: 120, height: 40 });
    await r.waitFor('old session');
    expect(r.lines()).toHaveLength(40);
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(120);
  });

  it('follows a resize from 80 to 120 columns and back', async () => {
    const r = renderApp(everyStatusApi());
    await r.waitFor('old session');
    r.resize(120, 40);
    await r.waitFor('BLOCKERS');
    expect(r.lines()).toHaveLength(40);
    r.resize(80, 24);
    await r.waitForGone('TOKENS');
    expect(r.lines()).toHaveLength(24);
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(80);
  });
});

describe('a terminal below 60x16', () => {
  it('says it is too small and how big it must be instead of drawing a broken screen; q still quits', async () => {
    const r = renderApp(everyStatusApi(), { width: 50, height: 12 });
    await r.waitFor('terminal 50x12 is too small');
    expect(unwrapped(r.frame())).toContain(squeezed('terminal 50x12 is too small for cm-supervisor: it needs at least 60x16 — enlarge the window; q quits'));
    expect(r.frame()).not.toContain('STATUS');
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(50);
    r.resize(60, 16);
    await r.waitFor('STATUS');
    r.resize(80, 15);
    await r.waitFor('terminal 80x15 is too small');
    r.stdin.write('q');
    await vi.waitFor(() => expect(r.onQuit).toHaveBeenCalled());
  });

  it('keys other than q do nothing there; a quit that must ask asks there', async () => {
    const api = everyStatusApi();
    const r = renderApp(api, { width: 50, height: 12, confirmQuitWhenRunning: true });
    await r.waitFor('terminal 50x12 is too small');
    r.stdin.write('3a');
    await r.press('q', /Quit\?\s+\(y\/n\)/);
    expect(api.actions()).toEqual([]);
    await r.press('y');
    await vi.waitFor(() => expect(r.onQuit).toHaveBeenCalled());
  });
});
