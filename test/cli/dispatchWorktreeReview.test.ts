// Worktree and review actions of v2 plans through the built CLI against the real codex
// app-server and the mock model: the action's thread works in its own worktree (the main
// checkout untouched), the result names the worktree, its branch and diffstat, and a review
// after it reviews that worktree; a worktree that cannot be made fails the action at once.
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { addFilePrompt } from '../support/mockPrompts.js';
import { runBuiltCli } from '../support/runBuiltCli.js';

const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_GLOBAL: '/dev/null' };
const git = async (cwd: string, ...args: string[]) => (await execa('git', args, { cwd, env: GIT_ENV })).stdout;

let env: RealCodexEnv;
let home: string;
let repo: string;
let cliEnv: Record<string, string>;

interface Row {
  id: string;
  status: string;
  attempts: { n: number; outcome: string; failure: string | null; threadId: string | null; turnId: string | null }[];
  worktree: string | null;
  branch: string | null;
  diffstat: string | null;
  finalMessage: string | null;
  error: string | null;
  threadId: string | null;
}

async function run(plan: Record<string, unknown>, args: string[] = ['--json']): Promise<{ code: number; stdout: string; rows: Map<string, Row> }> {
  const file = join(home, `${String(plan.id)}.json`);
  await writeFile(file, JSON.stringify({ version: 2, ...plan }));
  const result = await runBuiltCli(['dispatch', '--plan', file, ...args], { env: cliEnv });
  const rows = args.includes('--json') ? new Map((JSON.parse(result.stdout) as { results: Row[] }).results.map((r) => [r.id, r])) : new Map<string, Row>();
  return { code: result.code ?? -1, stdout: result.stdout, rows };
}

beforeAll(async () => {
  env = await startRealCodexEnv();
  home = await mkdtemp(join(tmpdir(), 'cm-wt-home-'));
  repo = await env.workspace('wt-repo');
  await git(repo, 'init', '-q', '-b', 'main');
  await writeFile(join(repo, 'README.md'), 'base\n');
  await git(repo, 'add', 'README.md');
  await git(repo, 'commit', '-q', '-m', 'base');
  cliEnv = { ...env.home.env, ...GIT_ENV, CM_SUPERVISOR_HOME: home };
  expect((await runBuiltCli(['workspace', 'add', repo, '--name', 'api'], { env: cliEnv })).code).toBe(0);
});
afterAll(async () => {
  await env?.cleanup();
  await rm(home, { recursive: true, force: true });
});

describe('worktree and review actions (built CLI, real codex, real git)', () => {
  it('runs a worktree action in its own worktree and branch with a diffstat, leaves the checkout alone, and a review after it reviews that worktree', async () => {
    const head = await git(repo, 'rev-parse', 'HEAD');
    const { code, rows } = await run({
      id: 'wt',
      actions: [
        // Fails once (HTTP 500, transient): the retry goes on in the same worktree and thread.
        { id: 'write', workspace: 'api', prompt: addFilePrompt('notes.txt', ['one', 'two', 'three'], '[fail 1x] write notes'), worktree: true, sandbox: 'workspace-write', retry: { attempts: 1, backoffSec: 0 } },
        { id: 'check', workspace: 'api', prompt: 'review what write did', kind: 'review', after: ['write'], target: { after: 'write' } },
      ],
    });
    expect(code).toBe(0);
    const write = rows.get('write')!;
    const worktree = join(home, 'worktrees', 'wt', 'write');
    expect(write).toMatchObject({ status: 'completed', worktree, branch: 'cms/wt/write', diffstat: '1 file changed, 3 insertions(+), 0 deletions(-)', error: null });
    expect(write.attempts.map((a) => [a.outcome, a.failure])).toEqual([
      ['failed', 'transient'],
      ['completed', null],
    ]);
    expect(write.attempts[1]!.threadId).toBe(write.attempts[0]!.threadId);
    expect(await git(worktree, 'status', '--porcelain')).toBe('?? notes.txt');
    // The workspace's own checkout: same HEAD, nothing changed, still on main.
    expect(await git(repo, 'status', '--porcelain')).toBe('');
    expect(await git(repo, 'rev-parse', 'HEAD')).toBe(head);
    expect(await git(repo, 'branch', '--show-current')).toBe('main');

    const check = rows.get('check')!;
    expect(check).toMatchObject({ status: 'completed', worktree: null, branch: null, diffstat: null, error: null });
    // The mock model answers Codex's review request with its text: the findings.
    expect(check.finalMessage).toBe('Done: Review the current code changes (staged, unstaged, and untracked files) and provide prioritized findings.');
    expect(check.attempts).toEqual([expect.objectContaining({ n: 1, outcome: 'completed' })]);
    expect(check.threadId).not.toBe(write.threadId);
    // The review ran in the worktree: Codex tells the model its cwd.
    const reviewRequest = env.mock.requests.find((r) => r.lastUserText?.startsWith('Review the current code changes'));
    expect(JSON.stringify(reviewRequest?.body)).toContain(`<cwd>${worktree}</cwd>`);

    const list = await runBuiltCli(['worktree', 'list'], { env: cliEnv });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^wt\/write\s+api\s+cms\/wt\/write\s+dirty \(1\)\s+1 file changed, 3 insertions\(\+\), 0 deletions\(-\)/m);
  });

  it('prints the branch and diffstat of a worktree action in the results table; a review without target reviews the workspace', async () => {
    const { code, stdout } = await run(
      {
        id: 'wt-text',
        actions: [
          { id: 'add', workspace: 'api', prompt: addFilePrompt('a.txt', ['x'], 'add a'), worktree: 'feature/a', sandbox: 'workspace-write' },
          { id: 'look', workspace: 'api', prompt: 'look at the checkout', kind: 'review' },
        ],
      },
      [],
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^add\s+api\s+completed\s+\S+\s+\S+\s+feature\/a \(1 file changed, 1 insertion\(\+\), 0 deletions\(-\)\): /m);
    expect(stdout).toMatch(/^look\s+api\s+completed\s+\S+\s+\S+\s+Done: Review the current code changes/m);
    const reviews = env.mock.requests.filter((r) => r.lastUserText?.startsWith('Review the current code changes'));
    expect(JSON.stringify(reviews.at(-1)?.body)).toContain(`<cwd>${repo}</cwd>`);
  });

  it('fails a worktree action whose branch already exists, without sending a turn, and blocks what comes after it', async () => {
    await git(repo, 'branch', 'taken');
    const requests = env.mock.requests.length;
    const { code, rows } = await run({
      id: 'wt-taken',
      actions: [
        { id: 'clash', workspace: 'api', prompt: 'never sent', worktree: 'taken', retry: { attempts: 2, backoffSec: 0 } },
        { id: 'then', workspace: 'api', prompt: 'never sent either', after: ['clash'] },
      ],
    });
    expect(code).toBe(1);
    expect(rows.get('clash')).toMatchObject({
      status: 'failed',
      worktree: null,
      branch: null,
      diffstat: null,
      error: expect.stringMatching(/^branch taken already exists in .*: a worktree gets a new branch; delete it \(`git -C .* branch -D taken`\) or name another branch in the action's "worktree"$/),
      attempts: [expect.objectContaining({ n: 1, outcome: 'failed', failure: 'permanent', turnId: null })],
    });
    expect(rows.get('then')).toMatchObject({ status: 'blocked', error: 'blocked: clash did not complete' });
    expect(env.mock.requests.length).toBe(requests);
    expect(await git(repo, 'status', '--porcelain')).toBe('');
  });
});
