import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from '../support/runBuiltCli.js';

// Bad v2 plans exit 2 naming each problem's JSON path, and start nothing: the codex binary
// here only leaves a marker when it is run.
let home: string;
let marker: string;
let cliEnv: Record<string, string>;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'cm-plan-v2-cli-'));
  marker = join(home, 'started');
  const fakeCodex = join(home, 'codex');
  await writeFile(fakeCodex, `#!/bin/sh\ntouch ${marker}\nexit 1\n`);
  await chmod(fakeCodex, 0o755);
  cliEnv = { CM_SUPERVISOR_HOME: join(home, 'home'), CM_SUPERVISOR_CODEX_BIN: fakeCodex };
  for (const name of ['repo', 'plain']) await mkdir(join(home, name));
  execFileSync('git', ['init', '-q', join(home, 'repo')]);
  for (const [name, dir] of [['api', 'repo'], ['web', 'plain']]) {
    const added = await runBuiltCli(['workspace', 'add', join(home, dir!), '--name', name!], { env: cliEnv });
    expect(added.code, added.stderr).toBe(0);
  }
});
afterAll(async () => rm(home, { recursive: true, force: true }));

async function dispatchPlan(name: string, plan: unknown, args: string[] = []) {
  const file = join(home, `${name}.json`);
  await writeFile(file, JSON.stringify(plan));
  return runBuiltCli(['dispatch', '--plan', file, ...args], { env: cliEnv });
}

const action = (id: string, extra: Record<string, unknown> = {}) => ({ id, workspace: 'api', prompt: `do ${id}`, ...extra });

describe('cm-supervisor dispatch: invalid v2 plans (built CLI)', () => {
  const cases: [string, unknown, string][] = [
    ['a cycle', { version: 2, actions: [action('a', { after: ['b'] }), action('b', { after: ['a'] })] }, 'actions[0].after: a → b → a is a cycle'],
    ['an unknown after', { version: 2, actions: [action('build'), action('test'), action('lint'), action('ship', { after: ['buildd'] })] }, 'actions[3].after[0]: no action "buildd" in this plan (did you mean "build"?)'],
    ['a worktree on a workspace that is not a git repository', { version: 2, actions: [action('a', { workspace: 'web', worktree: true })] }, '/plain is not a git repository (no .git), so it has no worktrees'],
    ['a negative retry', { version: 2, actions: [action('a', { retry: { attempts: -1 } })] }, 'actions[0].retry.attempts: use 0 to 10 retries (0: no retry)'],
    ['an unknown host', { version: 2, hostConcurrency: { gpu: 2 }, actions: [action('a')] }, 'hostConcurrency.gpu: no host "gpu" is configured; hosts: local'],
    ['a review of an action without a worktree', { version: 2, actions: [action('a'), action('r', { kind: 'review', after: ['a'], target: { after: 'a' } })] }, 'actions[1].target.after: "a" runs without a worktree'],
    ['an unknown version', { version: 7, actions: [action('a')] }, 'version: version must be 2 (dependencies, concurrency, retries, worktrees, reviews) or 1 (a flat list dispatched in one cycle); 7 is no plan format version'],
  ];
  for (const [name, plan, message] of cases) {
    it(name, async () => {
      const r = await dispatchPlan(name.replace(/\W+/g, '-'), plan);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('nothing was dispatched');
      expect(r.stderr).toContain(message);
      expect(existsSync(marker)).toBe(false);
    });
  }

  it('--json lists every problem at once, with its path', async () => {
    const plan = { version: 2, concurrency: 0, actions: [action('a', { after: ['c'] }), action('b', { workspace: 'web', worktree: true, retry: { attempts: 99 } }), action('c', { after: ['a', 'zz'] })] };
    const r = await dispatchPlan('many', plan, ['--json']);
    expect(r.code).toBe(2);
    const { errors } = JSON.parse(r.stdout) as { errors: { path: string }[] };
    expect(errors.map((e) => e.path).sort()).toEqual(['actions[0].after', 'actions[1].retry.attempts', 'actions[1].worktree', 'actions[2].after[1]', 'concurrency']);
    expect(existsSync(marker)).toBe(false);
  });
});
