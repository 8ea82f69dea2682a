import type { DispatchResult, SupervisorApi } from '../api/supervisorApi.js';
import type { PlanAttempt, PlanRun, PlanRunAction } from '../state/planRuns.js';
import type { SupervisorState } from '../state/model.js';
import { clockTime } from '../util/time.js';
import { approvalResponder, type AwaitOptions, type FinalActionResult } from './awaitCompletion.js';

/** One action of a v2 run as `dispatch` reports it. */
export interface PlanActionResult extends FinalActionResult {
  attempts: PlanAttempt[];
  tokens: number | null;
  durationMs: number | null;
  waitingOn: string[];
  resumesAtMs: number | null;
  worktree: string | null;
  branch: string | null;
  diffstat: string | null;
}

/**
 * Waits until a v2 plan run ended (the loop runs it; its `--timeout` is the run's deadline),
 * answering the approvals of its turns as `awaitCompletion` does. An abort (Ctrl-C, the daemon
 * gone) stops the wait only: the results say where each action is then.
 */
export async function awaitPlanRun(api: SupervisorApi, dispatched: DispatchResult, options: Omit<AwaitOptions, 'timeoutMs' | 'onProgress'> & { onProgress?: (rows: PlanActionResult[]) => void }): Promise<PlanActionResult[]> {
  const now = options.now ?? Date.now;
  const rows = (state: SupervisorState): PlanActionResult[] => {
    const run = state.planRuns[dispatched.planId];
    return run ? run.actions.map((a) => planActionResult(a, now())) : [];
  };
  const ended = (state: SupervisorState) => state.planRuns[dispatched.planId]?.endedAtMs != null;
  let state = await api.snapshot();
  if (ended(state)) return rows(state);
  const responder = approvalResponder(api, options, (turnId) => ownsTurn(state.planRuns[dispatched.planId], turnId));
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (final: SupervisorState) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      responder.close();
      clearInterval(progress);
      const result = rows(final);
      options.onProgress?.(result);
      resolve(result);
    };
    const check = async () => {
      if (settled) return;
      state = await api.snapshot();
      if (settled) return;
      responder.respond(state);
      options.onProgress?.(rows(state));
      if (ended(state)) finish(state);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      responder.close();
      clearInterval(progress);
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const unsubscribe = api.subscribe((change) => {
      if (change.eventType === 'item/progress') return;
      check().catch(fail);
    });
    const progress = setInterval(() => options.onProgress?.(rows(state)), 250);
    options.abort?.addEventListener('abort', () => finish(state), { once: true });
    check().catch(fail);
  });
}

function ownsTurn(run: PlanRun | undefined, turnId: string): boolean {
  return run?.actions.some((a) => a.attempts.some((t) => t.turnId === turnId)) ?? false;
}

export function planActionResult(action: PlanRunAction, nowMs: number): PlanActionResult {
  const last = action.attempts.at(-1);
  const durationMs = action.startedAtMs === null ? null : (action.endedAtMs ?? nowMs) - action.startedAtMs;
  return {
    id: action.id,
    workspace: action.workspace,
    status: action.status,
    threadId: last?.threadId ?? null,
    turnId: last?.turnId ?? null,
    error: action.status === 'completed' ? null : action.error,
    finalMessage: action.finalMessage,
    elapsedMs: durationMs ?? 0,
    detail: actionDetail(action, nowMs),
    attempts: action.attempts,
    tokens: action.tokens,
    durationMs,
    waitingOn: action.waitingOn,
    resumesAtMs: action.resumesAtMs,
    worktree: action.worktree,
    branch: action.branch,
    diffstat: action.diffstat,
  };
}

/** What a live line says besides the status: what it waits on, until when it pauses, which attempt. */
export function actionDetail(action: PlanRunAction, nowMs: number): string {
  const state = stateDetail(action, nowMs);
  const worktree = worktreeDetail(action);
  return state && worktree ? `${state}; ${worktree}` : state || worktree;
}

/** A worktree action's branch, and what it changed there once it ended: `cms/p/a (1 file changed, …)`. */
export function worktreeDetail(action: Pick<PlanRunAction, 'branch' | 'diffstat'>): string {
  if (action.branch === null) return '';
  return action.diffstat === null ? action.branch : `${action.branch} (${action.diffstat})`;
}

function stateDetail(action: PlanRunAction, nowMs: number): string {
  if (action.status === 'paused' && action.resumesAtMs !== null) return `paused (${action.pauseReason ?? 'quota'}, resumes ${clockTime(action.resumesAtMs)})`;
  if (action.status === 'waiting' && action.waitingOn.length > 0) return `waiting on ${action.waitingOn.join(', ')}`;
  if (action.status === 'waiting' && action.resumesAtMs !== null && action.resumesAtMs > nowMs) return `retry ${action.attempts.length + 1} in ${Math.ceil((action.resumesAtMs - nowMs) / 1000)}s`;
  if (action.status === 'running' && action.attempts.length > 1) return `attempt ${action.attempts.length}`;
  return '';
}
