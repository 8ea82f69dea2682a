import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DispatchLedger } from '../../src/core/dispatch/ledger.js';
import { Supervisor } from '../../src/core/loop/supervisor.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';

let env: RealCodexEnv | null = null;
let supervisor: Supervisor | null = null;
let dir: string | null = null;

afterEach(async () => {
  await supervisor?.stop();
  await env?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
  supervisor = null;
  env = null;
  dir = null;
});

describe('dispatch in one process (the daemon serving two clients)', () => {
  it('two dispatches of the same plan at once send each action once; the other reports it skipped', async () => {
    env = await startRealCodexEnv();
    dir = await mkdtemp(join(tmpdir(), 'cm-ledger-inproc-'));
    const workspaces = [{ name: 'api', path: await env.workspace('api') }];
    supervisor = new Supervisor({ workspaces, codexBin: env.codexBin, env: env.home.env, ledger: new DispatchLedger(join(dir, 'dispatch-ledger.json')) });
    await supervisor.start();
    const plan = {
      version: 1,
      id: 'twice',
      actions: [
        { id: 'one', workspace: 'api', prompt: 'twice one', thread: 'new' },
        { id: 'two', workspace: 'api', prompt: 'twice two', thread: 'new' },
      ],
    };
    const [a, b] = await Promise.all([supervisor.dispatch(plan), supervisor.dispatch(plan)]);
    const statuses = [...a.results, ...b.results].map((r) => `${r.id}:${r.status}`).sort();
    expect(statuses).toEqual(['one:dispatched', 'one:skipped', 'two:dispatched', 'two:skipped']);
    await supervisor.waitUntil((s) => s.jobs['twice:one']?.status === 'completed' && s.jobs['twice:two']?.status === 'completed', 30_000);
    expect(env.mock.requests.map((r) => r.lastUserText).sort()).toEqual(['twice one', 'twice two']);
  });
});
