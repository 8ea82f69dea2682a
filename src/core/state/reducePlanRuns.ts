import type { FailureKind } from '../dispatch/failureKind.js';
import { pushFeed } from './feed.js';
import { goalOutcome } from './planGoal.js';
import type { HostRecord, JobRecord, SupervisorState } from './model.js';
import { backoffMs, DEFAULT_QUOTA_PAUSE_MS, FINAL_ACTION_STATUSES, nextSteps, waitingOnOf, type PlanActionStatus, type PlanRun, type PlanRunAction, type PlanRunEvent } from './planRuns.js';

export function reducePlanRunEvent(state: SupervisorState, event: PlanRunEvent): void {
  if (event.type === 'planRun/started') return startRun(state, event);
  const old = state.planRuns[event.planId];
  if (!old) return;
  const run = copyRun(old);
  const action = run.actions.find((a) => a.id === event.actionId);
  if (!action) return;
  switch (event.type) {
    case 'planRun/attemptStarted':
      if (action.status !== 'waiting' && action.status !== 'paused') return;
      action.status = 'running';
      action.resumesAtMs = null;
      action.pauseReason = null;
      action.startedAtMs ??= event.atMs;
      action.attempts.push({ n: action.attempts.length + 1, turnId: null, threadId: null, startedAtMs: event.atMs, endedAtMs: null, outcome: 'running', error: null, failure: null, goalSet: false });
      break;
    case 'planRun/paused':
      if (action.status !== 'waiting' && action.status !== 'paused') return;
      action.status = 'paused';
      action.resumesAtMs = event.resumesAtMs;
      action.pauseReason = event.reason;
      pushFeed(state, { atMs: event.atMs, workspace: action.workspace, threadId: null, kind: 'dispatch', text: `${action.id} paused (${event.reason})` });
      break;
    case 'planRun/attemptLost': {
      const last = action.attempts.at(-1);
      if (action.status !== 'running' || !last || last.outcome !== 'running' || last.turnId !== null) return;
      last.endedAtMs = event.atMs;
      last.error = event.error;
      settleFailure(state, run, action, { status: 'interrupted', error: event.error, threadId: last.threadId }, 'transient', event.atMs);
      break;
    }
    case 'planRun/goalSet': {
      const last = action.attempts.at(-1);
      if (action.status !== 'running' || !last || last.outcome !== 'running' || last.threadId !== event.threadId) return;
      if (event.error === null) {
        last.goalSet = true;
        settleGoal(state, run, action, event.atMs);
      } else {
        last.endedAtMs = event.atMs;
        settleFailure(state, run, action, { status: 'failed', error: `could not set its goal: ${event.error}`, threadId: last.threadId }, 'permanent', event.atMs);
      }
      break;
    }
    case 'planRun/stopping':
      if (FINAL_ACTION_STATUSES.includes(action.status)) return;
      if (action.status === 'running') action.stopReason = { status: event.status, message: event.message };
      else end(action, event.status, event.message, event.atMs);
      break;
    case 'planRun/worktreeReady':
      if (action.status !== 'running') return;
      Object.assign(action, { worktree: event.path, worktreeCwd: event.cwd, branch: event.branch, baseCommit: event.baseCommit, diffstat: null });
      for (const note of event.notes) pushFeed(state, { atMs: event.atMs, workspace: action.workspace, threadId: null, kind: 'dispatch', text: `${action.id}: ${note}` });
      break;
    case 'planRun/diffstat':
      if (!FINAL_ACTION_STATUSES.includes(action.status) || action.worktree === null) return;
      action.diffstat = event.diffstat;
      break;
  }
  store(state, run, event.atMs);
}

function startRun(state: SupervisorState, event: Extract<PlanRunEvent, { type: 'planRun/started' }>): void {
  const existing = state.planRuns[event.planId];
  if (existing && !event.fresh) {
    const run = copyRun(existing);
    run.deadlineAtMs = event.deadlineAtMs;
    const again = event.retryFailed ? run.actions.filter((a) => ['failed', 'interrupted', 'blocked', 'timeout'].includes(a.status)) : [];
    for (const action of again) Object.assign(action, { status: 'waiting', resumesAtMs: null, pauseReason: null, stopReason: null, endedAtMs: null, error: null, diffstat: null });
    // A run that ended stays ended (and says so once) unless something is sent again.
    if (again.length > 0) run.endedAtMs = null;
    store(state, run, event.atMs);
    return;
  }
  const run: PlanRun = {
    planId: event.planId,
    plan: event.plan,
    startedAtMs: event.atMs,
    endedAtMs: null,
    deadlineAtMs: event.deadlineAtMs,
    actions: event.plan.actions.map((a, i): PlanRunAction => {
      const preset = event.preset[a.id];
      return {
        id: a.id,
        workspace: event.actions[i]!.workspace,
        host: event.actions[i]!.host,
        after: a.after ?? [],
        status: preset?.status ?? 'waiting',
        attempts: [],
        waitingOn: [],
        resumesAtMs: null,
        pauseReason: null,
        stopReason: null,
        tokens: null,
        startedAtMs: null,
        endedAtMs: preset ? event.atMs : null,
        finalMessage: null,
        error: preset?.error ?? null,
        worktree: null,
        branch: null,
        worktreeCwd: null,
        baseCommit: null,
        diffstat: null,
      };
    }),
  };
  pushFeed(state, { atMs: event.atMs, workspace: run.actions[0]!.workspace, threadId: null, kind: 'dispatch', text: `plan ${run.planId}: ${run.actions.length} actions` });
  store(state, run, event.atMs);
  pruneEnded(state);
}

/** Ended runs kept in the state (a plan carries its prompts); older ones live on in the ledger only. */
export const MAX_ENDED_RUNS = 50;

function pruneEnded(state: SupervisorState): void {
  const ended = Object.values(state.planRuns).filter((r) => r.endedAtMs !== null);
  if (ended.length <= MAX_ENDED_RUNS) return;
  ended.sort((a, b) => a.endedAtMs! - b.endedAtMs!);
  for (const run of ended.slice(0, ended.length - MAX_ENDED_RUNS)) delete state.planRuns[run.planId];
}

/**
 * A plan action's job changed (its turn was sent, ended, or could not be sent): the action's
 * current attempt follows. `failure`: how a failed or lost turn was classified.
 */
export function planRunJobChanged(state: SupervisorState, job: JobRecord, atMs: number, failure: FailureKind | null): void {
  const old = state.planRuns[job.planId];
  const oldAction = old?.actions.find((a) => a.id === job.actionId);
  const oldAttempt = oldAction?.attempts.at(-1);
  if (!old || !oldAction || oldAction.status !== 'running' || !oldAttempt || oldAttempt.outcome !== 'running') return;
  const run = copyRun(old);
  const action = run.actions.find((a) => a.id === job.actionId)!;
  const attempt = action.attempts.at(-1)!;
  attempt.turnId = job.turnId;
  attempt.threadId = job.threadId;
  const thread = job.threadId ? state.threads[job.threadId] : undefined;
  if (thread?.tokenUsage) action.tokens = thread.tokenUsage.totalTokens;
  // Goal mode: a completed turn is not the end; the goal's is.
  if (job.status === 'completed' && hasGoal(run, action)) settleGoal(state, run, action, atMs);
  else if (job.status === 'completed' || job.status === 'failed' || job.status === 'interrupted') {
    attempt.endedAtMs = atMs;
    attempt.error = job.error;
    if (job.status === 'completed') {
      attempt.outcome = 'completed';
      action.finalMessage = job.finalMessage;
      end(action, 'completed', null, atMs);
    } else settleFailure(state, run, action, { status: job.status, error: job.error, threadId: job.threadId }, failure, atMs);
  }
  store(state, run, atMs);
}

/**
 * Goal mode: a thread's goal or turn changed; a running goal action on it may be over now (its
 * prompt's job completed earlier, before the goal ended).
 */
export function planRunThreadChanged(state: SupervisorState, threadId: string, atMs: number): void {
  for (const old of Object.values(state.planRuns)) {
    if (old.endedAtMs !== null) continue;
    for (const oldAction of old.actions) {
      const last = oldAction.attempts.at(-1);
      if (oldAction.status !== 'running' || last?.threadId !== threadId || !last.goalSet || last.outcome !== 'running') continue;
      const run = copyRun(old);
      const action = run.actions.find((a) => a.id === oldAction.id)!;
      settleGoal(state, run, action, atMs);
      store(state, run, atMs);
      // One action per thread at a time; the next one (if any) on a later change.
      return;
    }
  }
}

function hasGoal(run: PlanRun, action: PlanRunAction): boolean {
  return run.plan.actions.find((a) => a.id === action.id)?.goal !== undefined;
}

/** Ends a goal action's attempt when its goal ended (planGoal.ts); its tokens are the goal's. */
function settleGoal(state: SupervisorState, run: PlanRun, action: PlanRunAction, atMs: number): void {
  const attempt = action.attempts.at(-1)!;
  const thread = attempt.threadId ? state.threads[attempt.threadId] : undefined;
  if (thread?.goal && attempt.goalSet) action.tokens = thread.goal.tokensUsed;
  const outcome = goalOutcome(attempt, state.jobs[`${run.planId}:${action.id}`], thread);
  if (outcome === null) return;
  attempt.endedAtMs = atMs;
  // The last turn's reply: what the goal's work came to.
  action.finalMessage = thread?.lastAgentMessage ?? state.jobs[`${run.planId}:${action.id}`]?.finalMessage ?? null;
  if (outcome.status === 'completed') {
    attempt.outcome = 'completed';
    end(action, 'completed', null, atMs);
    return;
  }
  attempt.error = outcome.error;
  settleFailure(state, run, action, { status: outcome.status, error: outcome.error, threadId: attempt.threadId }, outcome.failure, atMs);
}

/** How the attempt ended, as its job (or the loop) says. */
type AttemptEnd = { status: 'failed' | 'interrupted'; error: string | null; threadId: string | null };

function settleFailure(state: SupervisorState, run: PlanRun, action: PlanRunAction, job: AttemptEnd, failure: FailureKind | null, atMs: number): void {
  const attempt = action.attempts.at(-1)!;
  const plan = run.plan.actions.find((a) => a.id === action.id);
  attempt.outcome = job.status === 'failed' ? 'failed' : 'interrupted';
  attempt.failure = failure;
  if (action.stopReason) {
    attempt.outcome = action.stopReason.status;
    end(action, action.stopReason.status, action.stopReason.message, atMs);
    return;
  }
  const error = job.error ?? `turn ${job.status}`;
  if (failure === 'quota') {
    const resumesAtMs = quotaResetOf(state.hosts[action.host], atMs);
    action.status = 'paused';
    action.resumesAtMs = resumesAtMs.atMs;
    action.pauseReason = resumesAtMs.known ? 'quota' : `quota, no reset time reported: trying again in ${DEFAULT_QUOTA_PAUSE_MS / 60_000} min`;
    action.error = error;
    pushFeed(state, { atMs, workspace: action.workspace, threadId: job.threadId, kind: 'dispatch', text: `${action.id} paused (${action.pauseReason}): ${error}` });
    return;
  }
  const retries = plan?.retry?.attempts ?? 0;
  if (failure === 'transient' && action.attempts.length <= retries) {
    action.status = 'waiting';
    action.resumesAtMs = atMs + backoffMs(plan?.retry?.backoffSec ?? 30, action.attempts.length);
    action.error = error;
    pushFeed(state, { atMs, workspace: action.workspace, threadId: job.threadId, kind: 'dispatch', text: `${action.id}: attempt ${action.attempts.length} failed (${error}); retrying` });
    return;
  }
  end(action, job.status === 'failed' ? 'failed' : 'interrupted', error, atMs);
}

/**
 * When an exhausted quota resets: the latest reset of a window at 100 % (or any window when
 * Codex says a limit is reached), else a default pause.
 */
export function quotaResetOf(host: HostRecord | undefined, atMs: number): { atMs: number; known: boolean } {
  const limits = host?.rateLimits;
  const windows = [limits?.primary, limits?.secondary].filter((w) => w && w.resetsAtMs !== null && w.resetsAtMs > atMs && (w.usedPercent >= 100 || limits?.reached));
  const resets = windows.map((w) => w!.resetsAtMs!);
  return resets.length > 0 ? { atMs: Math.max(...resets), known: true } : { atMs: atMs + DEFAULT_QUOTA_PAUSE_MS, known: false };
}

/** Hosts whose usage limit is reached now, with when it resets (the scheduler pauses their actions). */
export function exhaustedHosts(state: SupervisorState, nowMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const host of Object.values(state.hosts)) {
    const limits = host.rateLimits;
    if (!limits) continue;
    const full = [limits.primary, limits.secondary].filter((w) => w && (w.usedPercent >= 100 || limits.reached) && w.resetsAtMs !== null && w.resetsAtMs > nowMs);
    if (full.length > 0) out[host.name] = Math.max(...full.map((w) => w!.resetsAtMs!));
  }
  return out;
}

function end(action: PlanRunAction, status: PlanActionStatus, error: string | null, atMs: number): void {
  action.status = status;
  action.error = error;
  action.endedAtMs = atMs;
  action.resumesAtMs = null;
  action.pauseReason = null;
}

/** Applies what follows from the run's new state (blocked dependents, waiting-on lists, its end) and stores it. */
function store(state: SupervisorState, run: PlanRun, atMs: number): void {
  for (const id of nextSteps(run, atMs).block) {
    const action = run.actions.find((a) => a.id === id)!;
    const broken = action.after.filter((dep) => ['failed', 'interrupted', 'blocked', 'timeout'].includes(run.actions.find((a) => a.id === dep)?.status ?? ''));
    end(action, 'blocked', `blocked: ${(broken.length > 0 ? broken : action.after).join(', ')} did not complete`, atMs);
  }
  for (const action of run.actions) action.waitingOn = action.status === 'waiting' || action.status === 'paused' ? waitingOnOf(run, action) : [];
  if (run.endedAtMs === null && run.actions.every((a) => FINAL_ACTION_STATUSES.includes(a.status) && !awaitsDiffstat(a))) {
    run.endedAtMs = atMs;
    const counts = new Map<string, number>();
    for (const a of run.actions) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
    pushFeed(state, { atMs, workspace: run.actions[0]!.workspace, threadId: null, kind: 'dispatch', text: `plan ${run.planId} ended: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}` });
  }
  state.planRuns[run.planId] = run;
}

/** An ended worktree action whose diffstat the loop is still reading: its run has not ended yet. */
export function awaitsDiffstat(action: PlanRunAction): boolean {
  return FINAL_ACTION_STATUSES.includes(action.status) && action.worktree !== null && action.diffstat === null;
}

/** Records are never changed in place (snapshots share them): changes go to a copy. */
function copyRun(run: PlanRun): PlanRun {
  return { ...run, actions: run.actions.map((a) => ({ ...a, attempts: a.attempts.map((t) => ({ ...t })), after: a.after.slice(), waitingOn: a.waitingOn.slice() })) };
}
