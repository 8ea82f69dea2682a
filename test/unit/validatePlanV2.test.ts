import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validatePlanValue, type PlanContext, type PlanValidation } from '../../src/core/contract/validatePlan.js';

// A git repository (configured as "api"), a plain directory ("web"), a remote workspace ("far").
const root = mkdtempSync(join(tmpdir(), 'cm-plan-v2-'));
const repo = join(root, 'api');
const plain = join(root, 'web');
mkdirSync(repo);
mkdirSync(plain);
execFileSync('git', ['init', '-q', repo]);
const context: PlanContext = {
  workspaces: [
    { name: 'api', path: repo },
    { name: 'web', path: plain },
    { name: 'far', path: '/srv/far', remote: true },
  ],
  baseDir: root,
  hosts: ['local', 'gpu1'],
};
afterAll(async () => rm(root, { recursive: true, force: true }));

const action = (id: string, extra: Record<string, unknown> = {}) => ({ id, workspace: 'api', prompt: `do ${id}`, ...extra });
const v2 = (actions: unknown[], extra: Record<string, unknown> = {}) => ({ version: 2, ...extra, actions });
const problems = (result: PlanValidation) => (result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`));

describe('plan v2: each bad shape, with its JSON path and a hint', () => {
  const cases: [string, unknown, string[]][] = [
    ['unknown after id, with a suggestion', v2([action('build'), action('test'), action('lint'), action('ship', { after: ['buildd'] })]), ['actions[3].after[0]: no action "buildd" in this plan (did you mean "build"?); "after" lists ids of actions of the same plan']],
    ['unknown after id, without one', v2([action('build'), action('test', { after: ['deploy-prod'] })]), ['actions[1].after[0]: no action "deploy-prod" in this plan; its actions: build, test; "after" lists ids of actions of the same plan']],
    ['an action after itself', v2([action('a', { after: ['a'] })]), ['actions[0].after[0]: "a" is this action itself: an action cannot wait for itself; remove it']],
    ['a dependency listed twice', v2([action('a'), action('b', { after: ['a', 'a'] })]), ['actions[1].after[1]: "a" is listed twice; list each dependency once']],
    ['a cycle of two', v2([action('x'), action('y'), action('a', { after: ['b'] }), action('b', { after: ['a'] })]), ['actions[2].after: a → b → a is a cycle: each waits for the next, so none of them could start; remove one of these dependencies']],
    ['a cycle of three', v2([action('c', { after: ['b'] }), action('a', { after: ['c'] }), action('b', { after: ['a'] })]), ['actions[0].after: c → b → a → c is a cycle: each waits for the next, so none of them could start; remove one of these dependencies']],
    ['after is not a list', v2([action('a'), action('b', { after: 'a' })]), ['actions[1].after: after must be a list of action ids, such as ["build"]']],
    ['negative retry', v2([action('a', { retry: { attempts: -1 } })]), ['actions[0].retry.attempts: use 0 to 10 retries (0: no retry)']],
    ['too many retries', v2([action('a', { retry: { attempts: 50 } })]), ['actions[0].retry.attempts: at most 10 retries: a failure that keeps coming back is not transient']],
    ['a fraction of a retry', v2([action('a', { retry: { attempts: 1.5 } })]), ['actions[0].retry.attempts: use a whole number of retries']],
    ['negative and too long backoff', v2([action('a', { retry: { attempts: 1, backoffSec: -5 } }), action('b', { retry: { attempts: 1, backoffSec: 7200 } })]), ['actions[0].retry.backoffSec: use 0 to 3600 seconds', 'actions[1].retry.backoffSec: at most 3600 seconds (one hour)']],
    ['retry without attempts, with an unknown key', v2([action('a', { retry: { count: 3 } })]), ['actions[0].retry.attempts: attempts is required', 'actions[0].retry.count: unknown key "count"; remove it (allowed: attempts, backoffSec)']],
    ['concurrency below 1', v2([action('a')], { concurrency: 0 }), ['concurrency: use 1 or more']],
    ['hostConcurrency naming an unknown host', v2([action('a')], { hostConcurrency: { gpu: 2, local: 1 } }), ['hostConcurrency.gpu: no host "gpu" is configured (did you mean "gpu1"?); hosts: local, gpu1 (`cm-supervisor host list`)']],
    ['hostConcurrency below 1', v2([action('a')], { hostConcurrency: { local: 0 } }), ['hostConcurrency.local: use 1 or more']],
    ['worktree on a workspace that is not a git repository', v2([action('a', { workspace: 'web', worktree: true })]), [`actions[0].worktree: ${plain} is not a git repository (no .git), so it has no worktrees; run \`git init\` there, or remove "worktree"`]],
    ['worktree on a directory that is not a git repository', v2([action('a', { workspace: './web', worktree: 'fix-it' })]), [`actions[0].worktree: ${plain} is not a git repository (no .git), so it has no worktrees; run \`git init\` there, or remove "worktree"`]],
    ['worktree continuing the latest thread', v2([action('a', { worktree: true, thread: 'latest' })]), ['actions[0].thread: a worktree action starts a new thread in its new worktree, so it cannot continue the latest thread; use "new" or leave "thread" out']],
    ['worktree continuing a thread id', v2([action('a', { worktree: true, thread: '019a0000-0000-7000-8000-000000000000' })]), ['actions[0].thread: a worktree action starts a new thread in its new worktree, so it cannot continue thread 019a0000-0000-7000-8000-000000000000; use "new" or leave "thread" out']],
    ['two worktrees on one branch', v2([action('a', { worktree: 'fix' }), action('b', { worktree: 'fix' })]), ['actions[1].worktree: branch "fix" is also the worktree branch of actions[0]; give each worktree its own branch']],
    ['worktree of the wrong type', v2([action('a', { worktree: 'no spaces allowed' }), action('b', { worktree: 1 })]), ['actions[0].worktree: worktree must be true, false or the name of a new git branch, such as "fix-login"', 'actions[1].worktree: worktree must be true, false or the name of a new git branch, such as "fix-login"']],
    ['target on a turn', v2([action('a', { worktree: true }), action('b', { after: ['a'], target: { after: 'a' } })]), ['actions[1].target: only a review has a target; set "kind": "review", or remove "target"']],
    ['a review of a worktree it does not wait for', v2([action('a', { worktree: true }), action('r', { kind: 'review', target: { after: 'a' } })]), ['actions[1].target.after: "a" is not among this review\'s dependencies; add it to "after", so the review starts once "a" is done']],
    ['a review of an action without a worktree', v2([action('a'), action('r', { kind: 'review', after: ['a'], target: { after: 'a' } })]), ['actions[1].target.after: "a" runs without a worktree, so there is none to review; give it "worktree": true, or remove "target" to review the workspace']],
    ['a review of an unknown action', v2([action('build', { worktree: true }), action('r', { kind: 'review', after: ['build'], target: { after: 'buidl' } })]), ['actions[1].target.after: no action "buidl" in this plan (did you mean "build"?)']],
    ['a review of itself', v2([action('r', { kind: 'review', target: { after: 'r' } })]), ['actions[0].target.after: a review cannot review itself; name the action whose worktree it reviews']],
    ['a review from another workspace', v2([action('a', { worktree: true }), action('r', { workspace: 'far', kind: 'review', after: ['a'], target: { after: 'a' } })]), ['actions[1].target.after: "a" runs in workspace "api", this review in "far"; review a worktree from its own workspace']],
    ['a review with a goal, in its own worktree', v2([action('r', { kind: 'review', goal: 'all green', worktree: true })]), ['actions[0].goal: a review has no goal (it ends with its findings); remove "goal", or use "kind": "turn"', 'actions[0].worktree: a review in a new worktree would find nothing to review; to review the worktree of an earlier action, use "target": {"after": "<its id>"}']],
    ['a review of a workspace that is not a git repository', v2([action('r', { workspace: 'web', kind: 'review' })]), [`actions[0].kind: a review looks at the uncommitted changes of ${plain}, which is not a git repository (no .git); run \`git init\` there, or review the worktree of an earlier action with "target"`]],
    ['an unknown kind, an empty goal, a zero budget', v2([action('a', { kind: 'fix', goal: '  ', budget: { tokens: 0 } })]), ['actions[0].kind: Invalid option: expected one of "turn"|"review"', 'actions[0].budget.tokens: use 1 or more', 'actions[0].goal: the goal is empty']],
    ['an unknown key lists the v2 keys', v2([action('a', { priority: 1 })]), ['actions[0].priority: unknown key "priority"; remove it (allowed: id, workspace, prompt, thread, model, effort, approvalPolicy, sandbox, after, retry, worktree, kind, target, budget, goal)']],
    ['an unknown plan key lists the v2 plan keys', v2([action('a')], { parallel: 2 }), ['parallel: unknown key "parallel"; remove it (allowed: version, id, concurrency, hostConcurrency, actions)']],
  ];
  for (const [name, plan, expected] of cases) {
    it(name, () => expect(problems(validatePlanValue(plan, context)).sort()).toEqual([...expected].sort()));
  }

  it('every problem at once', () => {
    const plan = v2([action('a', { after: ['c'] }), action('b', { workspace: 'web', worktree: true, retry: { attempts: -2 } }), action('c', { after: ['a', 'zz'] })], { hostConcurrency: { nope: 1 } });
    expect(problems(validatePlanValue(plan, context)).map((p) => p.split(':')[0]).sort()).toEqual([
      'actions[0].after',
      'actions[1].retry.attempts',
      'actions[1].worktree',
      'actions[2].after[1]',
      'hostConcurrency.nope',
    ]);
  });
});

describe('versions', () => {
  it('an unknown version says which exist, and the rest is checked as the newest', () => {
    expect(problems(validatePlanValue({ version: 3, actions: [action('a', { after: ['deploy'] })] }, context))).toEqual([
      'version: version must be 2 (dependencies, concurrency, retries, worktrees, reviews) or 1 (a flat list dispatched in one cycle); 3 is no plan format version',
      'actions[0].after[0]: no action "deploy" in this plan; its actions: a; "after" lists ids of actions of the same plan',
    ]);
    expect(problems(validatePlanValue({ version: '2', actions: [action('a')] }, context))).toEqual([
      'version: version must be 2 (dependencies, concurrency, retries, worktrees, reviews) or 1 (a flat list dispatched in one cycle); "2" is no plan format version',
    ]);
    expect(problems(validatePlanValue({ actions: [action('a')] }, context))).toEqual([
      'version: version is required; use 2 (dependencies, concurrency, retries, worktrees, reviews) or 1 (a flat list dispatched in one cycle)',
    ]);
  });

  it('a v1 plan with v2 fields: each says it needs version 2; v1 keys are listed', () => {
    expect(problems(validatePlanValue({ version: 1, actions: [action('a'), action('b', { after: ['a'], priority: 1 })] }, context))).toEqual([
      'actions[1].after: unknown key "after"; it needs "version": 2, or remove it (allowed: id, workspace, prompt, thread, model, effort, approvalPolicy, sandbox)',
      'actions[1].priority: unknown key "priority"; remove it (allowed: id, workspace, prompt, thread, model, effort, approvalPolicy, sandbox)',
    ]);
    expect(problems(validatePlanValue({ version: 1, concurrency: 2, actions: [action('a')] }, context))).toEqual([
      'concurrency: unknown key "concurrency"; it needs "version": 2, or remove it (allowed: version, id, actions)',
    ]);
  });

  it('a v1 plan parses as v1: no v2 fields are added', () => {
    const result = validatePlanValue({ version: 1, actions: [action('a')] }, context);
    expect(result.ok && result.plan).toEqual({ version: 1, actions: [{ id: 'a', workspace: 'api', prompt: 'do a', thread: 'latest' }] });
  });
});

describe('valid v2 plans', () => {
  it('a chain, a worktree and its review, retry, budget, goal and limits', () => {
    const plan = v2(
      [
        action('build', { worktree: true, retry: { attempts: 2 }, budget: { tokens: 50_000 } }),
        action('review', { kind: 'review', after: ['build'], target: { after: 'build' } }),
        action('docs', { workspace: 'web', after: ['build'], goal: 'the docs build without warnings' }),
        action('far-fix', { workspace: 'far', worktree: 'far-fix' }),
      ],
      { id: 'p', concurrency: 2, hostConcurrency: { local: 1 } },
    );
    const result = validatePlanValue(plan, context);
    expect(problems(result)).toEqual([]);
    if (!result.ok || result.plan.version !== 2) throw new Error('expected a v2 plan');
    const [build, review, docs, far] = result.plan.actions;
    // A worktree action without a thread gets a new one; defaults are filled in.
    expect(build).toMatchObject({ thread: 'new', kind: 'turn', retry: { attempts: 2, backoffSec: 30 } });
    expect(review).toMatchObject({ kind: 'review', thread: 'latest', target: { after: 'build' } });
    expect(docs).toMatchObject({ thread: 'latest', after: ['build'] });
    // A remote workspace's repository is checked when the worktree is made, not here.
    expect(far).toMatchObject({ worktree: 'far-fix', thread: 'new' });
  });

  it('hostConcurrency is not checked without the configured hosts', () => {
    expect(problems(validatePlanValue(v2([action('a')], { hostConcurrency: { anywhere: 3 } }), { ...context, hosts: undefined }))).toEqual([]);
  });

  it('worktree: false is no worktree: any thread, any workspace', () => {
    expect(problems(validatePlanValue(v2([action('a', { workspace: 'web', worktree: false, thread: 'latest' })]), context))).toEqual([]);
  });
});
