import { approvalSubject } from '../state/digest.js';
import { jobOfTurn } from '../state/selectors.js';
import type { ChatRole, JobRecord, SupervisorState } from '../state/model.js';
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

  for (const job of Object.values(next.jobs)) {
    if (!tracked.has(job.planId) || !FINAL.has(job.status)) continue;
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
