import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { runBuiltCli } from '../support/runBuiltCli.js';

let env: RealCodexEnv;
let home: string;
let api: string;
let web: string;
let cliEnv: Record<string, string>;

async function writePlan(name: string, plan: unknown): Promise<string> {
  const file = join(home, name);
  await writeFile(file, typeof plan === 'string' ? plan : JSON.stringify(plan));
  return file;
}

async function dispatch(args: string[], extraEnv: Record<string, string> = {}) {
  return runBuiltCli(['dispatch', ...args], { env: { ...cliEnv, ...extraEnv } });
}

/** Changes a ledger entry on disk as a crash would have left it; returns the ledger's path. */
async function rewindLedger(key: string, entry: Record<string, unknown>): Promise<string> {
  const ledgerFile = join(home, 'dispatch-ledger.json');
  const ledger = JSON.parse(await readFile(ledgerFile, 'utf8'));
  ledger.entries[key] = { ...ledger.entries[key], ...entry };
  await writeFile(ledgerFile, JSON.stringify(ledger));
  return ledgerFile;
}

beforeAll(async () => {
  env = await startRealCodexEnv();
  home = await mkdtemp(join(tmpdir(), 'cm-dispatch-home-'));
  api = await env.workspace('api');
  web = await env.workspace('web');
  cliEnv = { ...env.home.env, CM_SUPERVISOR_HOME: home };
  for (const [path, name] of [
    [api, 'api'],
    [web, 'web'],
  ]) {
    expect((await runBuiltCli(['workspace', 'add', path!, '--name', name!], { env: cliEnv })).code).toBe(0);
  }
});
afterAll(async () => {
  await env?.cleanup();
  await rm(home, { recursive: true, force: true });
});

describe('cm-supervisor dispatch (built CLI, real codex)', () => {
  it('dispatches to two workspaces in one run; a re-run is skipped; --force sends again', async () => {
    const plan = await writePlan('two.json', {
      version: 1,
      id: 'two',
      actions: [
        { id: 'api-tests', workspace: 'api', prompt: 'Run the tests', thread: 'new' },
        { id: 'web-lint', workspace: 'web', prompt: 'Fix the lint errors' },
      ],
    });
    const first = await dispatch(['--plan', plan, '--json']);
    expect(first.code).toBe(0);
    const doc = JSON.parse(first.stdout);
    expect(doc.plan).toBe('two');
    expect(doc.results).toEqual([
      expect.objectContaining({ id: 'api-tests', workspace: 'api', status: 'completed', finalMessage: 'Done: Run the tests', error: null }),
      expect.objectContaining({ id: 'web-lint', workspace: 'web', status: 'completed', finalMessage: 'Done: Fix the lint errors' }),
    ]);
    const requests = env.mock.requests.length;

    const again = await dispatch(['--plan', plan, '--json']);
    expect(again.code).toBe(0);
    const skipped = JSON.parse(again.stdout).results;
    expect(skipped.map((r: { status: string }) => r.status)).toEqual(['skipped', 'skipped']);
    expect(skipped[0].turnId).toBe(doc.results[0].turnId);
    expect(env.mock.requests.length).toBe(requests);

    const forced = await dispatch(['--plan', plan, '--json', '--force']);
    expect(forced.code).toBe(0);
    const resent = JSON.parse(forced.stdout).results;
    expect(resent.map((r: { status: string }) => r.status)).toEqual(['completed', 'completed']);
    expect(resent[0].turnId).not.toBe(doc.results[0].turnId);
    expect(env.mock.requests.length).toBe(requests + 2);
  });

  it('a crash between the two ledger writes does not send the turn twice', async () => {
    const plan = await writePlan('crash.json', { version: 1, id: 'crash', actions: [{ id: 'one', workspace: 'api', prompt: 'only once please', thread: 'new' }] });
    const first = JSON.parse((await dispatch(['--plan', plan, '--json'])).stdout).results[0];
    expect(first.status).toBe('completed');
    // Rewind the ledger to the state after the first write ("sending"), as a crash would leave it.
    await rewindLedger('crash:one', { status: 'sending', turnId: null });
    const requests = env.mock.requests.length;
    const rerun = JSON.parse((await dispatch(['--plan', plan, '--json'])).stdout).results[0];
    expect(rerun).toMatchObject({ status: 'skipped', threadId: first.threadId, turnId: first.turnId });
    expect(env.mock.requests.length).toBe(requests);
  });

  it('a crash before the thread was recorded: the re-run finds the turn among the workspace threads', async () => {
    const plan = await writePlan('crash-early.json', { version: 1, id: 'early', actions: [{ id: 'one', workspace: 'web', prompt: 'just once', thread: 'new' }] });
    const first = JSON.parse((await dispatch(['--plan', plan, '--json'])).stdout).results[0];
    expect(first.status).toBe('completed');
    // The entry as the plan-start write leaves it: sending, no thread yet.
    const ledgerFile = await rewindLedger('early:one', { status: 'sending', threadId: null, turnId: null });
    const requests = env.mock.requests.length;
    const rerun = JSON.parse((await dispatch(['--plan', plan, '--json'])).stdout).results[0];
    expect(rerun).toMatchObject({ status: 'skipped', threadId: first.threadId, turnId: first.turnId });
    expect(env.mock.requests.length).toBe(requests);
    const repaired = JSON.parse(await readFile(ledgerFile, 'utf8')).entries['early:one'];
    expect(repaired).toMatchObject({ status: 'sent', threadId: first.threadId, turnId: first.turnId });
  });

  it('an app-server that cannot start fails its action at once with the reason, and a later run sends it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cm-brokenbin-'));
    const broken = join(dir, 'codex');
    await writeFile(broken, '#!/bin/sh\necho "config.toml: invalid model provider" >&2\nexit 1\n');
    await chmod(broken, 0o755);
    const plan = await writePlan('broken.json', { version: 1, id: 'broken', actions: [{ id: 'one', workspace: 'api', prompt: 'after the fix', thread: 'new' }] });
    const r = await dispatch(['--plan', plan, '--json'], { CM_SUPERVISOR_CODEX_BIN: broken });
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout).results[0];
    expect(result.status).toBe('failed');
    expect(result.error).toContain('workspace "api" is on host "local", which is not connected (restarting)');
    expect(result.error).toContain('exited');
    const fixed = JSON.parse((await dispatch(['--plan', plan, '--json'])).stdout).results[0];
    expect(fixed).toMatchObject({ status: 'completed', finalMessage: 'Done: after the fix' });
    await rm(dir, { recursive: true, force: true });
  });

  it('one failing action fails the run (exit 1) while the other completes', async () => {
    const plan = await writePlan('mixed.json', {
      version: 1,
      actions: [
        { id: 'good', workspace: 'api', prompt: 'all fine', thread: 'new' },
        { id: 'bad', workspace: 'web', prompt: '[fail] break', thread: 'new' },
      ],
    });
    const r = await dispatch(['--plan', plan]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/good\s+api\s+completed/);
    expect(r.stdout).toMatch(/bad\s+web\s+failed/);
  });

  it('approvals: accept runs the command, decline (the default without a terminal) does not', async () => {
    const declinedPlan = await writePlan('decline.json', {
      version: 1,
      actions: [{ id: 'touch', workspace: 'api', prompt: `[exec touch ${api}/declined.txt] go`, thread: 'new' }],
    });
    const declined = await dispatch(['--plan', declinedPlan]);
    expect(declined.code).toBe(0);
    expect(declined.stderr).toContain(`api: declined \`touch ${api}/declined.txt\` (no terminal to ask on`);
    expect(existsSync(join(api, 'declined.txt'))).toBe(false);

    const acceptedPlan = await writePlan('accept.json', {
      version: 1,
      actions: [{ id: 'touch', workspace: 'api', prompt: `[exec touch ${api}/accepted.txt] go`, thread: 'new' }],
    });
    const accepted = await dispatch(['--plan', acceptedPlan, '--on-approval', 'accept', '--json']);
    expect(accepted.code).toBe(0);
    expect(accepted.stderr).toContain(`api: approved \`touch ${api}/accepted.txt\` (--on-approval accept)`);
    expect(existsSync(join(api, 'accepted.txt'))).toBe(true);
  });

  it('--timeout interrupts a turn that does not finish (exit 1, status timeout)', async () => {
    const plan = await writePlan('slow.json', { version: 1, actions: [{ id: 'hang', workspace: 'api', prompt: '[silent] never answers', thread: 'new' }] });
    const r = await dispatch(['--plan', plan, '--timeout', '1', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ status: 'timeout', error: 'timed out; the turn was interrupted' });
  });

  it('reads a plan from stdin (paths relative to the cwd) and supports --dry-run', async () => {
    const plan = JSON.stringify({ version: 1, actions: [{ id: 'dir', workspace: web, prompt: 'hello', thread: 'latest' }] });
    const r = await runBuiltCli(['dispatch', '--plan', '-', '--dry-run'], { env: cliEnv, input: plan });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dry run (nothing dispatched)');
    expect(r.stdout).toMatch(/dir\s+web\s+would dispatch\s+\w{6}\s+would continue thread/);
  });

  it('--dry-run of a plan partly dispatched: would skip (dispatched …) and would dispatch, exit 0, nothing sent', async () => {
    const done = { id: 'done', workspace: 'api', prompt: 'already done', thread: 'new' };
    const first = await dispatch(['--plan', await writePlan('dry-first.json', { version: 1, id: 'dry', actions: [done] }), '--json']);
    const sent = JSON.parse(first.stdout).results[0];
    expect(sent.status).toBe('completed');
    const requests = env.mock.requests.length;

    const plan = await writePlan('dry.json', { version: 1, id: 'dry', actions: [done, { id: 'fresh', workspace: 'web', prompt: 'not yet', thread: 'new' }] });
    const text = await dispatch(['--plan', plan, '--dry-run']);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toContain('dry run (nothing dispatched)');
    expect(text.stdout).toMatch(new RegExp(`done\\s+api\\s+would skip \\(dispatched (just now|\\d+s ago)\\)\\s+${sent.threadId.slice(-6)}\\s+--force sends it again`));
    expect(text.stdout).toMatch(/fresh\s+web\s+would dispatch\s+-\s+would start a new thread/);

    const json = await dispatch(['--plan', plan, '--dry-run', '--json']);
    expect(json.code).toBe(0);
    const [skipped, planned] = JSON.parse(json.stdout).results;
    expect(skipped).toMatchObject({ id: 'done', status: 'skipped', threadId: sent.threadId, turnId: sent.turnId, error: null, dispatchedAtMs: expect.any(Number) });
    expect(Date.now() - skipped.dispatchedAtMs).toBeLessThan(60_000);
    expect(planned).toMatchObject({ id: 'fresh', status: 'planned', threadId: null, turnId: null, error: null });
    expect(planned).not.toHaveProperty('dispatchedAtMs');
    expect(env.mock.requests.length).toBe(requests);
    const ledger = JSON.parse(await readFile(join(home, 'dispatch-ledger.json'), 'utf8'));
    expect(ledger.entries['dry:fresh']).toBeUndefined();
  });

  describe('invalid plans exit 2 with the right message and start no app-server', () => {
    let marker: string;
    let fakeCodex: string;
    beforeAll(async () => {
      const dir = await mkdtemp(join(tmpdir(), 'cm-fakebin-'));
      marker = join(dir, 'started');
      fakeCodex = join(dir, 'codex');
      await writeFile(fakeCodex, `#!/bin/sh\ntouch ${marker}\nexit 1\n`);
      await chmod(fakeCodex, 0o755);
      await mkdir(join(home, 'notadir-parent'), { recursive: true });
      await writeFile(join(home, 'notadir-parent', 'file.txt'), 'x');
    });

    const cases: [string, unknown, string][] = [
      ['empty file', '', 'the plan is empty'],
      ['not JSON', '{"version": 1,\n  "actions": [,]}', 'not valid JSON at line 2, column 15: unexpected ","'],
      ['wrong version', { version: 3, actions: [{ id: 'a', workspace: 'api', prompt: 'x' }] }, 'version: version must be 2 (dependencies, concurrency, retries, worktrees, reviews) or 1'],
      ['no actions', { version: 1, actions: [] }, 'actions: a plan needs at least one action'],
      ['duplicate ids', { version: 1, actions: [{ id: 'a', workspace: 'api', prompt: 'x' }, { id: 'a', workspace: 'web', prompt: 'y' }] }, 'actions[1].id: duplicate action id "a"'],
      ['bad id', { version: 1, actions: [{ id: 'no spaces', workspace: 'api', prompt: 'x' }] }, 'actions[0].id: use 1 to 64 letters'],
      ['empty prompt', { version: 1, actions: [{ id: 'a', workspace: 'api', prompt: '   ' }] }, 'actions[0].prompt: the prompt is empty'],
      ['unknown workspace', { version: 1, actions: [{ id: 'a', workspace: 'apj', prompt: 'x' }] }, 'actions[0].workspace: unknown workspace "apj" (did you mean "api"?)'],
      ['not a directory', { version: 1, actions: [{ id: 'a', workspace: './notadir-parent/file.txt', prompt: 'x' }] }, 'file.txt is not a directory'],
      ['unknown key', { version: 1, actions: [{ id: 'a', workspace: 'api', prompt: 'x', priority: 1 }] }, 'actions[0].priority: unknown key "priority"'],
      ['bad thread id', { version: 1, actions: [{ id: 'a', workspace: 'api', prompt: 'x', thread: 'abc' }] }, 'actions[0].thread: thread must be "new", "latest" or a thread id'],
    ];
    for (const [name, plan, message] of cases) {
      it(name, async () => {
        const file = await writePlan(`invalid-${name.replace(/\W+/g, '-')}.json`, plan);
        const r = await dispatch(['--plan', file], { CM_SUPERVISOR_CODEX_BIN: fakeCodex });
        expect(r.code).toBe(2);
        expect(r.stderr).toContain('nothing was dispatched');
        expect(r.stderr).toContain(message);
        expect(existsSync(marker)).toBe(false);
      });
    }

    it('a missing file and an oversized file', async () => {
      const missing = await dispatch(['--plan', join(home, 'nope.json')], { CM_SUPERVISOR_CODEX_BIN: fakeCodex });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain(`plan file ${join(home, 'nope.json')} not found`);
      const big = await writePlan('big.json', JSON.stringify({ version: 1, actions: [{ id: 'a', workspace: 'api', prompt: 'x'.repeat(1_100_000) }] }));
      const oversized = await dispatch(['--plan', big], { CM_SUPERVISOR_CODEX_BIN: fakeCodex });
      expect(oversized.code).toBe(2);
      expect(oversized.stderr).toContain('over the 1 MB limit');
      expect(existsSync(marker)).toBe(false);
    });

    it('--json prints every problem with its path', async () => {
      const file = await writePlan('multi.json', { version: 3, actions: [{ id: 'a', workspace: 'nope', prompt: '' }], extra: true });
      const r = await dispatch(['--plan', file, '--json'], { CM_SUPERVISOR_CODEX_BIN: fakeCodex });
      expect(r.code).toBe(2);
      const { errors } = JSON.parse(r.stdout);
      expect(errors.map((e: { path: string }) => e.path).sort()).toEqual(['actions[0].prompt', 'actions[0].workspace', 'extra', 'version']);
      expect(existsSync(marker)).toBe(false);
    });
  });
});
