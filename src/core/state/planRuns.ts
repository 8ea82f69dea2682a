import type { PlanV2 } from '../contract/plan.js';
import type { FailureKind } from '../dispatch/failureKind.js';

/**
 * A v2 plan as it runs in the loop: one record per plan id, persisted with the state, so a
 * daemon goes on with it after the CLI that sent it exits, and a restarted daemon resumes it.
 * `waiting`: not started (its dependencies, a retry's backoff, or a free slot); `paused`: the
 * account's quota ran out, resumes at `resumesAtMs`; `blocked`: a dependency failed, never
 * started; `skipped`: an earlier dispatch of the same plan did it (counts as completed).
 */
export type PlanActionStatus = 'waiting' | 'running' | 'completed' | 'failed' | 'interrupted' | 'paused' | 'blocked' | 'skipped' | 'timeout';

export const FINAL_ACTION_STATUSES: readonly PlanActionStatus[] = ['completed', 'failed', 'interrupted', 'blocked', 'skipped', 'timeout'];
/** What a dependent may start after. */
const DONE: readonly PlanActionStatus[] = ['completed', 'skipped'];
/** What blocks a dependent for good. */
const BROKEN: readonly PlanActionStatus[] = ['failed', 'interrupted', 'blocked', 'timeout'];

export interface PlanAttempt {
  /** 1 for the first attempt. */
  n: number;
  turnId: string | null;
  threadId: string | null;
  startedAtMs: number;
  endedAtMs: number | null;
  outcome: 'running' | 'completed' | 'failed' | 'interrupted' | 'timeout';
  error: string | null;
  /** How a failure was classified (failureKind.ts); null while running or when it completed. */
  failure: FailureKind | null;
  /**
   * Goal mode: the action's goal was set on the attempt's thread (`thread/goal/set` answered).
   * Until then a completed prompt turn does not end the attempt (see reducePlanGoals.ts).
   */
  goalSet: boolean;
}

export interface PlanRunAction {
  id: string;
  workspace: string;
  host: string;
  after: string[];
  status: PlanActionStatus;
  attempts: PlanAttempt[];
  /** Dependencies not completed yet (shown as "waiting on build, lint"). */
  waitingOn: string[];
  /** A paused action (quota) or a retry's backoff starts again no earlier than this. */
  resumesAtMs: number | null;
  /** Why it is paused, in words ("quota, resumes 14:05" is built from it and resumesAtMs). */
  pauseReason: string | null;
  /** Set when the loop interrupts the running turn on purpose (budget, --timeout): the end reads so. */
  stopReason: { status: 'interrupted' | 'timeout'; message: string } | null;
  tokens: number | null;
  startedAtMs: number | null;
  endedAtMs: number | null;
  finalMessage: string | null;
  error: string | null;
  /** An action with `worktree`: the worktree's root once made (null before, and for other actions). */
  worktree: string | null;
  branch: string | null;
  /** Where its thread runs: the worktree's copy of the workspace directory (a retry, a review `after` it, go there too). */
  worktreeCwd: string | null;
  /** HEAD of the workspace when the worktree was made: what the diffstat compares with. */
  baseCommit: string | null;
  /** What the action changed in its worktree (`2 files changed, …`), read when it ended; the run ends only once it is known. */
  diffstat: string | null;
}

export interface PlanRun {
  planId: string;
  plan: PlanV2;
  startedAtMs: number;
  endedAtMs: number | null;
  /** `dispatch --timeout`: unfinished actions end `timeout` then. */
  deadlineAtMs: number | null;
  /** In plan order. */
  actions: PlanRunAction[];
}

export interface NextSteps {
  /** Actions to start now, in plan order, within the plan's and hosts' concurrency. */
  start: string[];
  /** Waiting actions a broken dependency (transitively) keeps from ever starting. */
  block: string[];
  /** Startable actions on a host whose quota is exhausted: paused until then. */
  pause: { id: string; resumesAtMs: number }[];
  /** When to look again (a backoff or a pause ends, the deadline), or null. */
  wakeAtMs: number | null;
}

/**
 * The scheduler's decision, pure: what to start, block and pause now, and when to look again.
 * `exhaustedHosts`: hosts whose usage limit is reached, with when it resets.
 * Terminates on any graph (cycles included: their actions just never become ready).
 */
export function nextSteps(run: PlanRun, nowMs: number, exhaustedHosts: Record<string, number> = {}): NextSteps {
  const byId = new Map(run.actions.map((a) => [a.id, a]));
  const blocked = blockedIds(run);
  const running = run.actions.filter((a) => a.status === 'running');
  let free = (run.plan.concurrency ?? Infinity) - running.length;
  const hostFree = new Map<string, number>();
  for (const [host, limit] of Object.entries(run.plan.hostConcurrency ?? {})) hostFree.set(host, limit - running.filter((a) => a.host === host).length);
  const start: string[] = [];
  const pause: NextSteps['pause'] = [];
  let wakeAtMs = run.deadlineAtMs !== null && run.endedAtMs === null ? run.deadlineAtMs : null;
  const wake = (at: number) => (wakeAtMs = wakeAtMs === null ? at : Math.min(wakeAtMs, at));
  for (const action of run.actions) {
    if ((action.status !== 'waiting' && action.status !== 'paused') || blocked.has(action.id)) continue;
    if (!action.after.every((id) => DONE.includes(byId.get(id)?.status ?? 'waiting'))) continue;
    if (action.resumesAtMs !== null && action.resumesAtMs > nowMs) {
      wake(action.resumesAtMs);
      continue;
    }
    const resetAt = exhaustedHosts[action.host];
    if (resetAt !== undefined && resetAt > nowMs) {
      if (action.status !== 'paused' || action.resumesAtMs !== resetAt) pause.push({ id: action.id, resumesAtMs: resetAt });
      wake(resetAt);
      continue;
    }
    const hostLeft = hostFree.get(action.host) ?? Infinity;
    if (free <= 0 || hostLeft <= 0) continue;
    start.push(action.id);
    free--;
    if (hostFree.has(action.host)) hostFree.set(action.host, hostLeft - 1);
  }
  return { start, block: [...blocked], pause, wakeAtMs };
}

/** Not-started actions with a broken dependency, directly or through other blocked ones. */
function blockedIds(run: PlanRun): Set<string> {
  const status = new Map(run.actions.map((a) => [a.id, a.status]));
  const blocked = new Set<string>();
  // A fixpoint over a finite set: at most one pass per action.
  for (let changed = true; changed; ) {
    changed = false;
    for (const action of run.actions) {
      if ((action.status !== 'waiting' && action.status !== 'paused') || blocked.has(action.id)) continue;
      if (action.after.some((id) => blocked.has(id) || BROKEN.includes(status.get(id) ?? 'waiting'))) {
        blocked.add(action.id);
        changed = true;
      }
    }
  }
  return blocked;
}

/** The dependencies of an action not completed yet. */
export function waitingOnOf(run: PlanRun, action: PlanRunAction): string[] {
  return action.after.filter((id) => !DONE.includes(run.actions.find((a) => a.id === id)?.status ?? 'waiting'));
}

/** The retry delay before attempt `n + 1`: `backoffSec` doubled for each attempt after the first. */
export function backoffMs(backoffSec: number, attemptsSoFar: number): number {
  return backoffSec * 1000 * 2 ** Math.max(0, attemptsSoFar - 1);
}

/** Default pause when Codex reports the usage limit without a reset time. */
export const DEFAULT_QUOTA_PAUSE_MS = 15 * 60_000;

export type PlanRunEvent =
  /**
   * A v2 plan was dispatched. A new run, or, for a run of that id already here, the same run
   * going on (`retryFailed` sends its failed, interrupted, blocked and timed out actions again;
   * `fresh`, from `--force`, starts it over). `preset`: what an earlier dispatch did (ledger).
   */
  | {
      type: 'planRun/started';
      atMs: number;
      planId: string;
      plan: PlanV2;
      actions: { id: string; workspace: string; host: string }[];
      preset: Record<string, { status: 'skipped' | 'failed' | 'interrupted'; error: string | null }>;
      deadlineAtMs: number | null;
      retryFailed: boolean;
      fresh: boolean;
    }
  /** The loop starts an attempt of the action (its thread and turn/start follow as job events). */
  | { type: 'planRun/attemptStarted'; atMs: number; planId: string; actionId: string }
  /** The action's host is out of quota: paused until then. */
  | { type: 'planRun/paused'; atMs: number; planId: string; actionId: string; resumesAtMs: number; reason: string }
  /**
   * The loop stops the action (its budget, the dispatch's deadline): a running turn is being
   * interrupted and ends so; an action not running ends so now.
   */
  | { type: 'planRun/stopping'; atMs: number; planId: string; actionId: string; status: 'interrupted' | 'timeout'; message: string }
  /**
   * A restarted loop found an attempt that was still being sent when the previous one stopped
   * (no turn id recorded): lost, as a turn lost with its app-server is (retried under the policy).
   */
  | { type: 'planRun/attemptLost'; atMs: number; planId: string; actionId: string; error: string }
  /** The worktree of an action with `worktree` is ready (made, or an earlier run's taken again): its thread runs in `cwd`. */
  | { type: 'planRun/worktreeReady'; atMs: number; planId: string; actionId: string; path: string; cwd: string; branch: string; baseCommit: string; notes: string[] }
  /** What an ended worktree action changed there (or why that could not be read). */
  | { type: 'planRun/diffstat'; atMs: number; planId: string; actionId: string; diffstat: string }
  /**
   * Goal mode: the loop set the action's goal on the thread of its running attempt (after the
   * prompt's `turn/start` answered), or could not (`error`: the action fails).
   */
  | { type: 'planRun/goalSet'; atMs: number; planId: string; actionId: string; threadId: string; error: string | null };
