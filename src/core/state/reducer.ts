import type { Effect, SupervisorEvent } from './events.js';
import { countActivity } from './activity.js';
import { pushFeed } from './feed.js';
import { SUPERVISOR_WORKSPACE, type SupervisorState } from './model.js';
import { reduceChat } from './reduceChat.js';
import { reduceConnectionEvent } from './reduceConnection.js';
import { reduceGoalEvent } from './reduceGoals.js';
import { reduceJobEvent } from './reduceJobs.js';
import { planRunThreadChanged, reducePlanRunEvent } from './reducePlanRuns.js';
import { reduceRequestEvent } from './reduceRequests.js';
import { reduceThreadAction } from './reduceThreadActions.js';
import { reduceThreadEvent } from './reduceThreads.js';
import { raiseSignal, resolveSignal, signalKeys, withTimes } from './signals.js';
import { copyThread, putThread } from './threadRecords.js';
import { addServerWarning } from './warnings.js';
import { oneLine } from '../util/text.js';

/** What most events produce: shared, and frozen so that no caller can add to it. */
/** What an agent does now (catching up on what it did while we were away is not activity). */
const LIVE_EVENTS = new Set<SupervisorEvent['type']>([
  'item/started',
  'item/completed',
  'item/progress',
  'turn/started',
  'turn/completed',
  'turn/error',
  'plan/updated',
  'diff/updated',
]);

const NO_EFFECTS = Object.freeze([]) as unknown as Effect[];

/**
 * The only way state changes: no IO, no clock, no randomness; time and ids come in the event.
 * It takes ownership of `state` (see model.ts) and returns it with the effects to run.
 * Events that do not apply to the current state are ignored, never thrown on.
 */
export function reduce(state: SupervisorState, event: SupervisorEvent): [SupervisorState, Effect[]] {
  const effects: Effect[] = [];
  state.seq++;
  switch (event.type) {
    // Most frequent first: each case is a comparison, and this runs for every event.
    case 'thread/statusChanged':
    case 'item/started':
    case 'item/completed':
    case 'item/progress':
    case 'tokenUsage/updated':
    case 'turn/started':
    case 'turn/completed':
    case 'thread/seen':
    case 'plan/updated':
    case 'diff/updated':
    case 'turn/error':
    case 'thread/closed':
    case 'thread/renamed':
    case 'thread/caughtUp':
    case 'turn/interruptedByStop':
      reduceThreadEvent(state, effects, event);
      if (LIVE_EVENTS.has(event.type)) countActivity(state, event.workspace, event.atMs);
      // Goal mode: a goal action may end with a goal turn whose job is not its own.
      if (event.type === 'turn/completed') planRunThreadChanged(state, event.threadId, event.atMs);
      break;
    case 'host/health':
    case 'host/rateLimits':
    case 'host/added':
    case 'host/removed':
    case 'workspace/added':
    case 'workspace/removed':
    case 'supervisor/restored':
    case 'connection/starting':
    case 'connection/ready':
    case 'connection/startFailed':
    case 'connection/disconnected':
    case 'connection/restarting':
    case 'connection/gaveUp':
    case 'connection/stopped':
    case 'connection/warning':
    case 'protocol/error':
    case 'thread/resumeFailed':
      reduceConnectionEvent(state, effects, event);
      break;
    case 'approval/requested':
    case 'question/requested':
    case 'serverRequest/unsupported':
    case 'serverRequest/resolved':
    case 'approval/answered':
    case 'question/answered':
      reduceRequestEvent(state, effects, event);
      break;
    case 'thread/goalUpdated':
    case 'thread/goalCleared':
      reduceGoalEvent(state, effects, event);
      planRunThreadChanged(state, event.threadId, event.atMs);
      break;
    case 'thread/replied':
    case 'thread/archived':
      reduceThreadAction(state, effects, event);
      break;
    case 'job/queued':
    case 'job/dispatched':
    case 'job/failed':
      reduceJobEvent(state, event);
      break;
    case 'planRun/started':
    case 'planRun/attemptStarted':
    case 'planRun/paused':
    case 'planRun/stopping':
    case 'planRun/attemptLost':
    case 'planRun/worktreeReady':
    case 'planRun/diffstat':
    case 'planRun/goalSet':
      reducePlanRunEvent(state, event);
      break;
    case 'server/warning':
      // Per-turn noise such as "unknown model" stays out of the feed; it is kept for debugging.
      addServerWarning(state, event.workspace, event.message);
      break;
    case 'notification/unknown':
      state.unknownMethods[event.method] = (state.unknownMethods[event.method] ?? 0) + 1;
      break;
    case 'signal/acknowledged': {
      const signal = state.signals[event.signalId];
      if (signal && signal.acknowledgedAtMs === null) state.signals[signal.id] = withTimes(signal, signal.resolvedAtMs, event.atMs);
      break;
    }
    case 'health/tick':
      detectStalls(state, effects, event.atMs);
      break;
    case 'chat/message':
      reduceChat(state, event);
      break;
    case 'settings/notifications':
      state.notifications = event.settings;
      break;
    case 'supervisor/problem':
      // The supervisor's own failures are signals too, under a pseudo-workspace.
      raiseSignal(state, effects, {
        key: `supervisor:${event.key}`,
        kind: 'failed',
        workspace: SUPERVISOR_WORKSPACE,
        threadId: null,
        turnId: null,
        message: event.message,
        context: { errorMessage: event.message },
        atMs: event.atMs,
      });
      pushFeed(state, { atMs: event.atMs, workspace: SUPERVISOR_WORKSPACE, threadId: null, kind: 'error', text: event.message });
      break;
    case 'supervisor/problemCleared':
      resolveSignal(state, `supervisor:${event.key}`, event.atMs);
      break;
  }
  return [state, effects.length === 0 ? NO_EFFECTS : effects];
}

/**
 * A turn is stalled when it is running, not waiting on the user, its app-server is up, and no
 * event (streamed command output included) arrived for the workspace's `stallAfterMs`.
 */
function detectStalls(state: SupervisorState, effects: Effect[], nowMs: number): void {
  for (const thread of Object.values(state.threads)) {
    if (thread.currentTurnId === null || thread.stalledSinceMs !== null) continue;
    if (thread.waitingOnApproval || thread.waitingOnUserInput) continue;
    const workspace = state.workspaces[thread.workspace];
    if (!workspace || workspace.status !== 'ready' || thread.lastEventAtMs === null) continue;
    const silentFor = nowMs - thread.lastEventAtMs;
    if (silentFor < workspace.stallAfterMs) continue;
    const draft = copyThread(thread);
    draft.stalledSinceMs = thread.lastEventAtMs;
    const stored = putThread(state, draft);
    const seconds = Math.round(silentFor / 1000);
    raiseSignal(state, effects, {
      key: signalKeys.stalled(thread.id),
      kind: 'stalled',
      workspace: thread.workspace,
      threadId: thread.id,
      turnId: thread.currentTurnId,
      message: `stalled: no events for ${seconds}s — ${oneLine(stored.digest.currentTask ?? stored.title, 60)}`,
      context: { stalledForMs: silentFor },
      atMs: nowMs,
    });
    pushFeed(state, { atMs: nowMs, workspace: thread.workspace, threadId: thread.id, kind: 'stalled', text: `stalled: no events for ${seconds}s` });
  }
}
