import { describe, expect, it } from 'vitest';
import { renderPlan } from '../../src/core/chat/renderPlan.js';

describe('renderPlan: a proposal as the user reads it', () => {
  it('v1: workspace, thread, prompt, overrides, id', () => {
    expect(
      renderPlan({
        version: 1,
        actions: [
          { id: 'api-tests', workspace: 'api', prompt: 'Run the api tests', thread: 'new', effort: 'high' },
          { id: 'web-lint', workspace: 'web', prompt: 'Fix the web lint', thread: 'latest' },
        ],
      }),
    ).toBe(['  1. api · new thread · "Run the api tests" (effort high)  [api-tests]', '  2. web · latest thread (new if none) · "Fix the web lint"  [web-lint]'].join('\n'));
  });

  it('v2: dependencies, worktrees, reviews, policies and the plan\'s limits', () => {
    expect(
      renderPlan({
        version: 2,
        concurrency: 2,
        hostConcurrency: { local: 1 },
        actions: [
          { id: 'build', workspace: 'api', prompt: 'Build it', thread: 'new', kind: 'turn', worktree: 'fix-build', retry: { attempts: 2, backoffSec: 30 } },
          { id: 'test', workspace: 'api', prompt: 'Test it', thread: 'latest', kind: 'turn', after: ['build'], goal: 'all tests pass', budget: { tokens: 50000 } },
          { id: 'check', workspace: 'api', prompt: 'Look for bugs', thread: 'latest', kind: 'review', after: ['build', 'test'], target: { after: 'build' } },
          { id: 'docs', workspace: 'web', prompt: 'Proofread', thread: 'latest', kind: 'review', worktree: false },
        ],
      }),
    ).toBe(
      [
        '  1. api · new thread · "Build it" (in a new worktree on branch fix-build, retry 2× on transient errors, from 30s)  [build]',
        '  2. api · latest thread (new if none) · "Test it" (after build, goal "all tests pass", budget 50000 tokens)  [test]',
        '  3. api · review of build\'s worktree · "Look for bugs" (after build, test)  [check]',
        '  4. web · review of the uncommitted changes · "Proofread"  [docs]',
        '  at most 2 at a time; per host: local 1',
      ].join('\n'),
    );
  });
});
