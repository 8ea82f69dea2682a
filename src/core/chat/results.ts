import type { DispatchResult } from '../api/supervisorApi.js';
import { clockTime } from '../util/time.js';
import type { PlanV2 } from '../contract/plan.js';
import { approvalSubject } from '../state/digest.js';
import { jobOfTurn } from '../state/selectors.js';
import type { ChatRole, JobRecord, SupervisorState } from '../state/model.js';
import { FINAL_ACTION_STATUSES, type PlanRun, type PlanRunAction } from '../state/planRuns.js';
import { oneLine } from '../util/text.js';

export interface ChatUpdate {
  role: Extract<ChatRole, 'result' | 'error' | 'supervisor'>;
  text: string;
  proposalId?: string;
}

const FINAL = new Set(['completed', 'failed', 'interrupted']);

/**
 * What the chat should say about its own dispatched work between two states: jobs that
 * finished (with the final message or the error) and approvals or questions those jobs now
 * wait on (with the key to answer them). `tracked` maps the plan ids the chat dispatched to
 * their proposal id (null for a slash command). Pure, so `prev` = null reports everything.
 */
export function chatUpdatesFrom(prev: SupervisorState | null, next: SupervisorState, tracked: ReadonlyMap<string, string | null>): ChatUpdate[] {
  const updates: ChatUpdate[] = [];
  const about = (job: JobRecord) => {
    const proposalId = tracked.get(job.planId);
    return proposalId ? { proposalId } : {};
  };
  const trackedJobOf = (state: SupervisorState, turnId: string | null): JobRecord | null => {
    const job = turnId === null ? undefined : jobOfTurn(state, turnId);
    return job && tracked.has(job.planId) ? job : null;
  };

  for (const run of Object.values(next.planRuns)) {
    if (tracked.has(run.planId)) updates.push(...planRunUpdates(prev?.planRuns[run.planId], run, tracked.get(run.planId) ?? null));
  }
  for (const job of Object.values(next.jobs)) {
    // A v2 plan's jobs are its attempts: its actions are told instead (planRunUpdates).
    if (!tracked.has(job.planId) || !FINAL.has(job.status) || next.planRuns[job.planId]) continue;
    const before = prev?.jobs[job.key];
    if (before && FINAL.has(before.status)) continue;
    const where = `${job.workspace} (${job.actionId})`;
    if (job.status === 'completed') {
      updates.push({ role: 'result', text: `${where} completed: ${job.finalMessage ? oneLine(job.finalMessage, 500) : '(no final message)'}`, ...about(job) });
    } else {
      updates.push({ role: 'error', text: `${where} ${job.status}: ${oneLine(job.error ?? 'no error message', 500)}`, ...about(job) });
    }
  }

  // An approval counts once it is pending and attributable to a tracked job: the job learns
  // its turn id only when turn/start answers, which may come after the request.
  for (const approval of Object.values(next.pendingApprovals)) {
    const job = trackedJobOf(next, approval.turnId);
    if (!job || (prev?.pendingApprovals[approval.key] && trackedJobOf(prev, approval.turnId))) continue;
    const reason = approval.reason ? ` (${oneLine(approval.reason, 120)})` : '';
    updates.push({
      role: 'supervisor',
      text: `${job.workspace} (${job.actionId}) needs approval: ${approvalSubject(approval)}${reason}. Approval ${approval.key}: press 3, or /approve ${approval.key} or /decline ${approval.key}`,
      ...about(job),
    });
  }
  for (const question of Object.values(next.openQuestions)) {
    const job = trackedJobOf(next, question.turnId);
    if (!job || (prev?.openQuestions[question.key] && trackedJobOf(prev, question.turnId))) continue;
    updates.push({
      role: 'supervisor',
      text: `${job.workspace} (${job.actionId}) asks: ${oneLine(question.message, 200)}. Question ${question.key}: press 3 to answer it`,
      ...about(job),
    });
  }
  return updates;
}

/** What the chat says once a v2 plan's run started: "plan p1 started: 3 actions, 1 ready, 2 waiting on build". */
export function planRunStartedText(plan: PlanV2, result: DispatchResult): string {
  const skipped = new Set(result.results.filter((r) => r.status === 'skipped').map((r) => r.id));
  const waiting = new Map<string, number>();
  let ready = 0;
  for (const action of plan.actions) {
    if (skipped.has(action.id)) continue;
    const on = (action.after ?? []).filter((id) => !skipped.has(id));
    if (on.length === 0) ready++;
    else waiting.set(on.join(', '), (waiting.get(on.join(', ')) ?? 0) + 1);
  }
  const parts = [`${plan.actions.length} action${plan.actions.length === 1 ? '' : 's'}`, `${ready} ready`, ...[...waiting].map(([on, n]) => `${n} waiting on ${on}`)];
  if (skipped.size > 0) parts.push(`${skipped.size} done before (skipped)`);
  return `plan ${result.planId} started: ${parts.join(', ')}`;
}

/** A v2 run's news between two states: actions that ended or paused, and the run's end. */
function planRunUpdates(prev: PlanRun | undefined, run: PlanRun, proposalId: string | null): ChatUpdate[] {
  const about = proposalId ? { proposalId } : {};
  const updates: ChatUpdate[] = [];
  for (const action of run.actions) {
    const before = prev?.actions.find((a) => a.id === action.id);
    if (before?.status === action.status && before.endedAtMs === action.endedAtMs) continue;
    const where = `${action.workspace} (${action.id})`;
    if (action.status === 'completed') updates.push({ role: 'result', text: `${where} completed: ${action.finalMessage ? oneLine(action.finalMessage, 500) : '(no final message)'}`, ...about });
    else if (action.status === 'paused') updates.push({ role: 'supervisor', text: `${where} paused (${action.pauseReason ?? 'quota'}, resumes ${clock(action.resumesAtMs)})`, ...about });
    else if (action.status !== 'skipped' && FINAL_ACTION_STATUSES.includes(action.status)) {
      const error = oneLine(action.error ?? 'no error message', 500);
      // "blocked: build did not complete" says its status already.
      updates.push({ role: 'error', text: `${where} ${error.startsWith(`${action.status}:`) ? error : `${action.status}: ${error}`}`, ...about });
    }
  }
  if (run.endedAtMs !== null && prev?.endedAtMs == null) updates.push({ role: 'supervisor', text: `plan ${run.planId} ended: ${countsOf(run.actions)}`, ...about });
  return updates;
}

function countsOf(actions: PlanRunAction[]): string {
  const counts = new Map<string, number>();
  for (const a of actions) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
}

function clock(ms: number | null): string {
  return ms === null ? '?' : clockTime(ms);
}
