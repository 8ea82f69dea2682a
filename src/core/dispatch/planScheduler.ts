import type { PlanV2Action } from '../contract/plan.js';
import { diffstatSummary } from '../git/diffstat.js';
import type { WorktreeManager } from '../git/worktrees.js';
import { awaitsDiffstat, exhaustedHosts } from '../state/reducePlanRuns.js';
import { nextSteps, type PlanRun, type PlanRunAction } from '../state/planRuns.js';
import { messageOf, send, type DispatchTarget, type SendPlace } from './dispatchPlan.js';

export interface SchedulerTarget extends DispatchTarget {
  interrupt: (threadId: string, turnId: string) => Promise<void>;
  /** Makes the worktrees of actions with `worktree` (under the home); null: a loop without a home, which refuses them. */
  worktrees: WorktreeManager | null;
}

/**
 * Runs the v2 plans in `state.planRuns`: after every state change it asks the pure `nextSteps`
 * what to start, block and pause, and performs it (an attempt = the thread selection and
 * `turn/start` of a v1 action, the ledger claimed first). Timers wake it for retries' backoff,
 * quota resets and a dispatch's deadline. It keeps no state of its own besides timers: a
 * restarted loop picks a persisted run up where it was.
 */
export class PlanScheduler {
  private scheduled = false;
  /** Off until the loop registered its hosts and workspaces (`begin`), and after `stop`. */
  private on = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** Attempts whose turn is being interrupted here (budget, deadline), so each is asked once. */
  private readonly interrupting = new Set<string>();
  /** Ended worktree actions whose diffstat is being read (`plan:action`), so each is read once. */
  private readonly reading = new Set<string>();
  /** Goals being cleared here (`threadId:createdAt`), so each is asked once. */
  private readonly clearing = new Set<string>();

  constructor(private readonly target: SchedulerTarget) {}

  /**
   * Starts scheduling. An attempt still `running` without a turn id was being sent by the loop
   * before this one (nothing is sent here yet): it is lost, as a turn lost with its app-server.
   */
  begin(): void {
    const now = this.target.now();
    for (const run of Object.values(this.target.state().planRuns)) {
      if (run.endedAtMs !== null) continue;
      for (const action of run.actions) {
        const last = action.attempts.at(-1);
        if (action.status !== 'running' || !last || last.outcome !== 'running' || last.turnId !== null) continue;
        this.target.emit({ type: 'planRun/attemptLost', atMs: now, planId: run.planId, actionId: action.id, error: 'it was being sent when the previous cm-supervisor stopped' });
      }
    }
    this.on = true;
    this.poke();
  }

  /** Looks again soon (once per burst of changes). */
  poke(): void {
    if (this.scheduled || this.stopped || !this.on) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (!this.stopped) this.step();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private step(): void {
    const now = this.target.now();
    const state = this.target.state();
    const exhausted = exhaustedHosts(state, now);
    let wake: number | null = null;
    for (const run of Object.values(state.planRuns)) {
      this.clearOrphanGoals(run);
      if (run.endedAtMs !== null) continue;
      this.readDiffstats(run);
      if (run.deadlineAtMs !== null && now >= run.deadlineAtMs) {
        this.timeOut(run);
        continue;
      }
      this.checkBudgets(run);
      const steps = nextSteps(run, now, exhausted);
      for (const { id, resumesAtMs } of steps.pause) {
        this.target.emit({ type: 'planRun/paused', atMs: now, planId: run.planId, actionId: id, resumesAtMs, reason: 'quota: the usage limit of its host is reached' });
      }
      for (const id of steps.start) this.startAttempt(run, id);
      if (steps.wakeAtMs !== null) wake = wake === null ? steps.wakeAtMs : Math.min(wake, steps.wakeAtMs);
    }
    this.arm(wake, now);
  }

  private arm(wakeAtMs: number | null, now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (wakeAtMs === null) return;
    this.timer = setTimeout(() => this.poke(), Math.max(0, wakeAtMs - now) + 5);
    this.timer.unref();
  }

  private startAttempt(run: PlanRun, actionId: string): void {
    const { target } = this;
    const action = run.actions.find((a) => a.id === actionId)!;
    const planAction = run.plan.actions.find((a) => a.id === actionId)!;
    const n = action.attempts.length + 1;
    target.emit({ type: 'planRun/attemptStarted', atMs: target.now(), planId: run.planId, actionId });
    const key = `${run.planId}:${actionId}`;
    // Unique per attempt and per run, so a search after a crash finds this very turn.
    const clientUserMessageId = `${key}#${run.startedAtMs}.${n}`;
    // A retry goes on in the thread of the attempt before (its context is there).
    const reuseThread = action.attempts.at(-1)?.threadId ?? null;
    const planTarget = { actionId, kind: 'configured' as const, workspace: action.workspace };
    const result = { id: actionId, workspace: action.workspace, status: 'failed' as const, jobKey: key, threadId: null, turnId: null, error: null };
    // The job records why its attempt could not be sent: the action fails (permanent, its dependents blocked).
    const refuse = (error: string) => {
      target.emit({ type: 'job/queued', atMs: target.now(), key, planId: run.planId, actionId, workspace: action.workspace, prompt: planAction.prompt });
      target.emit({ type: 'job/failed', atMs: target.now(), key, error });
    };
    void (async () => {
      let place: SendPlace;
      try {
        place = await this.placeOf(run.planId, action, planAction);
      } catch (error) {
        refuse(messageOf(error));
        return;
      }
      try {
        await target.ledger?.update((entries) =>
          target.ledger!.claim(entries, { key, planId: run.planId, actionId, workspace: action.workspace, threadId: reuseThread, clientUserMessageId }),
        );
      } catch (error) {
        refuse(`the dispatch ledger could not record it: ${messageOf(error)}`);
        return;
      }
      // A worktree or a review gets a thread of its own (validation allows no other); a retry goes on in it.
      const sentAction = place.cwd !== undefined || place.review ? { ...planAction, thread: 'new' as const } : planAction;
      const sent = await send(target, run.planId, planTarget, sentAction, { kind: 'send', clientUserMessageId, reuseThread }, result, place);
      if (planAction.goal !== undefined && sent.status === 'dispatched') await this.setGoal(run, action, planAction, sent.threadId!, sent.turnId!);
    })();
  }

  /**
   * Where the attempt runs: an action with `worktree` in its worktree (made before its first
   * attempt, the same one for its retries), a review with `target.after` in that action's
   * worktree (a dependency: made by then), anything else in its workspace.
   */
  private async placeOf(planId: string, action: PlanRunAction, planAction: PlanV2Action): Promise<SendPlace> {
    const review = planAction.kind === 'review';
    const current = (id: string) => this.target.state().planRuns[planId]?.actions.find((a) => a.id === id);
    if (review) {
      const reviewed = planAction.target?.after;
      if (reviewed === undefined) return { review };
      const cwd = current(reviewed)?.worktreeCwd;
      if (!cwd) throw new Error(`"${reviewed}" has no worktree to review (it ran without one, or its worktree was not made)`);
      return { review, cwd };
    }
    if (planAction.worktree === undefined || planAction.worktree === false) return {};
    const made = current(action.id)?.worktreeCwd;
    if (made) return { cwd: made };
    const { target } = this;
    const workspace = target.state().workspaces[action.workspace];
    if (!workspace) throw new Error(`workspace "${action.workspace}" is not known to this cm-supervisor`);
    if (!target.worktrees) throw new Error('this cm-supervisor runs without a home (the demo), so it makes no worktrees; dispatch the plan with `cm-supervisor dispatch`, or remove "worktree" from the action');
    const host = { name: workspace.host, kind: target.state().hosts[workspace.host]?.kind ?? 'local' };
    const prepared = await target.worktrees.prepare({
      workspace: { name: workspace.name, host: workspace.host, path: workspace.path },
      host,
      planId,
      actionId: action.id,
      ...(typeof planAction.worktree === 'string' ? { branch: planAction.worktree } : {}),
    });
    target.emit({ type: 'planRun/worktreeReady', atMs: target.now(), planId, actionId: action.id, path: prepared.path, cwd: prepared.cwd, branch: prepared.branch, baseCommit: prepared.baseCommit, notes: prepared.notes });
    return { cwd: prepared.cwd };
  }

  /** Reads what each ended worktree action changed; its run ends once every one is known. */
  private readDiffstats(run: PlanRun): void {
    for (const action of run.actions) {
      const key = `${run.planId}:${action.id}`;
      if (!awaitsDiffstat(action) || this.reading.has(key)) continue;
      this.reading.add(key);
      const done = (diffstat: string) => {
        this.reading.delete(key);
        this.target.emit({ type: 'planRun/diffstat', atMs: this.target.now(), planId: run.planId, actionId: action.id, diffstat });
      };
      const { worktrees } = this.target;
      const read =
        worktrees && action.baseCommit
          ? worktrees.diffstat({ path: action.worktree!, baseCommit: action.baseCommit })
          : Promise.reject(new Error(worktrees ? 'the commit its worktree started from is not recorded' : 'this cm-supervisor has no home to read worktrees in'));
      read.then(
        (stat) => done(diffstatSummary(stat)),
        (error: unknown) => done(`diffstat unavailable: ${messageOf(error)}`),
      );
    }
  }

  /**
   * Goal mode: sets the action's goal on its thread once the prompt's `turn/start` answered (so
   * the prompt's turn is the attempt's own turn; Codex then goes on with goal turns). The action's
   * `budget.tokens` becomes the goal's token budget: Codex stops the goal there (`budgetLimited`).
   */
  private async setGoal(run: PlanRun, action: PlanRunAction, planAction: PlanV2Action, threadId: string, turnId: string): Promise<void> {
    const { target } = this;
    const key = `${run.planId}:${action.id}`;
    // The prompt's turn already failed: its attempt ended, a goal would only start turns nobody waits for.
    if (['failed', 'interrupted'].includes(target.state().jobs[key]?.status ?? '')) return;
    const workspace = action.workspace;
    try {
      const client = await target.clientFor({ actionId: action.id, kind: 'configured', workspace });
      const { goal } = await client.threadGoalSet({ threadId, objective: planAction.goal!, origin: 'user', ...(planAction.budget ? { tokenBudget: planAction.budget.tokens } : {}) });
      // The answer is the goal at once: the state never reads an earlier goal of the thread as this one.
      const { objective, status, tokensUsed, timeUsedSeconds, createdAt } = goal;
      target.emit({ type: 'thread/goalUpdated', atMs: target.now(), workspace, threadId, turnId: null, goal: { objective, status, tokensUsed, tokenBudget: goal.tokenBudget ?? null, timeUsedSeconds, createdAt } });
      target.emit({ type: 'planRun/goalSet', atMs: target.now(), planId: run.planId, actionId: action.id, threadId, error: null });
    } catch (error) {
      target.emit({ type: 'planRun/goalSet', atMs: target.now(), planId: run.planId, actionId: action.id, threadId, error: messageOf(error) });
      // Without its goal the prompt's turn is not what was asked for.
      if (target.state().threads[threadId]?.currentTurnId === turnId) await target.interrupt(threadId, turnId).catch(() => {});
    }
  }

  /**
   * Goal mode: Codex goes on with goal turns while a goal is active, whoever waits for them. A goal
   * action that ended otherwise (its prompt's turn failed, it is waiting for a retry) or that the
   * loop stops (deadline) has its goal cleared, so its thread stops and the stop can end it.
   */
  private clearOrphanGoals(run: PlanRun): void {
    const state = this.target.state();
    for (const action of run.actions) {
      const attempt = action.attempts.at(-1);
      if (!attempt?.goalSet || !attempt.threadId || (action.status === 'running' && !action.stopReason)) continue;
      const goal = state.threads[attempt.threadId]?.goal;
      if (goal?.status !== 'active') continue;
      const key = `${attempt.threadId}:${goal.createdAt}`;
      if (this.clearing.has(key)) continue;
      this.clearing.add(key);
      const threadId = attempt.threadId;
      this.target
        .clientFor({ actionId: action.id, kind: 'configured', workspace: action.workspace })
        .then((client) => client.threadGoalClear({ threadId, origin: 'user' }))
        .catch((error: unknown) => this.target.problem(`plan-goal:${run.planId}:${action.id}`, `could not clear the goal of ${action.id} of plan ${run.planId}: ${messageOf(error)}`));
    }
  }

  /** Interrupts a running turn whose thread used more tokens than the action's budget. */
  private checkBudgets(run: PlanRun): void {
    for (const action of run.actions) {
      // A goal's budget is Codex's to keep (setGoal).
      const budget = budgetOf(run, action);
      const attempt = action.attempts.at(-1);
      if (budget === null || action.status !== 'running' || action.stopReason || !attempt?.threadId || !attempt.turnId) continue;
      const used = this.target.state().threads[attempt.threadId]?.tokenUsage?.totalTokens ?? 0;
      if (used <= budget) continue;
      this.stopAction(run, action, 'interrupted', `over its budget of ${budget} tokens (used ${used}); the turn was interrupted`);
    }
  }

  /** `dispatch --timeout` ran out: every unfinished action ends `timeout`, running turns interrupted. */
  private timeOut(run: PlanRun): void {
    const seconds = Math.round((run.deadlineAtMs! - run.startedAtMs) / 1000);
    for (const action of run.actions) {
      if (['waiting', 'paused', 'running'].includes(action.status)) {
        this.stopAction(run, action, 'timeout', action.status === 'running' ? `timed out after ${seconds}s; the turn was interrupted` : `timed out after ${seconds}s before it started`);
      }
    }
  }

  private stopAction(run: PlanRun, action: PlanRunAction, status: 'interrupted' | 'timeout', message: string): void {
    if (!action.stopReason) this.target.emit({ type: 'planRun/stopping', atMs: this.target.now(), planId: run.planId, actionId: action.id, status, message });
    const attempt = action.attempts.at(-1);
    // A goal action's running turn may be a goal turn (its goal is cleared: clearOrphanGoals).
    const turnId = attempt?.goalSet && attempt.threadId ? (this.target.state().threads[attempt.threadId]?.currentTurnId ?? null) : (attempt?.turnId ?? null);
    if (action.status !== 'running' || !attempt?.threadId || !turnId) return;
    const key = `${attempt.threadId}:${turnId}`;
    if (this.interrupting.has(key)) return;
    this.interrupting.add(key);
    this.target.interrupt(attempt.threadId, turnId).catch((error: unknown) => this.target.problem(`plan-interrupt:${run.planId}:${action.id}`, `could not interrupt ${action.id} of plan ${run.planId}: ${messageOf(error)}`));
  }
}

function budgetOf(run: PlanRun, action: PlanRunAction): number | null {
  const planAction: PlanV2Action | undefined = run.plan.actions.find((a) => a.id === action.id);
  return planAction?.goal === undefined ? (planAction?.budget?.tokens ?? null) : null;
}
