import { oneLine } from '../util/text.js';
import type { Effect, SupervisorEvent } from './events.js';
import { pushFeed } from './feed.js';
import { addServerWarning, addWarning } from './warnings.js';
import type { HostRecord, SupervisorState, WorkspaceRecord } from './model.js';
import { approvalSubject } from './digest.js';
import { transportWords } from './hostText.js';
import { clearRequest } from './reduceRequests.js';
import { reportInterrupted } from './reduceThreads.js';
import { setJobStatus } from './reduceJobs.js';
import { pruneResolved, raiseSignal, resolveSignal, resolveSignalsWhere, signalKeys } from './signals.js';
import { closeOpenItems, copyThread, putThread, refreshWorkspaceThreads } from './threadRecords.js';

type ConnectionEvent = Extract<
  SupervisorEvent,
  {
    type:
      | 'host/added'
      | 'host/removed'
      | 'workspace/added'
      | 'workspace/removed'
      | 'supervisor/restored'
      | 'connection/starting'
      | 'connection/ready'
      | 'connection/startFailed'
      | 'connection/disconnected'
      | 'connection/restarting'
      | 'connection/gaveUp'
      | 'connection/stopped'
      | 'connection/warning'
      | 'host/health'
      | 'host/rateLimits'
      | 'protocol/error'
      | 'thread/resumeFailed';
  }
>;

/**
 * Hosts own the connections; each event about a connection applies to the host and to every
 * workspace on it (their status, their threads' blockers, their `disconnected` signals).
 */
export function reduceConnectionEvent(state: SupervisorState, effects: Effect[], event: ConnectionEvent): void {
  const { atMs } = event;
  switch (event.type) {
    case 'host/added': {
      const existing = state.hosts[event.name];
      state.hosts[event.name] = {
        name: event.name,
        kind: event.kind,
        target: event.target,
        status: existing?.status ?? 'stopped',
        transport: existing?.transport ?? null,
        codexVersion: existing?.codexVersion ?? null,
        pid: existing?.pid ?? null,
        rssBytes: null,
        pingMs: null,
        restartCount: existing?.restartCount ?? 0,
        lastError: existing?.lastError ?? null,
        connectedAtMs: existing?.connectedAtMs ?? null,
        awaySinceMs: existing?.awaySinceMs ?? null,
        rateLimits: existing?.rateLimits ?? null,
      };
      return;
    }
    case 'workspace/added': {
      const existing = state.workspaces[event.name];
      state.workspaces[event.name] = {
        name: event.name,
        host: event.host,
        path: event.path,
        status: state.hosts[event.host]?.status ?? existing?.status ?? 'stopped',
        stallAfterMs: event.stallAfterMs,
        resumeThreadIds: existing?.resumeThreadIds ?? [],
        activity: existing?.activity ?? [],
      };
      return;
    }
    case 'workspace/removed':
      removeWorkspace(state, effects, event.name, atMs);
      return;
    case 'host/removed':
      if (workspacesOf(state, event.name).length === 0) delete state.hosts[event.name];
      return;
    case 'supervisor/restored':
      pruneResolved(state);
      for (const host of Object.values(state.hosts)) {
        // Codex's daemon outlived us: its turns ran on and are caught up with on connecting.
        // A private app-server died with the previous process, and its turns with it.
        const survived = host.transport === 'attached';
        state.hosts[host.name] = { ...host, status: 'stopped', pid: null, rssBytes: null, pingMs: null, awaySinceMs: host.awaySinceMs ?? atMs };
        for (const ws of workspacesOf(state, host.name)) {
          const loaded = survived ? liveThreads(state, ws.name) : loseLiveWork(state, effects, ws.name, 'went down with the previous cm-supervisor', atMs);
          state.workspaces[ws.name] = { ...ws, status: 'stopped', resumeThreadIds: [...new Set([...ws.resumeThreadIds, ...loaded])] };
        }
      }
      return;
    case 'thread/resumeFailed':
      if (!state.workspaces[event.workspace]) return;
      pushFeed(state, { atMs, workspace: event.workspace, threadId: event.threadId, kind: 'error', text: `could not resume thread: ${event.message}` });
      return;
  }
  const host = state.hosts[event.host];
  if (!host) return;
  const put = (next: HostRecord) => {
    state.hosts[next.name] = next;
    for (const ws of workspacesOf(state, next.name)) {
      if (ws.status === next.status) continue;
      state.workspaces[ws.name] = { ...ws, status: next.status };
      refreshWorkspaceThreads(state, ws.name);
    }
  };

  switch (event.type) {
    case 'connection/starting':
      put({ ...host, status: host.restartCount > 0 ? 'restarting' : 'starting' });
      return;
    case 'connection/ready': {
      put({ ...host, status: 'ready', transport: event.transport, pid: event.pid, codexVersion: event.codexVersion, connectedAtMs: atMs, lastError: null });
      for (const ws of workspacesOf(state, host.name)) {
        resolveSignal(state, signalKeys.disconnected(ws.name), atMs);
        if (ws.resumeThreadIds.length > 0) {
          effects.push({ type: 'resumeThreads', workspace: ws.name, threadIds: ws.resumeThreadIds });
          state.workspaces[ws.name] = { ...state.workspaces[ws.name]!, resumeThreadIds: [] };
        }
        if (host.restartCount > 0) {
          pushFeed(state, { atMs, workspace: ws.name, threadId: null, kind: 'connection', text: `${hostWords(host)} reconnected (${transportWords({ kind: host.kind, transport: event.transport })}${event.pid ? `, pid ${event.pid}` : ''})` });
        }
      }
      return;
    }
    case 'connection/startFailed':
      put({ ...host, status: 'disconnected', pid: null, rssBytes: null, lastError: { message: event.message, stderrTail: event.stderrTail, atMs } });
      for (const ws of workspacesOf(state, host.name)) raiseDisconnected(state, effects, ws.name, event.message, event.stderrTail, atMs);
      return;
    case 'connection/disconnected': {
      const message = `${appServerWords(host)} ${event.exit}`;
      for (const ws of workspacesOf(state, host.name)) {
        const loaded = host.transport === 'attached' ? detach(state, ws.name, host, atMs) : loseLiveWork(state, effects, ws.name, event.exit, atMs);
        state.workspaces[ws.name] = { ...ws, resumeThreadIds: [...new Set([...ws.resumeThreadIds, ...loaded])] };
      }
      put({
        ...host,
        status: 'disconnected',
        pid: null,
        rssBytes: null,
        lastError: { message, stderrTail: event.stderrTail, atMs },
        awaySinceMs: host.status === 'ready' ? atMs : host.awaySinceMs,
      });
      for (const ws of workspacesOf(state, host.name)) raiseDisconnected(state, effects, ws.name, message, event.stderrTail, atMs);
      return;
    }
    case 'connection/restarting':
      put({ ...host, status: 'restarting', restartCount: event.attempt });
      for (const ws of workspacesOf(state, host.name)) {
        pushFeed(state, {
          atMs,
          workspace: ws.name,
          threadId: null,
          kind: 'connection',
          text: `reconnecting to ${hostWords(host)} (attempt ${event.attempt}) in ${Math.round(event.delayMs / 100) / 10}s`,
        });
      }
      return;
    case 'connection/gaveUp':
      put({ ...host, status: 'disconnected' });
      for (const ws of workspacesOf(state, host.name)) {
        pushFeed(state, { atMs, workspace: ws.name, threadId: null, kind: 'connection', text: `gave up reconnecting to ${hostWords(host)} after ${event.attempts} attempts` });
      }
      return;
    case 'connection/stopped':
      for (const ws of workspacesOf(state, host.name)) {
        // Threads on Codex's daemon are followed again on connecting; a private app-server's
        // threads are loaded again when work needs them (not all of them at every start).
        const loaded = host.transport === 'attached' ? detach(state, ws.name, host, atMs) : (loseLiveWork(state, effects, ws.name, 'stopped', atMs), []);
        state.workspaces[ws.name] = { ...ws, resumeThreadIds: [...new Set([...ws.resumeThreadIds, ...loaded])] };
        resolveSignal(state, signalKeys.disconnected(ws.name), atMs);
      }
      put({ ...host, status: 'stopped', pid: null, rssBytes: null, awaySinceMs: host.status === 'ready' ? atMs : host.awaySinceMs });
      return;
    case 'host/health':
      if (host.pingMs === event.pingMs && host.rssBytes === event.rssBytes) return;
      state.hosts[host.name] = { ...host, pingMs: event.pingMs, rssBytes: event.rssBytes };
      return;
    case 'host/rateLimits': {
      const known = host.rateLimits;
      state.hosts[host.name] = {
        ...host,
        rateLimits: {
          name: event.name ?? known?.name ?? null,
          primary: event.primary ?? known?.primary ?? null,
          secondary: event.secondary ?? known?.secondary ?? null,
          // Not sparse: a snapshot without it says no limit is reached now.
          reached: event.reached,
          atMs,
        },
      };
      return;
    }
    case 'connection/warning':
      addServerWarning(state, host.name, event.message);
      return;
    case 'protocol/error':
      state.protocolErrors++;
      addWarning(state, `${host.name}: protocol error: ${event.reason}`);
      return;
  }
}

/**
 * A workspace the configuration dropped: its threads are no longer shown and its signals are
 * closed. Requests still waiting on it are refused, so no turn waits for an answer nobody will
 * give; the feed says so.
 */
function removeWorkspace(state: SupervisorState, effects: Effect[], name: string, atMs: number): void {
  if (!state.workspaces[name]) return;
  for (const request of [...Object.values(state.pendingApprovals), ...Object.values(state.openQuestions)]) {
    if (request.workspace !== name) continue;
    effects.push({ type: 'rejectServerRequest', workspace: name, requestId: request.requestId, message: `workspace "${name}" is no longer supervised` });
    clearRequest(state, request.key, atMs);
  }
  const threads = Object.values(state.threads).filter((t) => t.workspace === name);
  for (const thread of threads) delete state.threads[thread.id];
  resolveSignalsWhere(state, atMs, (s) => s.workspace === name);
  pushFeed(state, { atMs, workspace: name, threadId: null, kind: 'connection', text: `no longer supervised (removed from the configuration; ${threads.length} thread(s) left alone)` });
  delete state.workspaces[name];
}

function workspacesOf(state: SupervisorState, host: string): WorkspaceRecord[] {
  return Object.values(state.workspaces).filter((w) => w.host === host);
}

function hostWords(host: HostRecord): string {
  return host.kind === 'local' ? 'the local app-server' : host.kind === 'ssh' ? `host ${host.name}` : 'the app-server';
}

function daemonWords(host: HostRecord): string {
  return host.kind === 'ssh' ? `Codex's daemon on ${host.name}` : "Codex's daemon";
}

function appServerWords(host: HostRecord): string {
  if (host.transport === 'attached') return daemonWords(host);
  return host.kind === 'ssh' ? `the app-server on ${host.name}` : 'app-server';
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

/** Threads the app-server had loaded (they are resumed when it is back). */
function liveThreads(state: SupervisorState, workspace: string): string[] {
  return Object.values(state.threads).flatMap((t) => (t.workspace === workspace && (t.status !== 'notLoaded' || t.currentTurnId !== null) ? [t.id] : []));
}

/**
 * We let go of Codex's daemon (stopped, or the link dropped): its turns run on and its approvals
 * wait there. They cannot be answered from here until we are back; each says so in the feed
 * and is asked again when the thread is resumed.
 */
function detach(state: SupervisorState, workspace: string, host: HostRecord, atMs: number): string[] {
  for (const approval of Object.values(state.pendingApprovals)) {
    if (approval.workspace !== workspace) continue;
    pushFeed(state, {
      atMs,
      workspace,
      threadId: approval.threadId,
      kind: 'approval',
      text: `still waiting in ${daemonWords(host)}: ${approvalSubject(approval)} — asked again when cm-supervisor reconnects`,
    });
    clearRequest(state, approval.key, atMs);
  }
  for (const question of Object.values(state.openQuestions)) {
    if (question.workspace !== workspace) continue;
    pushFeed(state, { atMs, workspace, threadId: question.threadId, kind: 'question', text: `still waiting in ${daemonWords(host)}: ${oneLine(question.message, 120)} — asked again when cm-supervisor reconnects` });
    clearRequest(state, question.key, atMs);
  }
  return liveThreads(state, workspace);
}

/**
 * The app-server is gone: its turns will never complete and its approvals can no longer be
 * answered. Running turns are marked interrupted (with a signal) and the loaded threads are
 * returned so they can be resumed once the server is back.
 */
function loseLiveWork(state: SupervisorState, effects: Effect[], workspace: string, exit: string, atMs: number): string[] {
  for (const approval of Object.values(state.pendingApprovals)) {
    if (approval.workspace !== workspace) continue;
    if (exit !== 'stopped') {
      pushFeed(state, { atMs, workspace, threadId: approval.threadId, kind: 'approval', text: `dropped unanswered: ${approvalSubject(approval)} — the app-server ${exit}` });
    }
    clearRequest(state, approval.key, atMs);
  }
  for (const question of Object.values(state.openQuestions)) {
    if (question.workspace !== workspace) continue;
    if (exit !== 'stopped') {
      pushFeed(state, { atMs, workspace, threadId: question.threadId, kind: 'question', text: `dropped unanswered: ${oneLine(question.message, 120)} — the app-server ${exit}` });
    }
    clearRequest(state, question.key, atMs);
  }
  const loaded: string[] = [];
  for (const thread of Object.values(state.threads)) {
    if (thread.workspace !== workspace) continue;
    if (thread.status !== 'notLoaded') loaded.push(thread.id);
    const turnId = thread.currentTurnId;
    if (turnId !== null && exit !== 'stopped') {
      const why = `turn lost: the app-server ${exit}`;
      reportInterrupted(state, effects, thread, turnId, why, `interrupted: ${oneLine(thread.digest.currentTask ?? thread.title, 60)} — ${why}`, atMs);
    }
    // Lost with its app-server, not failed by the model: a retry may run it.
    if (turnId !== null) setJobStatus(state, turnId, 'interrupted', atMs, { error: `the app-server ${exit}`, failure: 'transient' });
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
