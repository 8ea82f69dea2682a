import type { SupervisorEvent } from '../../src/core/state/events.js';
import { normalizeServerRequest } from '../../src/core/state/normalize.js';
import { WS } from './replay.js';

/** Hand-written supervisor events for `fold`, shaped like what normalize.ts produces. */

export function threadSeen(threadId: string, atMs: number, workspace = WS): SupervisorEvent {
  return { type: 'thread/seen', atMs, workspace, thread: { id: threadId, title: '(new thread)', cwd: '/repo', status: { type: 'idle' } } };
}

export function turnStarted(threadId: string, turnId: string, atMs: number, workspace = WS): SupervisorEvent {
  return { type: 'turn/started', atMs, workspace, threadId, turnId };
}

export function userMessage(threadId: string, turnId: string, text: string, atMs: number, workspace = WS): SupervisorEvent {
  return {
    type: 'item/started',
    atMs,
    workspace,
    threadId,
    turnId,
    item: { type: 'userMessage', id: `user-${turnId}`, content: [{ type: 'text', text }] },
  };
}

export function agentMessage(threadId: string, turnId: string, text: string, atMs: number, workspace = WS): SupervisorEvent {
  return { type: 'item/completed', atMs, workspace, threadId, turnId, item: { type: 'agentMessage', id: `msg-${turnId}`, text } };
}

export function progress(threadId: string, turnId: string, atMs: number, workspace = WS): SupervisorEvent {
  return { type: 'item/progress', atMs, workspace, threadId, turnId, itemId: `cmd-${turnId}` };
}

export function turnCompleted(
  threadId: string,
  turnId: string,
  status: 'completed' | 'failed' | 'interrupted',
  atMs: number,
  error: { message: string; codexErrorInfo?: unknown } | null = null,
  workspace = WS,
): SupervisorEvent {
  return { type: 'turn/completed', atMs, workspace, threadId, turnId, status, error };
}

/** A command approval as the 0.171 binary sends it, run through normalizeServerRequest. */
export function commandApproval(o: {
  requestId: number | string;
  threadId: string;
  turnId: string;
  atMs: number;
  command?: string;
  cwd?: string;
  reason?: string;
  availableDecisions?: unknown[];
  workspace?: string;
}): SupervisorEvent {
  return normalizeServerRequest(o.workspace ?? WS, {
    id: o.requestId,
    method: 'item/commandExecution/requestApproval',
    params: {
      kind: 'command',
      threadId: o.threadId,
      turnId: o.turnId,
      itemId: `call-${String(o.requestId)}`,
      startedAtMs: o.atMs,
      environmentId: 'local',
      reason: o.reason ?? 'needs the network',
      command: o.command ?? "/bin/bash -lc 'npm install'",
      cwd: o.cwd ?? '/repo',
      availableDecisions: o.availableDecisions ?? ['accept', 'acceptForSession', 'cancel'],
    },
    receivedAtMs: o.atMs,
  });
}

/** A job dispatched by a plan: queued, then turn/start answered with this turn id. */
export function dispatchedJob(key: string, threadId: string, turnId: string, atMs: number, workspace = WS): SupervisorEvent[] {
  const [planId, actionId] = key.split(':') as [string, string];
  return [
    { type: 'job/queued', atMs, key, planId, actionId, workspace, prompt: `do ${actionId}` },
    { type: 'job/dispatched', atMs: atMs + 1, key, threadId, turnId },
  ];
}
