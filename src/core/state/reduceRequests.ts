import { oneLine, stripControl } from '../util/text.js';
import { approvalSubject, decisionWord } from './digest.js';
import type { ApprovalDecision, Effect, SupervisorEvent } from './events.js';
import { pushFeed, pushFeedLine } from './feed.js';
import type { ApprovalRecord, QuestionRecord, SignalContext, SupervisorState, ThreadRecord } from './model.js';
import { refusalReason } from './protocolMethods.js';
import { setJobStatus } from './reduceJobs.js';
import { raiseSignal, resolveSignal, signalKeys } from './signals.js';
import { copyThread, draftThread, NONE, putThread } from './threadRecords.js';

type RequestEvent = Extract<
  SupervisorEvent,
  {
    type:
      | 'approval/requested'
      | 'question/requested'
      | 'serverRequest/unsupported'
      | 'serverRequest/resolved'
      | 'approval/answered'
      | 'question/answered';
  }
>;

export function reduceRequestEvent(state: SupervisorState, effects: Effect[], event: RequestEvent): void {
  const { atMs } = event;
  switch (event.type) {
    case 'approval/requested': {
      const thread = waitingOnUser(state, event.approval.workspace, event.approval.threadId, atMs);
      const change = event.approval.kind === 'fileChange' && thread.lastFileChange?.itemId === event.approval.itemId ? thread.lastFileChange : null;
      const approval: ApprovalRecord = change ? { ...event.approval, files: change.files, diff: change.diff } : event.approval;
      state.pendingApprovals[approval.key] = approval;
      thread.waitingOnApproval = true;
      thread.pendingApprovalKeys = withKeyLast(thread.pendingApprovalKeys, approval.key);
      putThread(state, thread);
      const subject = approvalSubject(approval);
      const context: SignalContext = { approvalKey: approval.key };
      if (approval.command) context.command = stripControl(approval.command);
      if (approval.cwd) context.cwd = approval.cwd;
      const reason = approval.reason ? oneLine(approval.reason, 300) : null;
      if (reason) context.reason = reason;
      raiseSignal(state, effects, {
        key: signalKeys.approval(approval.key),
        kind: 'needs_approval',
        workspace: approval.workspace,
        threadId: approval.threadId,
        turnId: approval.turnId,
        message: `needs approval: ${subject}`,
        context,
        atMs,
      });
      pushFeedLine(state, {
        atMs,
        workspace: approval.workspace,
        threadId: approval.threadId,
        kind: 'approval',
        text: `needs approval: ${subject}${reason ? ` — ${reason}` : ''}`,
        needsInput: true,
        requestKey: approval.key,
      });
      setJobStatus(state, approval.turnId, 'waiting_for_user', atMs);
      return;
    }
    case 'question/requested': {
      const q = event.question;
      const thread = waitingOnUser(state, q.workspace, q.threadId, atMs);
      state.openQuestions[q.key] = q;
      thread.waitingOnUserInput = true;
      thread.openQuestionKeys = withKeyLast(thread.openQuestionKeys, q.key);
      putThread(state, thread);
      raiseSignal(state, effects, {
        key: signalKeys.approval(q.key),
        kind: 'needs_approval',
        workspace: q.workspace,
        threadId: q.threadId,
        turnId: q.turnId,
        message: `question: ${oneLine(q.message, 120)}`,
        context: { approvalKey: q.key, reason: oneLine(q.message, 300) },
        atMs,
      });
      pushFeed(state, { atMs, workspace: q.workspace, threadId: q.threadId, kind: 'question', text: `asks: ${q.message}`, needsInput: true, requestKey: q.key });
      if (q.turnId) setJobStatus(state, q.turnId, 'waiting_for_user', atMs);
      return;
    }
    case 'serverRequest/unsupported': {
      // Never leave a server request unanswered: the turn would wait for it forever.
      if (event.method === 'item/tool/call') {
        effects.push({
          type: 'answerServerRequest',
          workspace: event.workspace,
          requestId: event.requestId,
          result: { contentItems: [{ type: 'inputText', text: 'cm-supervisor provides no dynamic tools; this call failed.' }], success: false },
        });
      } else {
        effects.push({ type: 'rejectServerRequest', workspace: event.workspace, requestId: event.requestId, message: `cm-supervisor cannot answer ${event.method}` });
      }
      pushFeed(state, {
        atMs,
        workspace: event.workspace,
        threadId: event.threadId,
        kind: 'warning',
        text: `answered ${event.method} with a failure: ${refusalReason(event.method)}`,
      });
      return;
    }
    case 'serverRequest/resolved': {
      // Still pending here while its turn runs: another client (Codex's TUI or Desktop, a second
      // supervisor) answered it. A request of a turn that ended was closed with the turn.
      const key = `${event.workspace}#${String(event.requestId)}`;
      const approval = state.pendingApprovals[key];
      const question = approval ? undefined : state.openQuestions[key];
      const request = approval ?? question;
      if (request) {
        const live = request.turnId !== null && state.threads[request.threadId]?.currentTurnId === request.turnId;
        pushFeed(state, {
          atMs,
          workspace: request.workspace,
          threadId: request.threadId,
          kind: approval ? 'approval' : 'question',
          text: `${live ? 'answered elsewhere' : 'closed with its turn'}: ${approval ? approvalSubject(approval) : oneLine(question!.message, 120)}`,
        });
      }
      clearRequest(state, key, atMs);
      return;
    }
    case 'approval/answered': {
      const approval = state.pendingApprovals[event.key];
      if (!approval || !approval.availableDecisions.includes(event.decision)) return;
      effects.push({ type: 'answerServerRequest', workspace: approval.workspace, requestId: approval.requestId, result: approvalResult(approval, event.decision) });
      pushFeed(state, {
        atMs,
        workspace: approval.workspace,
        threadId: approval.threadId,
        kind: 'approval',
        text: `${decisionWord(event.decision)}: ${approvalSubject(approval)}`,
      });
      clearRequest(state, approval.key, atMs);
      return;
    }
    case 'question/answered': {
      const q = state.openQuestions[event.key];
      if (!q) return;
      effects.push({ type: 'answerServerRequest', workspace: q.workspace, requestId: q.requestId, result: questionResult(q, event.answers) });
      pushFeed(state, { atMs, workspace: q.workspace, threadId: q.threadId, kind: 'question', text: `answered: ${q.message}` });
      clearRequest(state, q.key, atMs);
      return;
    }
  }
}

/**
 * A draft of the thread that now waits on the user. Waiting on us is not a stall: a stall signal
 * is closed now, or a later stall would be deduplicated into it.
 */
function waitingOnUser(state: SupervisorState, workspace: string, threadId: string, atMs: number): ThreadRecord {
  const thread = draftThread(state, workspace, threadId, atMs);
  if (thread.stalledSinceMs !== null) resolveSignal(state, signalKeys.stalled(thread.id), atMs);
  thread.lastEventAtMs = atMs;
  thread.stalledSinceMs = null;
  return thread;
}

/** Drops an approval or question (answered, resolved by the server, or lost with its process). */
export function clearRequest(state: SupervisorState, key: string, atMs: number): void {
  // A request is an approval or a question, never both: only the container that holds it is
  // looked into again (each lookup or delete of a fresh key string interns it first).
  const approval = state.pendingApprovals[key];
  const question = approval ? undefined : state.openQuestions[key];
  if (approval) delete state.pendingApprovals[key];
  else if (question) delete state.openQuestions[key];
  else return;
  resolveSignal(state, signalKeys.approval(key), atMs);
  const threadId = (approval ?? question)!.threadId;
  const stored = state.threads[threadId];
  if (!stored) return;
  const thread = copyThread(stored);
  thread.pendingApprovalKeys = without(thread.pendingApprovalKeys, key);
  thread.openQuestionKeys = without(thread.openQuestionKeys, key);
  thread.waitingOnApproval = thread.pendingApprovalKeys.length > 0;
  thread.waitingOnUserInput = thread.openQuestionKeys.length > 0;
  thread.lastEventAtMs = atMs;
  putThread(state, thread);
  const turnId = (approval ?? question)!.turnId;
  if (turnId && !thread.waitingOnApproval && !thread.waitingOnUserInput) setJobStatus(state, turnId, 'running', atMs);
}

/** The keys with `key` last, once. */
function withKeyLast(keys: string[], key: string): string[] {
  // Copied by hand: most threads wait on nothing, and slicing the shared frozen empty list
  // (NONE) takes V8's slow path, ~150 ns against ~5 for this loop.
  const next: string[] = [];
  for (const k of keys) if (k !== key) next.push(k);
  next.push(key);
  return next;
}

/** The keys without `key` (the same array when it is not there: most threads wait on nothing). */
function without(keys: string[], key: string): string[] {
  if (!keys.includes(key)) return keys;
  return keys.length === 1 ? NONE : keys.filter((k) => k !== key);
}

function approvalResult(approval: ApprovalRecord, decision: ApprovalDecision): unknown {
  if (approval.kind !== 'permissions') return { decision };
  // Permissions are granted as a subset of what was asked; declining grants nothing.
  if (decision === 'decline' || decision === 'cancel') return { permissions: {}, scope: 'turn' };
  return { permissions: approval.permissions ?? {}, scope: decision === 'acceptForSession' ? 'session' : 'turn' };
}

function questionResult(q: QuestionRecord, answers: Record<string, string[]>): unknown {
  if (q.kind === 'elicitation') return { action: 'accept', content: { response: (answers.response ?? []).join('\n') }, _meta: null };
  return { answers: Object.fromEntries(q.questions.map((question) => [question.id, { answers: answers[question.id] ?? [] }])) };
}
