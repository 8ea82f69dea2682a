import type { ThreadItem, ThreadStatus } from '../protocol/messages.js';
import { failureKindOf } from '../dispatch/failureKind.js';
import { cut, oneLine } from '../util/text.js';
import type { Effect, SupervisorEvent } from './events.js';
import { pushFeed, pushFeedLine } from './feed.js';
import { setJobStatus, settleThreadJobs } from './reduceJobs.js';
import { goalStatusWords } from './threadGoal.js';
import type { ItemSummary, SupervisorState, ThreadDigest, ThreadRecord } from './model.js';
import { raiseSignal, resolveSignal, signalKeys } from './signals.js';
import { itemLine } from './itemText.js';
import { boundDiff, MAX_TURN_DIFF } from './turnDiff.js';
import { closeOpenItems, copyThread, draftThread, NONE, putThread, UNTITLED, withItem } from './threadRecords.js';

type ThreadEvent = Extract<
  SupervisorEvent,
  {
    type:
      | 'thread/seen'
      | 'thread/statusChanged'
      | 'thread/closed'
      | 'thread/renamed'
      | 'turn/started'
      | 'turn/completed'
      | 'item/started'
      | 'item/completed'
      | 'item/progress'
      | 'plan/updated'
      | 'diff/updated'
      | 'tokenUsage/updated'
      | 'turn/error'
      | 'thread/caughtUp'
      | 'turn/interruptedByStop';
  }
>;

const PLAN_STEP_MAX = 500;
/** How far back a new item's id is looked for (see reduceItem). */
const NEW_ITEM_LOOK_BACK = 2;

/**
 * The flags of an `active` status. The schema's catch-all branch (for status types of a newer
 * Codex) also admits `{type: "active", activeFlags: <not an array>}`, which must not throw here.
 */
function activeFlags(status: ThreadStatus): readonly unknown[] {
  const flags: unknown = status.type === 'active' ? (status as { activeFlags?: unknown }).activeFlags : undefined;
  return Array.isArray(flags) ? flags : NONE;
}

/** A draft of the thread with this event's activity marked: any event of a live turn ends a stall. */
function touched(state: SupervisorState, workspace: string, threadId: string, atMs: number): ThreadRecord {
  const thread = draftThread(state, workspace, threadId, atMs);
  if (thread.stalledSinceMs !== null) resolveSignal(state, signalKeys.stalled(thread.id), atMs);
  thread.stalledSinceMs = null;
  markActivity(thread, atMs);
  return thread;
}

/** On a draft: an event of the thread arrived at `atMs`. */
function markActivity(thread: ThreadRecord, atMs: number): void {
  thread.lastEventAtMs = Math.max(thread.lastEventAtMs ?? 0, atMs);
  thread.updatedAtMs = atMs;
}

function setStatus(thread: ThreadRecord, status: ThreadStatus): void {
  const flags = activeFlags(status);
  thread.status = status.type;
  thread.waitingOnApproval = flags.includes('waitingOnApproval');
  thread.waitingOnUserInput = flags.includes('waitingOnUserInput');
}

export function reduceThreadEvent(state: SupervisorState, effects: Effect[], event: ThreadEvent): void {
  const { atMs, workspace } = event;
  switch (event.type) {
    // Most frequent first: each case is a comparison.
    case 'thread/statusChanged': {
      const thread = touched(state, workspace, event.threadId, atMs);
      setStatus(thread, event.status);
      putThread(state, thread);
      return;
    }
    case 'item/started':
    case 'item/completed':
      reduceItem(state, event);
      return;
    case 'item/progress': {
      const stored = state.threads[event.threadId];
      // Hot path (every streamed delta): only the activity times change, unless this ends a stall
      // (or creates the thread), which changes the digest's blockers. One lookup of the fresh id.
      if (stored !== undefined && stored.stalledSinceMs === null) {
        const thread = copyThread(stored);
        markActivity(thread, atMs);
        state.threads[stored.id] = thread;
      } else putThread(state, touched(state, workspace, event.threadId, atMs));
      return;
    }
    case 'tokenUsage/updated': {
      // Sent after each model response: the turn is alive.
      const thread = touched(state, workspace, event.threadId, atMs);
      thread.tokenUsage = { totalTokens: event.totalTokens, lastTokens: event.lastTokens, contextWindow: event.contextWindow };
      putThread(state, thread);
      return;
    }
    case 'turn/started': {
      const thread = touched(state, workspace, event.threadId, atMs);
      // New work on the thread: the previous turn's outcome is no longer news.
      resolveSignal(state, signalKeys.turn('completed', thread.id), atMs);
      resolveSignal(state, signalKeys.turn('failed', thread.id), atMs);
      thread.currentTurnId = event.turnId;
      thread.plan = NONE;
      thread.diff = null;
      thread.lastError = null;
      thread.lastAgentMessage = null;
      if (thread.goal !== null && thread.goal.status === 'active') thread.goal = { ...thread.goal, turns: thread.goal.turns + 1 };
      setActivity(thread, atMs, 'started a turn');
      putThread(state, thread);
      setJobStatus(state, event.turnId, 'running', atMs);
      return;
    }
    case 'turn/completed':
      completeTurn(state, effects, event);
      return;
    case 'thread/seen':
      putThread(state, seen(state, workspace, event.thread, atMs));
      return;
    case 'thread/caughtUp':
      catchUp(state, effects, event);
      return;
    case 'turn/interruptedByStop':
      interruptedByStop(state, effects, event);
      return;
    case 'plan/updated': {
      const thread = touched(state, workspace, event.threadId, atMs);
      // Agent text, cleaned once here: the digest's next step is read from it on every event.
      thread.plan = event.plan.map(({ step, status }) => ({ step: oneLine(step, PLAN_STEP_MAX), status }));
      putThread(state, thread);
      return;
    }
    case 'diff/updated': {
      const thread = touched(state, workspace, event.threadId, atMs);
      thread.diff = { turnId: event.turnId, text: boundDiff(event.diff), atMs };
      putThread(state, thread);
      return;
    }
    case 'turn/error': {
      const thread = touched(state, workspace, event.threadId, atMs);
      thread.lastError = { message: oneLine(event.error.message, 500), codexErrorKind: errorKind(event.error.codexErrorInfo), atMs, willRetry: event.willRetry };
      putThread(state, thread);
      pushFeed(state, {
        atMs,
        workspace,
        threadId: thread.id,
        kind: 'error',
        text: `${event.willRetry ? 'upstream trouble, retrying' : 'error'}: ${event.error.message}`,
      });
      return;
    }
    case 'thread/closed': {
      if (!state.threads[event.threadId]) return;
      const thread = draftThread(state, workspace, event.threadId, atMs);
      if (thread.stalledSinceMs !== null) resolveSignal(state, signalKeys.stalled(thread.id), atMs);
      thread.status = 'notLoaded';
      thread.currentTurnId = null;
      thread.stalledSinceMs = null;
      thread.updatedAtMs = atMs;
      putThread(state, thread);
      return;
    }
    case 'thread/renamed': {
      const thread = draftThread(state, workspace, event.threadId, atMs);
      if (event.name) thread.title = oneLine(event.name, 200);
      thread.updatedAtMs = atMs;
      putThread(state, thread);
      return;
    }
  }
}

/** A draft of the thread as the server describes it now. */
function seen(state: SupervisorState, workspace: string, t: Extract<SupervisorEvent, { type: 'thread/seen' }>['thread'], atMs: number): ThreadRecord {
  const thread = draftThread(state, workspace, t.id, atMs);
  setStatus(thread, t.status ?? { type: thread.status });
  thread.title = oneLine(t.title, 200);
  thread.cwd = t.cwd ?? thread.cwd;
  thread.currentTurnId = t.activeTurnId ?? thread.currentTurnId;
  thread.updatedAtMs = atMs;
  return thread;
}

/**
 * A thread as the server lists it on (re)connecting, or when we start following another
 * client's thread. Its last turn is news when we saw it running, or when it is a turn we never
 * saw that ended after we left (or, on a first connection, after we connected): another
 * client's work, or ours that ended while we were away. Older history is only recorded.
 */
function catchUp(state: SupervisorState, effects: Effect[], event: Extract<SupervisorEvent, { type: 'thread/caughtUp' }>): void {
  const { atMs, workspace, lastTurn } = event;
  const known = state.threads[event.thread.id];
  const thread = seen(state, workspace, event.thread, atMs);
  if (lastTurn === null || thread.lastTurn?.id === lastTurn.id) {
    // Nothing newer than what the thread's own events told us (they may have overtaken this report).
    putThread(state, thread);
    return;
  }
  if (lastTurn.status === 'inProgress') {
    thread.currentTurnId = lastTurn.id;
    putThread(state, thread);
    return;
  }
  const host = state.hosts[state.workspaces[workspace]?.host ?? ''];
  const since = host?.awaySinceMs ?? host?.connectedAtMs ?? null;
  // The server keeps whole seconds.
  const recent = since !== null && lastTurn.completedAtMs !== null && lastTurn.completedAtMs >= since - 1_000;
  if (known?.currentTurnId !== lastTurn.id && !recent) {
    if (thread.currentTurnId === lastTurn.id) thread.currentTurnId = null;
    thread.lastTurn = { id: lastTurn.id, status: lastTurn.status, error: lastTurn.error?.message ?? null };
    putThread(state, thread);
    return;
  }
  if (lastTurn.finalMessage !== null) thread.lastAgentMessage = lastTurn.finalMessage;
  thread.currentTurnId = lastTurn.id;
  putThread(state, thread);
  const away = host?.awaySinceMs !== null && host?.awaySinceMs !== undefined && (lastTurn.completedAtMs ?? 0) >= host.awaySinceMs - 1_000;
  completeTurn(state, effects, { type: 'turn/completed', atMs, workspace, threadId: thread.id, turnId: lastTurn.id, status: lastTurn.status, error: lastTurn.error, whileAway: away });
}

/** `"internalServerError"` or the key of `{responseStreamDisconnected: {...}}`. */
export function errorKind(info: unknown): string | null {
  if (typeof info === 'string') return info;
  if (typeof info === 'object' && info !== null) return Object.keys(info)[0] ?? null;
  return null;
}

/**
 * The turn's end as cm-supervisor's stop recorded it (its private app-server goes down with us):
 * a failed signal and a feed line that say why, both persisted, so the next start shows it.
 */
function interruptedByStop(state: SupervisorState, effects: Effect[], event: Extract<SupervisorEvent, { type: 'turn/interruptedByStop' }>): void {
  const { atMs, turnId } = event;
  const stored = state.threads[event.threadId];
  if (!stored || stored.currentTurnId !== turnId) return;
  const thread = copyThread(stored);
  const why = `interrupted (${event.reason})`;
  closeOpenItems(thread, 'interrupted');
  thread.currentTurnId = null;
  thread.lastTurn = { id: turnId, status: 'interrupted', error: why };
  thread.waitingOnApproval = false;
  thread.waitingOnUserInput = false;
  setActivity(thread, atMs, why);
  putThread(state, thread);
  reportInterrupted(state, effects, thread, turnId, why, `${why}: ${cut(thread.digest.currentTask ?? thread.title, 60)}`, atMs);
  // Our own stop: the turn did not fail, so a retry (after the restart) may run it.
  setJobStatus(state, turnId, 'interrupted', atMs, { error: why, failure: 'transient' });
}

/** A turn that ended without finishing, not by the model's doing: a failed signal and a feed line that say why. */
export function reportInterrupted(state: SupervisorState, effects: Effect[], thread: ThreadRecord, turnId: string, why: string, message: string, atMs: number): void {
  raiseSignal(state, effects, {
    key: signalKeys.turn('failed', thread.id),
    kind: 'failed',
    workspace: thread.workspace,
    threadId: thread.id,
    turnId,
    message,
    context: { errorMessage: why, codexErrorKind: 'interrupted' },
    atMs,
  });
  pushFeed(state, { atMs, workspace: thread.workspace, threadId: thread.id, kind: 'turn_interrupted', text: why });
}

function completeTurn(state: SupervisorState, effects: Effect[], event: Extract<SupervisorEvent, { type: 'turn/completed' }>): void {
  const { atMs, workspace } = event;
  const stored = state.threads[event.threadId];
  // Already ended here (stopping interrupted it): the server's own report adds nothing.
  if (stored && stored.currentTurnId !== event.turnId && stored.lastTurn?.id === event.turnId) return;
  const thread = touched(state, workspace, event.threadId, atMs);
  const errorMessage = event.error?.message ?? null;
  const lastError =
    event.status === 'failed'
      ? {
          message: oneLine(errorMessage ?? thread.lastError?.message ?? 'turn failed', 500),
          codexErrorKind: errorKind(event.error?.codexErrorInfo) ?? thread.lastError?.codexErrorKind ?? null,
          atMs,
          willRetry: false,
        }
      : thread.lastError;
  closeOpenItems(thread, event.status);
  if (thread.currentTurnId === event.turnId) thread.currentTurnId = null;
  thread.lastTurn = { id: event.turnId, status: event.status, error: lastError && event.status === 'failed' ? lastError.message : null };
  thread.lastError = lastError;
  thread.waitingOnApproval = false;
  thread.waitingOnUserInput = false;
  const finalMessage = thread.lastAgentMessage;
  // Cleaned once, cut to each width below (agent replies often span lines: the slow path).
  const finalLine = finalMessage === null ? null : oneLine(finalMessage, 1000);
  setActivity(thread, atMs, turnOutcomeText(event.status, finalLine, lastError?.message ?? null));
  // Goal mode (reduceGoals.ts): Codex reports the goal before the turn ends and goes on by itself
  // while it is active, so this turn's "completed" waits for the goal's end.
  const goal = thread.goal;
  const held = event.status === 'completed' && goal !== null && goal.status === 'active';
  const goalEnded = !held && goal !== null && goal.heldCompletion;
  if (goal !== null) thread.goal = goal.status === 'cleared' ? null : { ...goal, heldCompletion: held };
  putThread(state, thread);
  // Task and title were cleaned when stored.
  const title = cut(thread.digest.currentTask ?? thread.title, 60);
  const away = event.whileAway ? ' while you were away' : '';
  if (held) {
    pushFeedLine(state, { atMs, workspace, threadId: thread.id, kind: 'turn_completed', text: `goal turn ${goal.turns} done${away}: ${finalLine ?? title}` });
    return;
  }
  if (goalEnded) settleThreadJobs(state, thread.id, event.status === 'completed' ? 'completed' : event.status === 'failed' ? 'failed' : 'interrupted', atMs, event.status === 'completed' ? { finalMessage } : { error: lastError?.message ?? `turn ${event.status}` });
  const goalText = goalEnded ? ` — goal ${goalStatusWords(goal.status)}` : '';
  if (event.status === 'completed') {
    raiseSignal(state, effects, {
      key: signalKeys.turn('completed', thread.id),
      kind: 'completed',
      workspace,
      threadId: thread.id,
      turnId: event.turnId,
      message: `completed${away}: ${title}${goalText}${finalLine ? ` — ${cut(finalLine, 120)}` : ''}`,
      context: finalLine ? { finalMessage: finalLine } : {},
      atMs,
    });
    pushFeedLine(state, { atMs, workspace, threadId: thread.id, kind: 'turn_completed', text: `completed${away}${goalText}: ${finalLine ?? title}` });
    setJobStatus(state, event.turnId, 'completed', atMs, { finalMessage });
  } else if (event.status === 'failed') {
    const message = lastError?.message ?? 'turn failed';
    raiseSignal(state, effects, {
      key: signalKeys.turn('failed', thread.id),
      kind: 'failed',
      workspace,
      threadId: thread.id,
      turnId: event.turnId,
      message: `failed${away}: ${title} — ${oneLine(message, 120)}`,
      context: { errorMessage: message, ...(lastError?.codexErrorKind ? { codexErrorKind: lastError.codexErrorKind } : {}) },
      atMs,
    });
    pushFeed(state, { atMs, workspace, threadId: thread.id, kind: 'turn_failed', text: `failed${away}: ${message}` });
    setJobStatus(state, event.turnId, 'failed', atMs, { error: message, failure: failureKindOf(event.error?.codexErrorInfo ?? lastError?.codexErrorKind, lastError?.message ?? null) });
  } else if (event.status === 'interrupted') {
    pushFeedLine(state, { atMs, workspace, threadId: thread.id, kind: 'turn_interrupted', text: `interrupted${away}: ${title}` });
    setJobStatus(state, event.turnId, 'interrupted', atMs, { error: 'turn interrupted' });
  }
}

/** `finalLine`: the reply as `oneLine` cleaned it. */
function turnOutcomeText(status: string, finalLine: string | null, error: string | null): string {
  if (status === 'completed') return finalLine ? `replied: ${cut(finalLine, 100)}` : 'turn completed';
  if (status === 'failed') return `failed: ${oneLine(error ?? 'unknown error', 100)}`;
  return `turn ${status}`;
}

function reduceItem(state: SupervisorState, event: Extract<SupervisorEvent, { type: 'item/started' | 'item/completed' }>): void {
  const { atMs, workspace, item } = event;
  const done = event.type === 'item/completed';
  const thread = touched(state, workspace, event.threadId, atMs);
  // The item's text cleaned once; the summary, digest and feed cut it to their widths.
  // A started agent message has no text yet: it is summarized when done.
  const line = done || item.type !== 'agentMessage' ? itemLine(item) : null;
  if (line !== null) {
    // Codex announces each item once with item/started, so a started item (or an agent message,
    // summarized only when done) is new: only a re-sent one, among the newest, is looked for.
    const isNew = !done || item.type === 'agentMessage';
    thread.recentItems = withItem(thread.recentItems, summarize(item, line, atMs, done), isNew ? NEW_ITEM_LOOK_BACK : undefined);
  }

  switch (item.type) {
    case 'userMessage':
      if (!done && line) {
        // A thread started empty is named after its first prompt, as Codex's preview would be.
        if (thread.title === UNTITLED) thread.title = cut(line, 200);
        thread.digest = withDigestText(thread.digest, cut(line, 200), thread.digest.lastActivity);
        pushFeedLine(state, { atMs, workspace, threadId: thread.id, kind: 'turn_started', text: `new task: ${line}` });
      }
      break;
    case 'agentMessage':
      if (done && item.text) {
        thread.lastAgentMessage = item.text.slice(0, 4000);
        setActivity(thread, atMs, `replied: ${cut(line!, 100)}`);
      }
      break;
    case 'commandExecution': {
      const command = `\`${cut(line!, 80)}\``;
      const text = done ? commandOutcome(command, item) : `running ${command}`;
      setActivity(thread, atMs, text);
      if (done) pushFeed(state, { atMs, workspace, threadId: thread.id, kind: 'command', text });
      break;
    }
    case 'fileChange': {
      const files = (item.changes ?? []).map((c) => c.path);
      const diff = (item.changes ?? []).map((c) => c.diff ?? '').join('\n');
      if (!done) thread.lastFileChange = { itemId: item.id, files, diff: diff.slice(0, MAX_TURN_DIFF) };
      else {
        const text =
          item.status === 'completed'
            ? `edited ${files.length} file${files.length === 1 ? '' : 's'}: ${files.join(', ')}`
            : `file change ${item.status ?? 'ended'}: ${files.join(', ')}`;
        setActivity(thread, atMs, oneLine(text, 120));
        pushFeed(state, { atMs, workspace, threadId: thread.id, kind: 'file_change', text });
      }
      break;
    }
    case 'mcpToolCall':
    case 'dynamicToolCall':
    case 'webSearch':
      if (done) {
        const text = `used ${item.type === 'webSearch' ? 'web search' : `tool ${item.server ? `${item.server}/` : ''}${item.tool ?? '?'}`}`;
        setActivity(thread, atMs, text);
      }
      break;
  }
  putThread(state, thread);
}

/** A digest with new task and activity texts (written out: spreads of records are slow in V8). */
function withDigestText(d: ThreadDigest, currentTask: string | null, lastActivity: ThreadDigest['lastActivity']): ThreadDigest {
  return { currentTask, lastActivity, nextStep: d.nextStep, blockers: d.blockers };
}

function setActivity(thread: ThreadRecord, atMs: number, text: string): void {
  thread.digest = withDigestText(thread.digest, thread.digest.currentTask, { atMs, text });
}

function commandOutcome(command: string, item: ThreadItem): string {
  if (item.status === 'declined') return `declined ${command}`;
  if (typeof item.exitCode === 'number') return `ran ${command} (exit ${item.exitCode})`;
  return `ran ${command} (${item.status ?? 'ended'})`;
}

function summarize(item: ThreadItem, line: string, atMs: number, done: boolean): ItemSummary {
  const status = item.status ?? (done ? 'completed' : 'inProgress');
  const exit = item.type === 'commandExecution' && typeof item.exitCode === 'number' ? ` (exit ${item.exitCode})` : '';
  return { id: item.id, type: item.type, atMs, text: exit === '' ? line : `${line}${exit}`, status };
}
