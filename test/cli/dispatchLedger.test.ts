import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { childPids } from '../support/processes.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { CLI, runBuiltCli } from '../support/runBuiltCli.js';

/**
 * The dispatch ledger as the one truth of what was sent, whoever dispatches: several processes
 * at once, a daemon and runs without it, turns lost since, stale locks (real codex app-server).
 */
let env: RealCodexEnv;
let api: string;
const homes: string[] = [];
const daemons: Record<string, string>[] = [];

beforeAll(async () => {
  env = await startRealCodexEnv();
  api = await env.workspace('api');
});
afterEach(async () => {
  for (const cliEnv of daemons.splice(0)) await runBuiltCli(['daemon', 'stop'], { env: cliEnv });
});
afterAll(async () => {
  await env?.cleanup();
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

/** A fresh supervisor home with the `api` workspace; its CLI environment. */
async function freshHome(): Promise<{ home: string; cliEnv: Record<string, string> }> {
  const home = await mkdtemp(join(tmpdir(), 'cm-ledger-home-'));
  homes.push(home);
  const cliEnv = { ...env.home.env, CM_SUPERVISOR_HOME: home };
  expect((await runBuiltCli(['workspace', 'add', api, '--name', 'api'], { env: cliEnv })).code).toBe(0);
  return { home, cliEnv };
}

/** Starts the home's daemon; its pid. */
async function startDaemon(cliEnv: Record<string, string>): Promise<number> {
  const start = await runBuiltCli(['daemon', 'start'], { env: cliEnv });
  expect(start.code, start.stderr).toBe(0);
  daemons.push(cliEnv);
  return Number(/pid (\d+)/.exec(start.stdout)![1]);
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function writePlan(home: string, plan: unknown): Promise<string> {
  const file = join(home, `${(plan as { id: string }).id}.json`);
  await writeFile(file, JSON.stringify(plan));
  return file;
}

/** The prompts that reached the model since request number `from`. */
const promptsSince = (from: number) => env.mock.requests.slice(from).map((r) => r.lastUserText);

/** The pid of a process that has ended (for locks and entries left by a dead process). */
async function deadPid(): Promise<number> {
  const child = execa(process.execPath, ['-e', '']);
  await child;
  return child.pid!;
}

const ledgerOf = async (home: string) => JSON.parse(await readFile(join(home, 'dispatch-ledger.json'), 'utf8'));

/** A process that, at `startAtMs`, claims actions a1..a3 of the ledger unless it has them; prints the ones it claimed. */
const CLAIMER = `
const { DispatchLedger } = await import(process.argv[1]);
const [path, startAtMs] = [process.argv[2], Number(process.argv[3])];
const ledger = new DispatchLedger(path);
while (Date.now() < startAtMs);
const claimed = await ledger.update((entries) => ['a1', 'a2', 'a3'].filter((a) => {
  if (entries['p:' + a]) return false;
  ledger.claim(entries, { key: 'p:' + a, planId: 'p', actionId: a, workspace: 'ws', threadId: null, clientUserMessageId: 'p:' + a });
  return true;
}));
console.log(JSON.stringify(claimed));
`;

describe('the dispatch ledger, shared by every process of a home', () => {
  it('eight processes claiming the same actions at the same moment: each action is claimed once', async () => {
    const home = await mkdtemp(join(tmpdir(), 'cm-ledger-home-'));
    homes.push(home);
    const ledgerModule = join(CLI, '../../core/dispatch/ledger.js');
    const startAtMs = Date.now() + 1500;
    const runs = await Promise.all(
      Array.from({ length: 8 }, () => execa(process.execPath, ['--input-type=module', '-e', CLAIMER, ledgerModule, join(home, 'dispatch-ledger.json'), String(startAtMs)])),
    );
    expect(runs.flatMap((r) => JSON.parse(r.stdout)).sort()).toEqual(['a1', 'a2', 'a3']);
    expect(Object.keys((await ledgerOf(home)).entries).sort()).toEqual(['p:a1', 'p:a2', 'p:a3']);
  });

  it('six dispatches of a two-action plan started together (one runs the loop, the others use it) send each action once', async () => {
    const { home, cliEnv } = await freshHome();
    const plan = await writePlan(home, {
      version: 1,
      id: 'race',
      actions: [
        { id: 'one', workspace: 'api', prompt: 'race one', thread: 'new' },
        { id: 'two', workspace: 'api', prompt: 'race two', thread: 'new' },
      ],
    });
    const before = env.mock.requests.length;
    const runs = await Promise.all([0, 1, 2, 3, 4, 5].map(() => runBuiltCli(['dispatch', '--plan', plan, '--json'], { env: cliEnv })));
    expect(promptsSince(before).sort()).toEqual(['race one', 'race two']);
    const statuses = runs.flatMap((run) => (run.code === 0 ? JSON.parse(run.stdout).results.map((r: { id: string; status: string }) => `${r.id}:${r.status}`) : []));
    expect(statuses.filter((s) => s.endsWith(':completed')).sort()).toEqual(['one:completed', 'two:completed']);
    expect(statuses.every((s) => s.endsWith(':completed') || s.endsWith(':skipped'))).toBe(true);
    // A run whose dispatch reached the loop as the command running it ended (a separate limit of
    // the in-process loop) fails with that, never with a second turn.
    for (const run of runs.filter((r) => r.code !== 0)) expect(run.stderr).toContain('the connection to the cm-supervisor daemon was lost');
  });

  it('four `--no-daemon` dispatches started together: two turns in all; every other run skips or is refused', async () => {
    const { home, cliEnv } = await freshHome();
    const plan = await writePlan(home, {
      version: 1,
      id: 'solo',
      actions: [
        { id: 'one', workspace: 'api', prompt: 'solo one', thread: 'new' },
        { id: 'two', workspace: 'api', prompt: 'solo two', thread: 'new' },
      ],
    });
    const before = env.mock.requests.length;
    const runs = await Promise.all([0, 1, 2, 3].map(() => runBuiltCli(['--no-daemon', 'dispatch', '--plan', plan, '--json'], { env: cliEnv })));
    expect(promptsSince(before).sort()).toEqual(['solo one', 'solo two']);
    for (const run of runs) {
      // The home's one loop refuses a second `--no-daemon` loop while it runs (exit 2).
      if (run.code === 2) expect(run.stderr).toContain('--no-daemon would start a second loop');
      // Printed with what it said: a run that wrote no JSON failed some other way.
      else if (!run.stdout) expect.fail(`a run printed nothing and exited ${run.code}: ${run.stderr}`);
      else expect(JSON.parse(run.stdout).results.map((r: { status: string }) => r.status).every((s: string) => s === 'completed' || s === 'skipped')).toBe(true);
    }
  });

  it('a daemon reads the ledger fresh: what another process recorded after it started is skipped', async () => {
    const { home, cliEnv } = await freshHome();
    const plan = await writePlan(home, { version: 1, id: 'fresh', actions: [{ id: 'one', workspace: 'api', prompt: 'fresh one', thread: 'new' }] });
    const first = await runBuiltCli(['--no-daemon', 'dispatch', '--plan', plan, '--json'], { env: cliEnv });
    expect(JSON.parse(first.stdout).results[0].status).toBe('completed');
    const recorded = await readFile(join(home, 'dispatch-ledger.json'), 'utf8');

    // Plain order: `--no-daemon`, then a daemon: skipped.
    await startDaemon(cliEnv);
    const before = env.mock.requests.length;
    const again = await runBuiltCli(['dispatch', '--plan', plan, '--json'], { env: cliEnv });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).results[0]).toMatchObject({ status: 'skipped', turnId: JSON.parse(first.stdout).results[0].turnId });
    expect(env.mock.requests.length).toBe(before);
    await runBuiltCli(['daemon', 'stop'], { env: cliEnv });
    daemons.splice(0);

    // A daemon started before the entry was written (by another process) still sees it.
    await writeFile(join(home, 'dispatch-ledger.json'), JSON.stringify({ version: 1, entries: {} }));
    await startDaemon(cliEnv);
    await writeFile(join(home, 'dispatch-ledger.json'), recorded);
    const late = await runBuiltCli(['dispatch', '--plan', plan, '--json'], { env: cliEnv });
    expect(late.code).toBe(0);
    expect(JSON.parse(late.stdout).results[0].status).toBe('skipped');
    expect(env.mock.requests.length).toBe(before);
  });

  it('a re-run of a plan whose turn was lost reports `interrupted (turn lost: …)`, exit 1; --retry-failed sends only it', async () => {
    const { home, cliEnv } = await freshHome();
    const plan = await writePlan(home, {
      version: 1,
      id: 'lost',
      actions: [
        { id: 'fine', workspace: 'api', prompt: 'lost fine', thread: 'new' },
        { id: 'hang', workspace: 'api', prompt: '[silent] lost hang', thread: 'new' },
      ],
    });
    const first = await runBuiltCli(['dispatch', '--plan', plan, '--timeout', '3', '--json'], { env: cliEnv });
    expect(JSON.parse(first.stdout).results.map((r: { status: string }) => r.status)).toEqual(['completed', 'timeout']);
    const hangTurn = JSON.parse(first.stdout).results[1].turnId;

    const before = env.mock.requests.length;
    const rerun = await runBuiltCli(['dispatch', '--plan', plan], { env: cliEnv });
    expect(rerun.code).toBe(1);
    expect(rerun.stdout).toMatch(/fine\s+api\s+skipped/);
    // The loop's record of the job says why (the timeout's interrupt, or the run's stop racing it).
    expect(rerun.stdout).toMatch(/hang\s+api\s+interrupted \(turn lost: (turn interrupted|interrupted \(cm-supervisor stopped\))\)\s+-\s+\w{6}\s+dispatched (just now|\d+s ago)/);
    expect(rerun.stdout).toContain('its turn was lost or failed since the earlier dispatch: --retry-failed sends it again');

    // Without the loop's record of the job, Codex's own record of the turn says the same.
    await rm(join(home, 'state.json'));
    const json = await runBuiltCli(['dispatch', '--plan', plan, '--json'], { env: cliEnv });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).results[1]).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/^turn lost: the turn was interrupted/), turnId: hangTurn, retryable: true });
    expect(env.mock.requests.length).toBe(before);

    const help = await runBuiltCli(['dispatch', '--help'], { env: cliEnv });
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('--retry-failed dispatch again only the actions whose earlier turn was lost');
    const retry = await runBuiltCli(['dispatch', '--plan', plan, '--retry-failed', '--timeout', '2', '--json'], { env: cliEnv });
    const [fine, hang] = JSON.parse(retry.stdout).results;
    expect(fine.status).toBe('skipped');
    expect(hang.status).toBe('timeout');
    expect(hang.turnId).not.toBe(hangTurn);
    expect(promptsSince(before)).toEqual(['[silent] lost hang']);
  });

  it('a turn lost with its app-server (kill -9 under the daemon): the re-run says so, exit 1; --retry-failed sends it again', async () => {
    const { home, cliEnv } = await freshHome();
    const daemon = await startDaemon(cliEnv);
    const plan = await writePlan(home, { version: 1, id: 'killed', actions: [{ id: 'one', workspace: 'api', prompt: '[silent] killed one', thread: 'new' }] });
    const before = env.mock.requests.length;
    const running = runBuiltCli(['dispatch', '--plan', plan, '--json'], { env: cliEnv });
    await until(() => promptsSince(before).includes('[silent] killed one'), 'the turn to reach the model');
    const appServers = childPids(daemon).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('app-server');
      } catch {
        return false;
      }
    });
    expect(appServers.length).toBeGreaterThan(0);
    for (const pid of appServers) process.kill(pid, 'SIGKILL');
    const first = await running;
    expect(first.code).toBe(1);
    const turnId = JSON.parse(first.stdout).results[0].turnId;

    const rerun = await runBuiltCli(['dispatch', '--plan', plan, '--json'], { env: cliEnv });
    expect(rerun.code).toBe(1);
    expect(JSON.parse(rerun.stdout).results[0]).toMatchObject({ status: 'interrupted', error: 'turn lost: the app-server was killed by SIGKILL', turnId, retryable: true });
    expect(promptsSince(before)).toEqual(['[silent] killed one']);

    const retry = await runBuiltCli(['dispatch', '--plan', plan, '--retry-failed', '--timeout', '2', '--json'], { env: cliEnv });
    expect(JSON.parse(retry.stdout).results[0]).toMatchObject({ status: 'timeout' });
    expect(JSON.parse(retry.stdout).results[0].turnId).not.toBe(turnId);
    expect(promptsSince(before)).toEqual(['[silent] killed one', '[silent] killed one']);
  });

  it('a turn that failed: the re-run reports it failed (turn failed: …), exit 1; --retry-failed sends it again', async () => {
    const { home, cliEnv } = await freshHome();
    const plan = await writePlan(home, { version: 1, id: 'failing', actions: [{ id: 'one', workspace: 'api', prompt: '[fail] failing one', thread: 'new' }] });
    const first = await runBuiltCli(['dispatch', '--plan', plan, '--json'], { env: cliEnv });
    expect(JSON.parse(first.stdout).results[0].status).toBe('failed');
    const before = env.mock.requests.length;
    const rerun = await runBuiltCli(['dispatch', '--plan', plan], { env: cliEnv });
    expect(rerun.code).toBe(1);
    expect(rerun.stdout).toMatch(/one\s+api\s+failed \(turn failed: .+\)/);
    expect(env.mock.requests.length).toBe(before);
    const retry = await runBuiltCli(['dispatch', '--plan', plan, '--retry-failed', '--json'], { env: cliEnv });
    expect(JSON.parse(retry.stdout).results[0]).toMatchObject({ status: 'failed' });
    expect(JSON.parse(retry.stdout).results[0].turnId).not.toBe(JSON.parse(first.stdout).results[0].turnId);
    expect(promptsSince(before).length).toBeGreaterThan(0);
    expect(new Set(promptsSince(before))).toEqual(new Set(['[fail] failing one']));
  });

  it('an action left `sending` by a process that died, with no turn in Codex, is a lost turn; --retry-failed sends it', async () => {
    const { home, cliEnv } = await freshHome();
    const plan = await writePlan(home, { version: 1, id: 'died', actions: [{ id: 'one', workspace: 'api', prompt: 'died one', thread: 'new' }] });
    const pid = await deadPid();
    await writeFile(
      join(home, 'dispatch-ledger.json'),
      JSON.stringify({
        version: 1,
        entries: {
          'died:one': { key: 'died:one', planId: 'died', actionId: 'one', workspace: 'api', status: 'sending', threadId: null, turnId: null, clientUserMessageId: 'died:one', updatedAtMs: Date.now(), sender: { pid, startTicks: null } },
        },
      }),
    );
    const before = env.mock.requests.length;
    const rerun = await runBuiltCli(['dispatch', '--plan', plan, '--json'], { env: cliEnv });
    expect(rerun.code).toBe(1);
    expect(JSON.parse(rerun.stdout).results[0]).toMatchObject({
      status: 'interrupted',
      error: `turn lost: process ${pid} ended before Codex answered turn/start, and no turn carries its key died:one`,
    });
    expect(env.mock.requests.length).toBe(before);

    const retry = await runBuiltCli(['dispatch', '--plan', plan, '--retry-failed', '--json'], { env: cliEnv });
    expect(retry.code).toBe(0);
    expect(JSON.parse(retry.stdout).results[0]).toMatchObject({ status: 'completed', finalMessage: 'Done: died one' });
    expect(promptsSince(before)).toEqual(['died one']);
    expect((await ledgerOf(home)).entries['died:one']).toMatchObject({ status: 'sent', sender: null });
  });

  it('a ledger lock left by a dead process is taken over', async () => {
    const { home, cliEnv } = await freshHome();
    const plan = await writePlan(home, { version: 1, id: 'stale', actions: [{ id: 'one', workspace: 'api', prompt: 'stale one', thread: 'new' }] });
    const lock = join(home, 'dispatch-ledger.json.lock');
    await writeFile(lock, JSON.stringify({ pid: await deadPid(), startTicks: null, acquiredAtMs: Date.now() - 60_000 }));
    const started = Date.now();
    const run = await runBuiltCli(['dispatch', '--plan', plan, '--json'], { env: cliEnv });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).results[0].status).toBe('completed');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(existsSync(lock)).toBe(false);
    expect((await ledgerOf(home)).entries['stale:one'].status).toBe('sent');
  });
});
