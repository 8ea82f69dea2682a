import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { worktreeDiffstat } from '../../src/core/git/diffstat.js';
import { createWorktree, listWorktrees, removeWorktree, worktreeManager } from '../../src/core/git/worktrees.js';
import { localHost } from '../../src/core/hosts/hostSpec.js';

const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_GLOBAL: '/dev/null' };
const run = async (cwd: string, ...args: string[]) => (await execa('git', args, { cwd, env: GIT_ENV })).stdout;

let dir: string;
let home: string;
let repo: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-wt-'));
  home = join(dir, 'home');
  repo = join(dir, 'repo');
  await mkdir(join(repo, 'pkg'), { recursive: true });
  await run(repo, 'init', '-q', '-b', 'main');
  await writeFile(join(repo, 'a.txt'), 'one\ntwo\nthree\n');
  await writeFile(join(repo, 'pkg', 'p.txt'), 'p\n');
  await run(repo, 'add', 'a.txt', 'pkg/p.txt');
  await run(repo, 'commit', '-q', '-m', 'base');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('worktrees (real git)', () => {
  it('creates the worktree from HEAD on cms/<plan>/<action>; the main checkout keeps its status and HEAD while the action writes there', async () => {
    await writeFile(join(repo, 'a.txt'), 'one\nTWO\nthree\n');
    await writeFile(join(repo, 'scratch.txt'), 'mine\n');
    const statusBefore = await run(repo, 'status', '--porcelain');
    const headBefore = await run(repo, 'rev-parse', 'HEAD');

    const wt = await createWorktree({ home, workspacePath: repo, workspace: 'api', planId: 'p1', actionId: 'a1' });
    expect(wt).toMatchObject({ path: join(home, 'worktrees', 'p1', 'a1'), cwd: join(home, 'worktrees', 'p1', 'a1'), branch: 'cms/p1/a1', baseCommit: headBefore, reused: false });
    expect(wt.notes).toEqual([`workspace "api" has uncommitted changes (1 file); the worktree starts from HEAD ${headBefore.slice(0, 12)} without them, and they stay where they are`]);
    expect(await readFile(join(wt.path, 'a.txt'), 'utf8')).toBe('one\ntwo\nthree\n');

    // The action's work: an edit, a deletion, a new file, a commit.
    await writeFile(join(wt.path, 'a.txt'), 'one\n2\n3\nthree\n');
    await rm(join(wt.path, 'pkg', 'p.txt'));
    await writeFile(join(wt.path, 'new.md'), '# new\nline\n');
    await writeFile(join(wt.path, 'committed.txt'), 'c\n');
    await run(wt.path, 'add', 'committed.txt');
    await run(wt.path, 'commit', '-q', '-m', 'agent work');

    expect(await run(repo, 'status', '--porcelain')).toBe(statusBefore);
    expect(await run(repo, 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(await run(repo, 'branch', '--show-current')).toBe('main');

    const stat = await worktreeDiffstat(wt.path, wt.baseCommit);
    expect(stat).toMatchObject({ files: 4, insertions: 5, deletions: 2 });
    expect(stat.perFile).toEqual([
      { path: 'a.txt', insertions: 2, deletions: 1, untracked: false },
      { path: 'committed.txt', insertions: 1, deletions: 0, untracked: false },
      { path: 'new.md', insertions: 2, deletions: 0, untracked: true },
      { path: 'pkg/p.txt', insertions: 0, deletions: 1, untracked: false },
    ]);
    expect(stat.text.split('\n').at(-1)).toBe('4 files changed, 5 insertions(+), 2 deletions(-)');
    // Read only: the new file is still untracked, nothing staged.
    expect(await run(wt.path, 'status', '--porcelain')).toBe(' M a.txt\n D pkg/p.txt\n?? new.md');
  });

  it('is idempotent for one plan action, and refuses a branch checked out or existing elsewhere', async () => {
    const first = await createWorktree({ home, workspacePath: repo, planId: 'p', actionId: 'a' });
    await writeFile(join(first.path, 'x.txt'), 'x\n');
    await run(first.path, 'add', 'x.txt');
    await run(first.path, 'commit', '-q', '-m', 'x');
    const again = await createWorktree({ home, workspacePath: repo, planId: 'p', actionId: 'a' });
    expect(again).toMatchObject({ path: first.path, branch: 'cms/p/a', baseCommit: first.baseCommit, reused: true });
    expect(again.notes[0]).toContain('reused the worktree');

    await expect(createWorktree({ home, workspacePath: repo, planId: 'p', actionId: 'b', branch: 'cms/p/a' })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining(`branch cms/p/a is already checked out at ${first.path}`),
    });
    await run(repo, 'branch', 'feature');
    await expect(createWorktree({ home, workspacePath: repo, planId: 'p', actionId: 'c', branch: 'feature' })).rejects.toMatchObject({
      exitCode: 2,
      message: `branch feature already exists in ${repo}: a worktree gets a new branch; delete it (\`git -C ${repo} branch -D feature\`) or name another branch in the action's "worktree"`,
    });
    await expect(createWorktree({ home, workspacePath: repo, planId: 'p', actionId: 'd', branch: 'bad..name' })).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('"bad..name" is not a valid git branch name') });
    await mkdir(join(home, 'worktrees', 'p'), { recursive: true });
    await writeFile(join(home, 'worktrees', 'p', 'e'), 'a file where the worktree goes');
    await expect(createWorktree({ home, workspacePath: repo, planId: 'p', actionId: 'e' })).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining(`${join(home, 'worktrees', 'p', 'e')} exists and is not a worktree of ${repo}`) });
    await expect(createWorktree({ home, workspacePath: repo, planId: '..', actionId: 'd' })).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('cannot name a worktree directory') });
  });

  it('a workspace that is no git repository, or has no commit, is refused with exit 2 and what to do', async () => {
    const plain = join(dir, 'plain');
    await mkdir(plain);
    await expect(createWorktree({ home, workspacePath: plain, workspace: 'docs', planId: 'p', actionId: 'a' })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(new RegExp(`^workspace "docs" \\(${plain}\\) is not a git repository, so an action with "worktree" cannot run there: run \`git init\` and commit there, or remove "worktree" from the action`)),
    });
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await run(empty, 'init', '-q');
    await expect(createWorktree({ home, workspacePath: empty, planId: 'p', actionId: 'a' })).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('has no commit yet') });
    expect(existsSync(join(home, 'worktrees'))).toBe(false);
  });

  it('a workspace in a subdirectory of its repository: the thread runs in the same subdirectory of the worktree', async () => {
    const wt = await createWorktree({ home, workspacePath: join(repo, 'pkg'), planId: 'p', actionId: 'a' });
    expect(wt.cwd).toBe(join(wt.path, 'pkg'));
    expect(await readFile(join(wt.cwd, 'p.txt'), 'utf8')).toBe('p\n');
  });

  it('the manager refuses ssh workspaces clearly', async () => {
    const manager = worktreeManager(home);
    await expect(
      manager.prepare({ workspace: { name: 'api', host: 'build1', path: '/srv/api' }, host: { name: 'build1', kind: 'ssh' }, planId: 'p', actionId: 'a' }),
    ).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('workspace "api" is on the ssh host "build1": worktrees are made only for workspaces on this machine') });
    const wt = await manager.prepare({ workspace: { name: 'api', host: 'local', path: repo }, host: localHost(), planId: 'p', actionId: 'a' });
    await writeFile(join(wt.path, 'n.txt'), 'n\n');
    expect((await manager.diffstat(wt)).text).toBe('n.txt | +1 -0 (new, untracked)\n1 file changed, 1 insertion(+), 0 deletions(-)');
  });

  it('lists worktrees with branch, dirty state and diffstat; remove refuses a dirty one unless forced, and deletes the branch on request', async () => {
    const clean = await createWorktree({ home, workspacePath: repo, workspace: 'api', planId: 'p', actionId: 'clean' });
    const dirty = await createWorktree({ home, workspacePath: repo, workspace: 'api', planId: 'p', actionId: 'dirty' });
    await writeFile(join(dirty.path, 'a.txt'), 'changed\n');
    await writeFile(join(dirty.path, 'untracked.txt'), 'u\n');

    const list = await listWorktrees(home, [{ name: 'api', path: repo }]);
    expect(list.map((w) => ({ id: `${w.planId}/${w.actionId}`, workspace: w.workspace, branch: w.branch, registered: w.registered, dirty: w.dirty?.map((e) => e.path), files: w.diffstat?.files }))).toEqual([
      { id: 'p/clean', workspace: 'api', branch: 'cms/p/clean', registered: true, dirty: [], files: 0 },
      { id: 'p/dirty', workspace: 'api', branch: 'cms/p/dirty', registered: true, dirty: ['a.txt', 'untracked.txt'], files: 2 },
    ]);

    await expect(removeWorktree(home, list[1]!)).rejects.toMatchObject({
      exitCode: 1,
      message: `the worktree p/dirty (${dirty.path}) has uncommitted changes: M a.txt, ?? untracked.txt; commit them on cms/p/dirty, or remove it with --force (they are lost)`,
    });
    expect(existsSync(dirty.path)).toBe(true);
    expect(await removeWorktree(home, list[0]!, { deleteBranch: true })).toEqual({ planId: 'p', actionId: 'clean', path: clean.path, branch: 'cms/p/clean', branchDeleted: true });
    expect(existsSync(clean.path)).toBe(false);
    expect(await run(repo, 'branch', '--list', 'cms/p/clean')).toBe('');
    await removeWorktree(home, list[1]!, { force: true });
    expect(existsSync(dirty.path)).toBe(false);
    expect(await run(repo, 'branch', '--list', 'cms/p/dirty')).toBe('  cms/p/dirty');
    expect(existsSync(join(home, 'worktrees', 'p'))).toBe(false);
    expect(await run(repo, 'worktree', 'list', '--porcelain')).not.toContain('worktrees/p');
    expect(await listWorktrees(home, [{ name: 'api', path: repo }])).toEqual([]);
  });

  it('a worktree whose directory was deleted by hand is listed as gone and removed by pruning', async () => {
    const wt = await createWorktree({ home, workspacePath: repo, workspace: 'api', planId: 'p', actionId: 'a' });
    await rm(wt.path, { recursive: true, force: true });
    const [gone] = await listWorktrees(home, [{ name: 'api', path: repo }]);
    expect(gone).toMatchObject({ exists: false, registered: true, problem: expect.stringContaining('its directory is gone') });
    await removeWorktree(home, gone!);
    expect(await run(repo, 'worktree', 'list', '--porcelain')).not.toContain(wt.path);
    // The branch is free again for a new run.
    expect((await createWorktree({ home, workspacePath: repo, planId: 'p', actionId: 'a', branch: 'cms/p/a2' })).reused).toBe(false);
  });
});
