import { cleanup } from 'ink-testing-library';
import stringWidth from 'string-width';
import { afterEach, describe, expect, it } from 'vitest';
import { initialState } from '../../src/core/state/model.js';
import { FakeApi } from '../support/fakeApi.js';
import { displayWidths, renderApp } from '../support/renderApp.js';
import { T0 } from '../support/replay.js';
import { everyStatusApi, signalsApi, startedThread } from '../support/scenarios.js';

afterEach(() => cleanup());

describe('operations view at 80x24', () => {
  it('shows each workspace and thread with its status glyph and word on the row of its name', async () => {
    const r = renderApp(everyStatusApi());
    await r.waitFor('old session');
    expect(r.lineWith('▣ local')).toMatch(/^● ready\s+▣ local\s+up 1m · codex 0.171.0/);
    // The workspace row ends with the sparkline of its last 30 minutes (the scenario ran this minute).
    expect(r.frame()).toMatch(/^● ready\s+ws1\s+[▁▂▃▄▅▆▇█]\s*$/m);
    expect(r.lineWith('install deps')).toMatch(/^! approval\s+└ install deps\s+\d+s ago started a turn\s+waiting for your appro/);
    expect(r.lineWith('refactor parser')).toMatch(/^▶ running\s+└ refactor parser\s+\d+s ago started a turn\s+working on the current/);
    expect(r.lineWith('run migrations')).toMatch(/^✗ failed\s+└ run migrations\s+15s ago failed: data.*failed: send new/);
    expect(r.lineWith('write docs')).toMatch(/^✓ done\s+└ write docs\s+39s ago replied: docs.*idle: awaiting/);
    expect(r.lineWith('long build')).toMatch(/^⏸ stalled\s+└ long build/);
    expect(r.lineWith('old session')).toMatch(/^· not loaded\s+└ old session/);
    expect(r.lineWith('▣ h2')).toMatch(/^✕ down\s+▣ h2\s+30s ago the app-serv.*down: see the error/);
    expect(r.lineWith(' ws2 ')).toMatch(/^✕ down\s+ws2\s+host h2 is down/);
    expect(r.lineWith('▣ h3')).toMatch(/^↻ restarting\s+▣ h3\s+20s ago the app-serv.*reconnect #1/);
    expect(r.frame()).toMatch(/^↻ restarting\s+ws3\s*$/m);
  });

  it('does not call a down host "up" (its last connection time outlives the connection)', async () => {
    const r = renderApp(everyStatusApi());
    await r.waitFor(' ws2 ');
    expect(r.lineWith('▣ local')).toContain(' up 1m');
    expect(r.lineWith('▣ h2')).not.toMatch(/ up \d/);
    expect(r.lineWith('▣ h3')).not.toMatch(/ up \d/);
  });

  it('shows LAST ACTIVITY and NEXT STEP, but no TASK or BLOCKERS column', async () => {
    const r = renderApp(everyStatusApi());
    await r.waitFor('old session');
    const heading = r.lineWith('STATUS');
    expect(heading).toMatch(/^STATUS\s+WORKSPACE \/ THREAD\s+LAST ACTIVITY\s+NEXT STEP$/);
    expect(r.frame()).not.toContain('BLOCKERS');
    expect(r.frame()).not.toContain('approval: `npm');
  });

  it('fits the terminal: 24 rows, none wider than 80 columns, one line per row', async () => {
    const r = renderApp(everyStatusApi());
    await r.waitFor('old session');
    expect(r.lines()).toHaveLength(24);
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(80);
    // Every thread's status, name and next step share a line: nothing wrapped.
    for (const name of ['install deps', 'refactor parser', 'run migrations', 'write docs', 'long build', 'old session']) {
      expect(r.lineWith(name)).toMatch(/^\S+ [a-z ]+\s+└ /);
    }
    expect(r.lines().at(-1)).toContain('j/k move');
  });

  it('shows needs_approval and failed badges in the header, before anything that may be cut', async () => {
    const r = renderApp(signalsApi());
    await r.waitFor('run migrations');
    expect(r.lines()[0]).toMatch(/^cm-supervisor needs_approval 1 failed 1 · test/);
    expect(displayWidths(r.lines()[0]!)[0]).toBeLessThanOrEqual(80);
    expect(r.lines()[1]).toContain('3 Needs you (1)');
  });

  it('keeps the columns aligned when a title has wide characters and emoji', async () => {
    const api = everyStatusApi();
    api.emitAll(startedThread('th7', '修复构建脚本 🚀 然后发布', T0 + 58_000));
    const r = renderApp(api);
    await r.waitFor('修复构建');
    const row = r.lineWith('修复构建');
    // The name is cut inside its column; the next column starts where its heading does.
    expect(row).toMatch(/^▶ running\s+└ 修复构建脚本 🚀… just now started a tu… working on the current…$/);
    const at = (line: string, text: string) => stringWidth(line.slice(0, line.indexOf(text)));
    expect(at(row, 'just now')).toBe(at(r.lineWith('STATUS'), 'LAST ACTIVITY'));
    expect(displayWidths(row)[0]).toBeLessThanOrEqual(80);
  });

  it('says how to add a workspace when there is none', async () => {
    const r = renderApp(new FakeApi(initialState()));
    await r.waitFor('No workspaces. Add one with `cm-supervisor workspace add PATH`.');
  });
});

describe('operations view at 120x40', () => {
  it('adds the TASK and BLOCKERS columns', async () => {
    const r = renderApp(everyStatusApi(), { width: 120, height: 40 });
    await r.waitFor('old session');
    expect(r.lineWith('STATUS')).toMatch(/^STATUS\s+WORKSPACE \/ THREAD\s+TASK\s+LAST ACTIVITY\s+NEXT STEP\s+BLOCKERS$/);
    expect(r.lineWith('└ install deps')).toMatch(/install deps\s+install deps\s+\d+s ago start.*waiting for your a.*approval: `npm inst/);
    expect(r.lineWith('└ run migrations')).toMatch(/run migrations\s+run migrations\s+15s ago failed.*error: database is/);
    expect(r.lineWith('└ long build')).toContain('stalled: no events');
    expect(r.lineWith(' ws1 ')).toContain('/work/ws1');
    expect(r.lineWith('▣ h2')).toMatch(/ssh:\/\/h2 · private.*down: see the error\s+the app-server on h/);
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
    await r.waitForGone('BLOCKERS');
    expect(r.lines()).toHaveLength(24);
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(80);
  });
});

describe('operations view at 40x20', () => {
  it('narrows the last column to the terminal and cuts its text with an ellipsis; nothing wraps', async () => {
    const r = renderApp(everyStatusApi(), { width: 40, height: 20 });
    await r.waitFor('refactor parser');
    expect(r.lines()).toHaveLength(20);
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(40);
    expect(r.lineWith('STATUS')).toMatch(/^STATUS\s+WORKSPACE \/ THREAD\s+LAST A…$/);
    expect(r.lineWith('refactor parser')).toMatch(/^▶ running\s+└ refactor parser\s+\d+s ag…$/);
  });
});
