import { cleanup } from 'ink-testing-library';
import { afterEach, describe, it } from 'vitest';
import { FakeApi } from '../support/fakeApi.js';
import { NOW, renderApp } from '../support/renderApp.js';
import { HOST } from '../support/replay.js';
import { startedThread } from '../support/scenarios.js';

afterEach(() => cleanup());

describe('cost and limits in the operations view', () => {
  it("the header meters the account's limits; workspace and thread rows show their tokens, the workspace its last 30 minutes", async () => {
    const api = new FakeApi();
    api.emitAll([
      ...startedThread('tA', 'install deps', NOW - 20_000),
      { type: 'tokenUsage/updated', atMs: NOW - 10_000, workspace: 'ws1', threadId: 'tA', totalTokens: 12_345, lastTokens: 345, contextWindow: null },
      { type: 'host/rateLimits', atMs: NOW - 5_000, host: HOST, name: null, primary: { usedPercent: 42, windowMins: 300, resetsAtMs: null }, secondary: { usedPercent: 13, windowMins: 10080, resetsAtMs: null }, reached: null },
    ]);
    const r = renderApp(api, { width: 120, height: 24 });
    await r.waitFor('limits 5h 42% · 7d 13%', /ws1\s+12k tok\s+\/work\/ws1\s+[ ▁▂▃▄▅▆▇█]*█/, /└ install deps\s+12k tok\s+install deps/);
    r.resize(80, 24);
    await r.waitFor(/ws1 {2}12k tok {2}[ ▁▂▃▄▅▆▇█]*█ {2}\/work\/ws1/, /└ install deps {2}12k tok 20s ago started a turn/);
    api.emit({ type: 'host/rateLimits', atMs: NOW - 1_000, host: HOST, name: null, primary: { usedPercent: 100, windowMins: 300, resetsAtMs: null }, secondary: null, reached: 'rate_limit_reached' });
    await r.waitFor('limits reached (rate_limit_reached)');
  });
});
