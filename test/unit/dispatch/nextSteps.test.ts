import { describe, expect, it } from 'vitest';
import type { PlanV2 } from '../../../src/core/contract/plan.js';
import { backoffMs, nextSteps, type PlanActionStatus, type PlanRun } from '../../../src/core/state/planRuns.js';

const NOW = 1_800_000_000_000;

type Spec = { id: string; after?: string[]; status?: PlanActionStatus; host?: string; resumesAtMs?: number };

function run(specs: Spec[], policy: Pick<PlanV2, 'concurrency' | 'hostConcurrency'> = {}, deadlineAtMs: number | null = null): PlanRun {
  return {
    planId: 'p',
    plan: { version: 2, ...policy, actions: specs.map((s) => ({ id: s.id, workspace: 'w', prompt: 'x', thread: 'latest', kind: 'turn' as const, ...(s.after ? { after: s.after } : {}) })) },
    startedAtMs: NOW - 1000,
    endedAtMs: null,
    deadlineAtMs,
    actions: specs.map((s) => ({
      id: s.id,
      workspace: 'w',
      host: s.host ?? 'local',
      after: s.after ?? [],
      status: s.status ?? 'waiting',
      attempts: [],
      waitingOn: [],
      resumesAtMs: s.resumesAtMs ?? null,
      pauseReason: null,
      stopReason: null,
      tokens: null,
      startedAtMs: null,
      endedAtMs: null,
      finalMessage: null,
      error: null,
      worktree: null,
      branch: null,
      worktreeCwd: null,
      baseCommit: null,
      diffstat: null,
    })),
  };
}

describe('nextSteps (pure scheduling decision)', () => {
  it.each<[string, Spec[], Pick<PlanV2, 'concurrency' | 'hostConcurrency'>, string[], string[]]>([
    ['independent actions all start', [{ id: 'a' }, { id: 'b' }, { id: 'c' }], {}, ['a', 'b', 'c'], []],
    ['a dependent waits for its dependency', [{ id: 'a' }, { id: 'b', after: ['a'] }], {}, ['a'], []],
    ['a dependent starts once its dependency completed', [{ id: 'a', status: 'completed' }, { id: 'b', after: ['a'] }], {}, ['b'], []],
    ['skipped (done earlier) counts as completed', [{ id: 'a', status: 'skipped' }, { id: 'b', after: ['a'] }], {}, ['b'], []],
    ['all dependencies must be done', [{ id: 'a', status: 'completed' }, { id: 'c', status: 'running' }, { id: 'b', after: ['a', 'c'] }], {}, [], []],
    ['concurrency counts running actions', [{ id: 'r', status: 'running' }, { id: 'a' }, { id: 'b' }], { concurrency: 2 }, ['a'], []],
    ['concurrency 1 starts the first in plan order', [{ id: 'a' }, { id: 'b' }], { concurrency: 1 }, ['a'], []],
    ['host concurrency limits one host only', [{ id: 'a', host: 'gpu' }, { id: 'b', host: 'gpu' }, { id: 'c' }], { hostConcurrency: { gpu: 1 } }, ['a', 'c'], []],
    ['a failed dependency blocks, transitively', [{ id: 'a', status: 'failed' }, { id: 'b', after: ['a'] }, { id: 'c', after: ['b'] }, { id: 'd' }], {}, ['d'], ['b', 'c']],
    ['timeout and interrupted dependencies block too', [{ id: 'a', status: 'timeout' }, { id: 'i', status: 'interrupted' }, { id: 'b', after: ['a'] }, { id: 'c', after: ['i'] }], {}, [], ['b', 'c']],
    ['a cycle never starts and never loops', [{ id: 'a', after: ['b'] }, { id: 'b', after: ['a'] }, { id: 'c' }], {}, ['c'], []],
    ['an unknown dependency never starts', [{ id: 'a', after: ['ghost'] }], {}, [], []],
    ['a paused action whose reset passed starts again', [{ id: 'a', status: 'paused', resumesAtMs: NOW - 1 }], {}, ['a'], []],
  ])('%s', (_name, specs, policy, start, block) => {
    const steps = nextSteps(run(specs, policy), NOW);
    expect(steps.start).toEqual(start);
    expect(steps.block.sort()).toEqual(block);
  });

  it('waits out a backoff and a pause, waking at the earliest of them and the deadline', () => {
    const steps = nextSteps(run([{ id: 'a', resumesAtMs: NOW + 5000 }, { id: 'b', status: 'paused', resumesAtMs: NOW + 2000 }], {}, NOW + 9000), NOW);
    expect(steps).toEqual({ start: [], block: [], pause: [], wakeAtMs: NOW + 2000 });
  });

  it('pauses ready actions of a host whose quota is exhausted until it resets, once', () => {
    const exhausted = { gpu: NOW + 60_000 };
    const fresh = nextSteps(run([{ id: 'a', host: 'gpu' }, { id: 'b' }]), NOW, exhausted);
    expect(fresh).toEqual({ start: ['b'], block: [], pause: [{ id: 'a', resumesAtMs: NOW + 60_000 }], wakeAtMs: NOW + 60_000 });
    const already = nextSteps(run([{ id: 'a', host: 'gpu', status: 'paused', resumesAtMs: NOW + 60_000 }]), NOW, exhausted);
    expect(already.pause).toEqual([]);
  });

  it('doubles the backoff per attempt', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(30, n))).toEqual([30_000, 60_000, 120_000, 240_000]);
  });
});
