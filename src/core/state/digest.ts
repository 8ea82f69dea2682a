import { cut, displayCommand, oneLine } from '../util/text.js';
import type { ApprovalDecision } from './events.js';
import type { ApprovalRecord, Blocker, SupervisorState, ThreadDigest, ThreadRecord } from './model.js';
import { goalStatusWords } from './threadGoal.js';

/** Shared by every digest without blockers (records are never mutated, so neither is this). */
const NO_BLOCKERS: Blocker[] = [];

/**
 * What a person wants to know about a thread at a glance: task, last activity, next step,
 * blockers. Runs for most events, so the common case (nothing blocks the thread) allocates
 * nothing when the digest is unchanged: the thread's own digest is returned.
 */
export function computeDigest(state: SupervisorState, thread: ThreadRecord): ThreadDigest {
  const previous = thread.digest;
  const workspace = state.workspaces[thread.workspace];
  const disconnected = workspace !== undefined && workspace.status !== 'ready' && workspace.status !== 'starting';
  // Ordered so that a running turn reads no other record: each is a cache miss with many threads.
  const failed = thread.currentTurnId === null && thread.lastError !== null && thread.lastTurn?.status === 'failed';
  if (thread.pendingApprovalKeys.length > 0 || thread.openQuestionKeys.length > 0 || failed || disconnected || thread.stalledSinceMs !== null) {
    return blockedDigest(state, thread, workspace?.status, failed, disconnected);
  }
  const step = nextStep(thread, null, null);
  if (previous.blockers.length === 0 && previous.nextStep === step) return previous;
  return { currentTask: previous.currentTask, lastActivity: previous.lastActivity, nextStep: step, blockers: NO_BLOCKERS };
}

function blockedDigest(state: SupervisorState, thread: ThreadRecord, status: string | undefined, failed: boolean, disconnected: boolean): ThreadDigest {
  const blockers: Blocker[] = [];
  let firstApproval: string | null = null;
  let firstQuestion: string | null = null;
  for (const key of thread.pendingApprovalKeys) {
    const approval = state.pendingApprovals[key];
    if (!approval) continue;
    const subject = approvalSubject(approval);
    firstApproval ??= subject;
    blockers.push({ kind: 'approval', text: `approval: ${subject}` });
  }
  for (const key of thread.openQuestionKeys) {
    const question = state.openQuestions[key];
    if (!question) continue;
    const line = oneLine(question.message, 80);
    firstQuestion ??= line;
    blockers.push({ kind: 'question', text: `question: ${line}` });
  }
  // Error messages are stored as oneLine cleaned them: only cut here.
  if (failed) blockers.push({ kind: 'error', text: `error: ${cut(thread.lastError!.message, 80)}` });
  if (thread.stalledSinceMs !== null) blockers.push({ kind: 'stalled', text: 'stalled: no events' });
  if (disconnected) blockers.push({ kind: 'disconnected', text: `app-server ${status}` });
  return {
    currentTask: thread.digest.currentTask,
    lastActivity: thread.digest.lastActivity,
    nextStep: nextStep(thread, firstApproval, firstQuestion),
    blockers: blockers.length > 0 ? blockers : NO_BLOCKERS,
  };
}

type ApprovalFields = Pick<ApprovalRecord, 'kind' | 'command' | 'files'>;

/** What an approval asks for, in a few words: the command, the files, or permissions. */
export function approvalSubject(a: ApprovalFields): string {
  if (a.kind === 'command') return a.command ? `\`${oneLine(displayCommand(a.command), 80)}\`` : 'a command';
  if (a.kind === 'fileChange') return a.files.length > 0 ? `edit ${a.files.length} file(s): ${oneLine(a.files.join(', '), 60)}` : 'file changes';
  return 'extra permissions';
}

/** `approval`, `question`: the first the thread waits on (an approval's subject, a question as one line). */
function nextStep(thread: ThreadRecord, approval: string | null, question: string | null): string {
  if (approval !== null) return `waiting for your approval: ${approval}`;
  if (question !== null) return `waiting for your answer: ${question}`;
  const goal = thread.goal;
  // Goal mode: Codex works toward the goal turn after turn; that is the next step until it ends.
  if (goal !== null && goal.status !== 'complete' && goal.status !== 'cleared') {
    const objective = cut(goal.objective, 80);
    if (goal.status === 'active') return `goal: ${objective} (${goal.turns === 0 ? 'starting' : `turn ${goal.turns}`})`;
    return `goal ${goalStatusWords(goal.status)}: ${objective}`;
  }
  if (thread.currentTurnId !== null) {
    const pending = thread.plan.find((s) => s.status !== 'completed');
    // Steps are stored cleaned (see plan/updated): only cut here, on every event of a running turn.
    return pending ? cut(pending.step, 100) : 'working on the current turn';
  }
  // A usage limit is not the agent's failure: the work waits for the account's quota.
  if (thread.lastTurn?.status === 'failed' && thread.lastError?.codexErrorKind === 'usageLimitExceeded') return 'usage limit reached: retry once it resets (a plan action resumes by itself)';
  if (thread.lastTurn?.status === 'failed') return 'failed: send new instructions or retry';
  return 'idle: awaiting instructions';
}

/** "approved", "declined", … as a person would say it. */
export function decisionWord(decision: ApprovalDecision): string {
  switch (decision) {
    case 'accept':
      return 'approved';
    case 'acceptForSession':
      return 'approved for the session';
    case 'decline':
      return 'declined';
    case 'cancel':
      return 'cancelled the turn';
  }
}
