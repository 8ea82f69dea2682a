import type { SupervisorEvent } from './events.js';
import { pushFeed } from './feed.js';
import { failureKindOf, type FailureKind } from '../dispatch/failureKind.js';
import { indexOf } from './indexes.js';
import { planRunJobChanged } from './reducePlanRuns.js';
import type { JobRecord, JobStatus, SupervisorState } from './model.js';
import { oneLine } from '../util/text.js';

const FINAL: readonly JobStatus[] = ['completed', 'failed', 'interrupted'];

/** Moves the job of a turn (if the turn was dispatched by us) to a new status. */
export function setJobStatus(
  state: SupervisorState,
  turnId: string,
  status: JobStatus,
  atMs: number,
  extra: { finalMessage?: string | null; error?: string | null; failure?: FailureKind } = {},
): void {
  const key = indexOf(state).jobByTurn.get(turnId);
  const job = key === undefined ? undefined : state.jobs[key];
  // The key's job may be a later attempt by now (a plan's retry, --force): an old turn's news is not its.
  if (!job || FINAL.includes(job.status) || (job.turnId !== null && job.turnId !== turnId)) return;
  state.jobs[job.key] = {
    ...job,
    status,
    completedAtMs: FINAL.includes(status) ? atMs : job.completedAtMs,
    finalMessage: extra.finalMessage ?? job.finalMessage,
    error: extra.error ?? job.error,
  };
  planRunJobChanged(state, state.jobs[job.key]!, atMs, extra.failure ?? null);
}

/**
 * Ends every open job of a thread (goal mode: a job waits for its thread's goal, whose last
 * turn is not the job's own turn).
 */
export function settleThreadJobs(state: SupervisorState, threadId: string, status: JobStatus, atMs: number, extra: { finalMessage?: string | null; error?: string | null } = {}): void {
  for (const job of Object.values(state.jobs)) {
    if (job.threadId !== threadId || FINAL.includes(job.status) || job.turnId === null) continue;
    setJobStatus(state, job.turnId, status, atMs, extra);
  }
}

type JobEvent = Extract<SupervisorEvent, { type: 'job/queued' | 'job/dispatched' | 'job/failed' }>;

export function reduceJobEvent(state: SupervisorState, event: JobEvent): void {
  const { atMs } = event;
  switch (event.type) {
    case 'job/queued': {
      const job: JobRecord = {
        key: event.key,
        planId: event.planId,
        actionId: event.actionId,
        workspace: event.workspace,
        prompt: event.prompt,
        threadId: null,
        turnId: null,
        status: 'queued',
        createdAtMs: atMs,
        dispatchedAtMs: null,
        completedAtMs: null,
        error: null,
        finalMessage: null,
      };
      state.jobs[event.key] = job;
      pushFeed(state, { atMs, workspace: event.workspace, threadId: null, kind: 'dispatch', text: `queued ${event.actionId}: ${oneLine(event.prompt, 100)}` });
      return;
    }
    case 'job/dispatched': {
      const job = state.jobs[event.key];
      if (!job) return;
      indexOf(state).jobByTurn.set(event.turnId, job.key);
      // turn/started or even turn/completed may have been reduced before the turn/start reply.
      const thread = state.threads[event.threadId];
      const finished = thread?.lastTurn?.id === event.turnId ? thread.lastTurn : null;
      const status: JobStatus = finished
        ? finished.status === 'completed' || finished.status === 'failed' || finished.status === 'interrupted'
          ? finished.status
          : 'running'
        : thread?.currentTurnId === event.turnId
          ? thread.waitingOnApproval || thread.waitingOnUserInput
            ? 'waiting_for_user'
            : 'running'
          : 'dispatched';
      state.jobs[job.key] = {
        ...job,
        threadId: event.threadId,
        turnId: event.turnId,
        status,
        dispatchedAtMs: atMs,
        completedAtMs: finished ? atMs : null,
        finalMessage: finished?.status === 'completed' ? (thread?.lastAgentMessage ?? null) : null,
        error: finished?.error ?? null,
      };
      // A turn already over: classified from what the thread recorded of its error.
      planRunJobChanged(state, state.jobs[job.key]!, atMs, status === 'failed' ? failureKindOf(thread?.lastError?.codexErrorKind, thread?.lastError?.message ?? null) : null);
      return;
    }
    case 'job/failed': {
      const job = state.jobs[event.key];
      if (!job) return;
      state.jobs[job.key] = { ...job, status: 'failed', error: event.error, completedAtMs: atMs };
      // Its thread or turn could not be started: the task never ran, so nothing says a retry would help.
      planRunJobChanged(state, state.jobs[job.key]!, atMs, 'permanent');
      pushFeed(state, { atMs, workspace: job.workspace, threadId: job.threadId, kind: 'error', text: `dispatch of ${job.actionId} failed: ${event.error}` });
      return;
    }
  }
}
