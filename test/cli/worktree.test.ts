import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorktree } from '../../src/core/git/worktrees.js';
import { runBuiltCli } from '../support/runBuiltCli.js';

const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_GLOBAL: '/dev/null' };
const git = async (cwd: string, ...args: string[]) => (await execa('git', args, { cwd, env: GIT_ENV })).stdout;

let dir: string;
let home: string;
let repo: string;
const cli = (...args: string[]) => runBuiltCli(args, { env: { CM_SUPERVISOR_HOME: home } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-wtcli-'));
  home = join(dir, 'home');
  repo = join(dir, 'repo');
  await mkdir(home, { mode: 0o700 });
  await mkdir(repo);
  await git(repo, 'init', '-q', '-b', 'main');
  await writeFile(join(repo, 'a.txt'), 'a\n');
  await git(repo, 'add', 'a.txt');
  await git(repo, 'commit', '-q', '-m', 'base');
  await writeFile(join(home, 'config.json'), JSON.stringify({ workspaces: [{ name: 'api', path: repo }] }), { mode: 0o600 });
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('cm-supervisor worktree list|remove (built CLI, real git)', () => {
  it('list: none, then each worktree with workspace, branch, state, changes; --json the same as data', async () => {
    expect(await cli('worktree', 'list')).toEqual({ code: 0, stdout: `no worktrees under ${join(home, 'worktrees')}: plan actions with "worktree" make them`, stderr: '' });
    const one = await createWorktree({ home, workspacePath: repo, workspace: 'api', planId: 'p1', actionId: 'build' });
    await createWorktree({ home, workspacePath: repo, workspace: 'api', planId: 'p1', actionId: 'docs' });
    await createWorktree({ home, workspacePath: repo, workspace: 'api', planId: 'p2', actionId: 'x' });
    await writeFile(join(one.path, 'a.txt'), 'a\nb\n');
    await writeFile(join(one.path, 'new.txt'), 'n\n');

    const text = await cli('worktree', 'list');
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')).toEqual([
      expect.stringMatching(/^WORKTREE\s+WORKSPACE\s+BRANCH\s+STATE\s+CHANGES\s+PATH$/),
      expect.stringMatching(new RegExp(`^p1/build\\s+api\\s+cms/p1/build\\s+dirty \\(2\\)\\s+2 files changed, 2 insertions\\(\\+\\), 0 deletions\\(-\\)\\s+${one.path}$`)),
      expect.stringMatching(/^p1\/docs\s+api\s+cms\/p1\/docs\s+clean\s+no changes\s+\S+\/worktrees\/p1\/docs$/),
      expect.stringMatching(/^p2\/x\s+api\s+cms\/p2\/x\s+clean\s+no changes/),
    ]);
    const json = JSON.parse((await cli('worktree', 'list', '--json')).stdout);
    expect(json[0]).toEqual({
      plan: 'p1',
      action: 'build',
      workspace: 'api',
      path: one.path,
      branch: 'cms/p1/build',
      baseCommit: one.baseCommit,
      state: 'dirty',
      dirty: ['a.txt', 'new.txt'],
      diffstat: {
        files: 2,
        insertions: 2,
        deletions: 0,
        perFile: [
          { path: 'a.txt', insertions: 1, deletions: 0, untracked: false },
          { path: 'new.txt', insertions: 1, deletions: 0, untracked: true },
        ],
      },
      problem: null,
    });
  });

  it('remove: usage errors exit 2; a dirty worktree is refused (exit 1) naming its files; --force, --plan, --delete-branch, --all', async () => {
    const none = await cli('worktree', 'remove');
    expect(none).toMatchObject({ code: 2, stderr: 'cm-supervisor: name what to remove: one worktree (PLAN/ACTION or its path), --plan PLAN, or --all (`cm-supervisor worktree list` shows them)' });
    expect(await cli('worktree', 'remove', 'p9/nope')).toMatchObject({ code: 2, stderr: `cm-supervisor: no worktree "p9/nope" under ${join(home, 'worktrees')}; known: p1/build, p1/docs, p2/x` });
    expect((await cli('worktree', 'remove', '--plan', 'p9')).code).toBe(2);

    const dirty = await cli('worktree', 'remove', '--plan', 'p1');
    expect(dirty.code).toBe(1);
    expect(dirty.stdout).toBe(`removed worktree p1/docs (${join(home, 'worktrees', 'p1', 'docs')}), branch cms/p1/docs kept`);
    expect(dirty.stderr).toContain('the worktree p1/build');
    expect(dirty.stderr).toContain('has uncommitted changes: M a.txt, ?? new.txt; commit them on cms/p1/build, or remove it with --force (they are lost)');
    expect(existsSync(join(home, 'worktrees', 'p1', 'build'))).toBe(true);

    const forced = await cli('worktree', 'remove', join(home, 'worktrees', 'p1', 'build'), '--force', '--delete-branch', '--json');
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual({ removed: [{ plan: 'p1', action: 'build', path: join(home, 'worktrees', 'p1', 'build'), branch: 'cms/p1/build', branchDeleted: true }], refused: [] });
    expect(await git(repo, 'branch', '--list', 'cms/p1/*')).toBe('  cms/p1/docs');

    expect(await cli('worktree', 'remove', '--all')).toMatchObject({ code: 0, stdout: `removed worktree p2/x (${join(home, 'worktrees', 'p2', 'x')}), branch cms/p2/x kept` });
    expect(await git(repo, 'status', '--porcelain')).toBe('');
    expect(await git(repo, 'worktree', 'list')).not.toContain('worktrees');
  });

  it('help names the forms', async () => {
    const help = await cli('worktree', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('list');
    expect(help.stdout).toContain('remove [worktree]');
    expect((await cli('worktree', 'remove', '--help')).stdout).toContain('--delete-branch');
  });
});
