import type { DispatchResult, SupervisorApi } from '../api/supervisorApi.js';
import type { ApprovalDecision } from '../state/events.js';
import type { ApprovalRecord, JobRecord, QuestionRecord, SupervisorState } from '../state/model.js';

export type OnApproval = 'ask' | 'accept' | 'decline' | 'cancel';
/** `waiting`, `running`, `paused`, `blocked`: actions of a v2 plan run (planRuns.ts). */
export type FinalStatus = 'completed' | 'failed' | 'interrupted' | 'dispatched' | 'skipped' | 'timeout' | 'planned' | 'waiting' | 'running' | 'paused' | 'blocked';

export interface FinalActionResult {
  id: string;
  workspace: string;
  status: FinalStatus;
  threadId: string | null;
  turnId: string | null;
  error: string | null;
  finalMessage: string | null;
  elapsedMs: number;
  /** What a live line adds: `waiting on build, lint`, `paused (quota, resumes 14:05)`, `attempt 2`. */
  detail?: string;
}

export interface AwaitOptions {
  /** Give up (and interrupt the turns) after this long; null waits for ever. */
  timeoutMs: number | null;
  /** Stop waiting now: the unfinished turns are interrupted (e.g. Ctrl-C). */
  abort?: AbortSignal;
  onApproval: OnApproval;
  /**
   * Asks a person (on a TTY) when `onApproval` is `ask`. `gone` aborts when the approval is no
   * longer pending (answered in another client, or its turn ended); then resolve with null.
   * Without it, `ask` leaves the approval to a person elsewhere (the TUI attached to the daemon).
   */
  ask?: (approval: ApprovalRecord, gone: AbortSignal) => Promise<ApprovalDecision | null>;
  /** Told about every approval `ask` leaves to a person elsewhere. */
  onLeft?: (approval: ApprovalRecord) => void;
  /** Answers questions; without it they get empty answers. */
  answer?: (question: QuestionRecord) => Promise<Record<string, string[]>>;
  /** Told about every approval answered by policy rather than by a person. */
  onAutoAnswer?: (approval: ApprovalRecord, decision: ApprovalDecision) => void;
  /** Called whenever an action's status may have changed. */
  onProgress?: (results: FinalActionResult[]) => void;
  now?: () => number;
}

const FINAL_JOB = new Set(['completed', 'failed', 'interrupted']);

/**
 * Waits until every dispatched turn of a plan finished, answering the approvals of those turns
 * by policy, and returns one result per action. On timeout the unfinished turns are interrupted.
 */
export async function awaitCompletion(api: SupervisorApi, dispatched: DispatchResult, options: AwaitOptions): Promise<FinalActionResult[]> {
  const now = options.now ?? Date.now;
  const started = now();
  const turnIds = new Set(dispatched.results.flatMap((r) => (r.turnId && r.status === 'dispatched' ? [r.turnId] : [])));
  let timedOut = false;
  /** Jobs still running when we gave up: they report `timeout` even after their interrupt lands. */
  const cutOff = new Set<string>();

  const results = (state: SupervisorState): FinalActionResult[] =>
    dispatched.results.map((r) => {
      const job: JobRecord | undefined = state.jobs[r.jobKey];
      // Elapsed: from the turn's dispatch to its end (or to now while it runs).
      const from = job?.dispatchedAtMs ?? started;
      const base = { id: r.id, workspace: r.workspace, threadId: r.threadId, turnId: r.turnId, elapsedMs: (job?.completedAtMs ?? now()) - from };
      if (r.status !== 'dispatched') return { ...base, status: r.status, error: r.error, finalMessage: null };
      const status: FinalStatus = cutOff.has(r.jobKey) ? 'timeout' : job && FINAL_JOB.has(job.status) ? (job.status as FinalStatus) : timedOut ? 'timeout' : 'dispatched';
      const stopped = options.abort?.aborted ? 'stopped by a signal; the turn was interrupted' : 'timed out; the turn was interrupted';
      return { ...base, status: status === 'timeout' && options.abort?.aborted ? 'interrupted' : status, error: status === 'timeout' ? stopped : (job?.error ?? null), finalMessage: job?.finalMessage ?? null };
    });
  const done = (state: SupervisorState) => results(state).every((r) => r.status !== 'dispatched');

  const responder = approvalResponder(api, options, (turnId) => turnIds.has(turnId));
  const respond = (state: SupervisorState) => responder.respond(state);

  let state = await api.snapshot();
  if (done(state)) return results(state);
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    let progress: NodeJS.Timeout | null = null;
    // Checks run concurrently (one per change): once settled, the late ones must neither
    // settle again nor fail loudly when the caller has closed the connection meanwhile.
    let settled = false;
    const stopWatching = () => {
      unsubscribe();
      responder.close();
      if (timer) clearTimeout(timer);
      if (progress) clearInterval(progress);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      stopWatching();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const finish = async () => {
      stopWatching();
      const final = results(await api.snapshot());
      if (settled) return;
      settled = true;
      options.onProgress?.(final);
      resolve(final);
    };
    const check = async () => {
      if (settled) return;
      state = await api.snapshot();
      if (settled) return;
      respond(state);
      options.onProgress?.(results(state));
      if (done(state)) await finish();
    };
    const unsubscribe = api.subscribe((change) => {
      if (change.eventType === 'item/progress' || change.eventType === 'tokenUsage/updated') return;
      check().catch(fail);
    });
    if (options.onProgress) progress = setInterval(() => options.onProgress?.(results(state)), 250);
    const giveUp = async () => {
      const current = await api.snapshot();
      for (const r of dispatched.results) {
        const job = current.jobs[r.jobKey];
        if (r.status === 'dispatched' && !(job && FINAL_JOB.has(job.status))) cutOff.add(r.jobKey);
      }
      timedOut = true;
      await Promise.all(
        results(current)
          .filter((r) => r.status === 'timeout' && r.threadId && r.turnId)
          .map((r) => api.interruptTurn(r.threadId!, r.turnId!).catch(() => {})),
      );
      await finish();
    };
    if (options.timeoutMs !== null) timer = setTimeout(() => giveUp().catch(fail), options.timeoutMs);
    options.abort?.addEventListener('abort', () => giveUp().catch(fail), { once: true });
    check().catch(fail);
  });
}

/**
 * Answers the approvals and questions of the turns `owns` names, by policy or by asking (see
 * AwaitOptions), each once. `close` withdraws the questions still on screen.
 */
export function approvalResponder(api: SupervisorApi, options: Pick<AwaitOptions, 'onApproval' | 'ask' | 'onLeft' | 'answer' | 'onAutoAnswer'>, owns: (turnId: string) => boolean) {
  const handled = new Set<string>();
  const asking = new Map<string, AbortController>();
  const respond = (state: SupervisorState) => {
    for (const approval of Object.values(state.pendingApprovals)) {
      if (!owns(approval.turnId) || handled.has(approval.key)) continue;
      handled.add(approval.key);
      let decide: Promise<ApprovalDecision | null>;
      if (options.onApproval === 'ask' && options.ask) {
        const gone = new AbortController();
        asking.set(approval.key, gone);
        decide = options.ask(approval, gone.signal);
      } else if (options.onApproval === 'ask') {
        options.onLeft?.(approval);
        continue;
      } else {
        options.onAutoAnswer?.(approval, options.onApproval);
        decide = Promise.resolve(options.onApproval);
      }
      void decide.then((decision) => decision && api.answerApproval(approval.key, decision)).catch(() => {});
    }
    // A question on screen for an approval someone else answered is withdrawn.
    for (const [key, gone] of asking) {
      if (state.pendingApprovals[key]) continue;
      asking.delete(key);
      gone.abort();
    }
    for (const question of Object.values(state.openQuestions)) {
      if (!question.turnId || !owns(question.turnId) || handled.has(question.key)) continue;
      handled.add(question.key);
      const answers = options.answer ? options.answer(question) : Promise.resolve({});
      void answers.then((a) => api.answerQuestion(question.key, a)).catch(() => {});
    }
  };
  return {
    respond,
    close: () => {
      for (const gone of asking.values()) gone.abort();
    },
  };
}
