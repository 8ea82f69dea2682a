// A v2 plan runs in the daemon's loop: it goes on after the dispatching CLI is killed, and a
// daemon restarted from its state file resumes it (built CLI, real codex, mock model).
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { daemonPaths } from '../../src/core/daemon/home.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { CLI, runBuiltCli } from '../support/runBuiltCli.js';

let env: RealCodexEnv;
let home: string;
let cliEnv: Record<string, string>;

const cli = (args: string[]) => runBuiltCli(args, { env: cliEnv });

async function planFile(plan: Record<string, unknown>): Promise<string> {
  const file = join(home, `${String(plan.id)}.json`);
  await writeFile(file, JSON.stringify({ version: 2, ...plan }));
  return file;
}

/** Starts `dispatch` and kills it (SIGKILL) once the daemon's mock saw `requests` more requests. */
async function dispatchThenKill(file: string, requests: number): Promise<void> {
  const before = env.mock.requests.length;
  const child = execa(process.execPath, [CLI, 'dispatch', '--plan', file, '--json'], { env: cliEnv, reject: false });
  const deadline = Date.now() + 30_000;
  while (env.mock.requests.length < before + requests && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await child;
}

beforeAll(async () => {
  env = await startRealCodexEnv();
  home = await mkdtemp(join(tmpdir(), 'cm-plan-v2-daemon-'));
  const api = await env.workspace('api');
  cliEnv = { ...env.home.env, CM_SUPERVISOR_HOME: home, NO_COLOR: '1' };
  expect((await cli(['workspace', 'add', api, '--name', 'api'])).code).toBe(0);
  expect((await cli(['daemon', 'start'])).code).toBe(0);
});
afterAll(async () => {
  await cli(['daemon', 'stop', '--grace', '0']);
  await env?.cleanup();
  await rm(home, { recursive: true, force: true });
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail' && existsSync(daemonPaths(home).log)) console.error(`daemon log:\n${readFileSync(daemonPaths(home).log, 'utf8')}`);
});

describe('v2 plans in the daemon', () => {
  it('go on after the dispatching CLI is killed; dispatching the plan again waits for the same run', async () => {
    const file = await planFile({
      id: 'detached',
      actions: [
        { id: 'a', workspace: 'api', prompt: '[slow 800ms] first detached', thread: 'new' },
        { id: 'b', workspace: 'api', prompt: 'second detached', thread: 'new', after: ['a'] },
      ],
    });
    await dispatchThenKill(file, 1);
    // No CLI waits now: the daemon starts b once a completed.
    const detached = () => env.mock.requests.filter((r) => r.lastUserText?.includes('detached'));
    const deadline = Date.now() + 15_000;
    while (detached().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(detached().map((r) => r.lastUserText)).toEqual(['[slow 800ms] first detached', 'second detached']);
    const again = await cli(['dispatch', '--plan', file, '--json']);
    expect(again.code).toBe(0);
    const rows = JSON.parse(again.stdout).results;
    expect(rows.map((r: { id: string; status: string; attempts: unknown[] }) => [r.id, r.status, r.attempts.length])).toEqual([
      ['a', 'completed', 1],
      ['b', 'completed', 1],
    ]);
    expect(detached()).toHaveLength(2);
  });

  it('a daemon restarted from its state resumes the run: the turn its stop interrupted is retried, then its dependent runs', async () => {
    const file = await planFile({
      id: 'resumed',
      actions: [
        { id: 'a', workspace: 'api', prompt: '[silent-once] long resumed', thread: 'new', retry: { attempts: 1, backoffSec: 0 } },
        { id: 'b', workspace: 'api', prompt: 'after resumed', thread: 'new', after: ['a'] },
      ],
    });
    await dispatchThenKill(file, 1);
    expect((await cli(['daemon', 'stop', '--grace', '0'])).code).toBe(0);
    expect((await cli(['daemon', 'start'])).code).toBe(0);
    const again = await cli(['dispatch', '--plan', file, '--json']);
    const rows = JSON.parse(again.stdout).results;
    expect(again.code).toBe(0);
    expect(rows[0]).toMatchObject({ id: 'a', status: 'completed', attempts: [{ n: 1, outcome: 'interrupted', failure: 'transient' }, { n: 2, outcome: 'completed' }] });
    expect(rows[1]).toMatchObject({ id: 'b', status: 'completed' });
  });
});
