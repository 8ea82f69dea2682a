import { oneLine } from '../util/text.js';
import type { Effect, SupervisorEvent } from './events.js';
import { pushFeed } from './feed.js';
import { addServerWarning, addWarning } from './warnings.js';
import type { SupervisorState, WorkspaceRecord } from './model.js';
import { clearRequest } from './reduceRequests.js';
import { setJobStatus } from './reduceJobs.js';
import { pruneResolved, raiseSignal, resolveSignal, signalKeys } from './signals.js';
import { closeOpenItems, copyThread, putThread, refreshWorkspaceThreads } from './threadRecords.js';

type ConnectionEvent = Extract<
  SupervisorEvent,
  {
    type:
      | 'workspace/added'
      | 'supervisor/restored'
      | 'connection/starting'
      | 'connection/ready'
      | 'connection/startFailed'
      | 'connection/disconnected'
      | 'connection/restarting'
      | 'connection/gaveUp'
      | 'connection/stopped'
      | 'connection/warning'
      | 'protocol/error'
      | 'thread/resumeFailed';
  }
>;

export function reduceConnectionEvent(state: SupervisorState, effects: Effect[], event: ConnectionEvent): void {
  const { atMs } = event;
  if (event.type === 'workspace/added') {
    const existing = state.workspaces[event.name];
    state.workspaces[event.name] = {
      name: event.name,
      path: event.path,
      command: event.command,
      status: existing?.status ?? 'stopped',
      codexVersion: existing?.codexVersion ?? null,
      pid: existing?.pid ?? null,
      restartCount: existing?.restartCount ?? 0,
      lastError: existing?.lastError ?? null,
      connectedAtMs: existing?.connectedAtMs ?? null,
      stallAfterMs: event.stallAfterMs,
      resumeThreadIds: existing?.resumeThreadIds ?? [],
    };
    return;
  }
  if (event.type === 'supervisor/restored') {
    pruneResolved(state);
    // Every app-server died with the previous daemon: its turns are lost, its approvals can
    // no longer be answered, and its loaded threads are resumed once the servers are back.
    for (const ws of Object.values(state.workspaces)) {
      const lost = loseLiveWork(state, effects, ws.name, 'went down with the daemon', atMs);
      state.workspaces[ws.name] = { ...ws, status: 'stopped', pid: null, resumeThreadIds: [...new Set([...ws.resumeThreadIds, ...lost])] };
    }
    return;
  }
  const workspace = state.workspaces[event.workspace];
  if (!workspace) return;
  const put = (ws: WorkspaceRecord) => {
    state.workspaces[ws.name] = ws;
    refreshWorkspaceThreads(state, ws.name);
  };

  switch (event.type) {
    case 'connection/starting':
      put({ ...workspace, status: workspace.restartCount > 0 ? 'restarting' : 'starting' });
      return;
    case 'connection/ready': {
      put({ ...workspace, status: 'ready', pid: event.pid, codexVersion: event.codexVersion, connectedAtMs: atMs, lastError: null, resumeThreadIds: [] });
      resolveSignal(state, signalKeys.disconnected(workspace.name), atMs);
      if (workspace.resumeThreadIds.length > 0) {
        effects.push({ type: 'resumeThreads', workspace: workspace.name, threadIds: workspace.resumeThreadIds });
      }
      if (workspace.restartCount > 0) {
        pushFeed(state, { atMs, workspace: workspace.name, threadId: null, kind: 'connection', text: `app-server restarted (pid ${event.pid ?? '?'})` });
      }
      return;
    }
    case 'connection/startFailed':
      put({ ...workspace, status: 'disconnected', pid: null, lastError: { message: event.message, stderrTail: event.stderrTail, atMs } });
      raiseDisconnected(state, effects, workspace.name, event.message, event.stderrTail, atMs);
      return;
    case 'connection/disconnected': {
      const lostThreads = loseLiveWork(state, effects, workspace.name, event.exit, atMs);
      put({
        ...workspace,
        status: 'disconnected',
        pid: null,
        lastError: { message: `app-server ${event.exit}`, stderrTail: event.stderrTail, atMs },
        resumeThreadIds: [...new Set([...workspace.resumeThreadIds, ...lostThreads])],
      });
      raiseDisconnected(state, effects, workspace.name, `app-server ${event.exit}`, event.stderrTail, atMs);
      return;
    }
    case 'connection/restarting':
      put({ ...workspace, status: 'restarting', restartCount: event.attempt });
      pushFeed(state, {
        atMs,
        workspace: workspace.name,
        threadId: null,
        kind: 'connection',
        text: `restarting app-server (attempt ${event.attempt}) in ${Math.round(event.delayMs / 100) / 10}s`,
      });
      return;
    case 'connection/gaveUp':
      put({ ...workspace, status: 'disconnected' });
      pushFeed(state, {
        atMs,
        workspace: workspace.name,
        threadId: null,
        kind: 'connection',
        text: `gave up restarting the app-server after ${event.attempts} attempts`,
      });
      return;
    case 'connection/stopped':
      loseLiveWork(state, effects, workspace.name, 'stopped', atMs);
      put({ ...workspace, status: 'stopped', pid: null });
      resolveSignal(state, signalKeys.disconnected(workspace.name), atMs);
      return;
    case 'connection/warning':
      addServerWarning(state, workspace.name, event.message);
      return;
    case 'protocol/error':
      state.protocolErrors++;
      addWarning(state, `${workspace.name}: protocol error: ${event.reason}`);
      return;
    case 'thread/resumeFailed':
      pushFeed(state, { atMs, workspace: workspace.name, threadId: event.threadId, kind: 'error', text: `could not resume thread: ${event.message}` });
      return;
  }
}

function raiseDisconnected(state: SupervisorState, effects: Effect[], workspace: string, message: string, stderrTail: string[], atMs: number): void {
  raiseSignal(state, effects, {
    key: signalKeys.disconnected(workspace),
    kind: 'disconnected',
    workspace,
    threadId: null,
    turnId: null,
    message: `disconnected: ${message}`,
    context: { exit: message, stderrTail: stderrTail.slice(-10) },
    atMs,
  });
  pushFeed(state, { atMs, workspace, threadId: null, kind: 'connection', text: `disconnected: ${message}` });
}

/**
 * The app-server is gone: its turns will never complete and its approvals can no longer be
 * answered. Running turns are marked interrupted (with a signal) and the loaded threads are
 * returned so they can be resumed once the server is back.
 */
function loseLiveWork(state: SupervisorState, effects: Effect[], workspace: string, exit: string, atMs: number): string[] {
  for (const key of Object.keys(state.pendingApprovals)) {
    if (state.pendingApprovals[key]!.workspace === workspace) clearRequest(state, key, atMs);
  }
  for (const key of Object.keys(state.openQuestions)) {
    if (state.openQuestions[key]!.workspace === workspace) clearRequest(state, key, atMs);
  }
  const loaded: string[] = [];
  for (const thread of Object.values(state.threads)) {
    if (thread.workspace !== workspace) continue;
    if (thread.status !== 'notLoaded') loaded.push(thread.id);
    const turnId = thread.currentTurnId;
    if (turnId !== null && exit !== 'stopped') {
      const message = `turn lost: the app-server ${exit}`;
      raiseSignal(state, effects, {
        key: signalKeys.turn('failed', thread.id),
        kind: 'failed',
        workspace,
        threadId: thread.id,
        turnId,
        message: `interrupted: ${oneLine(thread.digest.currentTask ?? thread.title, 60)} — ${message}`,
        context: { errorMessage: message, codexErrorKind: 'interrupted' },
        atMs,
      });
      pushFeed(state, { atMs, workspace, threadId: thread.id, kind: 'turn_interrupted', text: message });
    }
    if (turnId !== null) setJobStatus(state, turnId, 'interrupted', atMs, { error: `the app-server ${exit}` });
    const draft = copyThread(thread);
    draft.status = 'notLoaded';
    draft.currentTurnId = null;
    draft.waitingOnApproval = false;
    draft.waitingOnUserInput = false;
    draft.stalledSinceMs = null;
    if (turnId !== null) {
      draft.lastTurn = { id: turnId, status: 'interrupted', error: `the app-server ${exit}` };
      closeOpenItems(draft, 'interrupted');
    }
    draft.updatedAtMs = atMs;
    putThread(state, draft);
    if (thread.stalledSinceMs !== null) resolveSignal(state, signalKeys.stalled(thread.id), atMs);
  }
  return loaded;
}
