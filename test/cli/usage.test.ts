import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quotaHeaders } from '../../src/core/mockModel/mockResponsesServer.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { runBuiltCli } from '../support/runBuiltCli.js';

let env: RealCodexEnv;
let home: string;
let cliEnv: Record<string, string>;
const resetAtSec = Math.floor(Date.now() / 1000) + 2 * 3600 + 300;

beforeAll(async () => {
  // The quota headers the real Responses API sends: Codex turns them into account/rateLimits/updated.
  env = await startRealCodexEnv({
    responseHeaders: quotaHeaders({ usedPercent: 42, windowMinutes: 300, resetAtSec }, { usedPercent: 13, windowMinutes: 10080 }),
  });
  home = await mkdtemp(join(tmpdir(), 'cm-home-'));
  cliEnv = { ...env.home.env, CM_SUPERVISOR_HOME: home };
});
afterAll(async () => {
  await env?.cleanup();
  await rm(home, { recursive: true, force: true });
});

describe('cost and limits at a glance (built CLI, real codex)', () => {
  it("status shows the account's limits per host, and per workspace its tokens and last 30 minutes; --json carries the same", async () => {
    const repo = await env.workspace('usage');
    expect((await runBuiltCli(['workspace', 'add', repo, '--name', 'api'], { env: cliEnv })).code).toBe(0);
    const plan = JSON.stringify({ version: 1, id: 'usage', actions: [{ id: 'a', workspace: 'api', prompt: 'hello', thread: 'new' }] });
    expect((await runBuiltCli(['dispatch', '--plan', '-'], { env: cliEnv, input: plan })).code).toBe(0);

    const text = await runBuiltCli(['status'], { env: cliEnv });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/ {4}limits: 5h 42% used \(resets in 2h 0\dm\) · 7d 13% used\n/);
    // The turn ran this minute (or the one before, should a minute have begun since).
    expect(text.stdout).toMatch(/^api {2}\[\w+\] {2}\S+ {2}\d+ tokens {2}last 30 min \| {28}[ ▁▂▃▄▅▆▇█]{2}\|$/m);

    const json = JSON.parse((await runBuiltCli(['status', '--json'], { env: cliEnv })).stdout);
    expect(json.hosts[0].rateLimits).toMatchObject({
      primary: { usedPercent: 42, windowMins: 300, resetsAtMs: resetAtSec * 1000 },
      secondary: { usedPercent: 13, windowMins: 10080 },
      reached: null,
    });
    const [ws] = json.workspaces;
    expect(ws.tokens).toBeGreaterThan(0);
    expect(ws.tokens).toBe(ws.threads.reduce((sum: number, t: { tokenUsage: { totalTokens: number } | null }) => sum + (t.tokenUsage?.totalTokens ?? 0), 0));
    expect(ws.activity).toHaveLength(30);
    expect(ws.activity.slice(0, 28).every((n: number) => n === 0)).toBe(true);
    expect(ws.activity[28] + ws.activity[29]).toBeGreaterThan(0);
  });
});
