import type { SupervisorEvent } from '../../src/core/state/events.js';
import { FakeApi } from './fakeApi.js';
import { agentMessage, commandApproval, progress, threadSeen, turnCompleted, turnStarted, userMessage } from './events.js';
import { readyEvents, readyState, T0, WS } from './replay.js';

/** A thread with a turn started on `task`, at `atMs`. */
export function startedThread(threadId: string, task: string, atMs: number, workspace = WS): SupervisorEvent[] {
  return [threadSeen(threadId, atMs, workspace), turnStarted(threadId, `${threadId}-turn`, atMs + 1, workspace), userMessage(threadId, `${threadId}-turn`, task, atMs + 2, workspace)];
}

/** One thread waiting on an approval (its turn is running), one failed. */
export function signalsApi(): FakeApi {
  const api = new FakeApi();
  api.emitAll([
    ...startedThread('tA', 'install deps', T0 + 1_000),
    commandApproval({ requestId: 1, threadId: 'tA', turnId: 'tA-turn', atMs: T0 + 1_010 }),
    ...startedThread('tB', 'run migrations', T0 + 2_000),
    turnCompleted('tB', 'tB-turn', 'failed', T0 + 3_000, { message: 'database is locked' }),
  ]);
  return api;
}

/**
 * One thread in every status the operations view distinguishes, and workspaces up, down and
 * restarting. Thread ids sort so that the rows appear in the order th6 … th1.
 */
export function everyStatusEvents(): SupervisorEvent[] {
  return [
    // th6: waiting on an approval
    ...startedThread('th6', 'install deps', T0 + 40_000),
    commandApproval({ requestId: 7, threadId: 'th6', turnId: 'th6-turn', atMs: T0 + 40_010, command: "/bin/bash -lc 'npm install'", cwd: '/work/ws1', reason: 'needs the network' }),
    // th5: running
    ...startedThread('th5', 'refactor parser', T0 + 50_000),
    progress('th5', 'th5-turn', T0 + 55_000),
    // th4: failed
    ...startedThread('th4', 'run migrations', T0 + 30_000),
    turnCompleted('th4', 'th4-turn', 'failed', T0 + 45_000, { message: 'database is locked' }),
    // th3: done
    ...startedThread('th3', 'write docs', T0 + 20_000),
    agentMessage('th3', 'th3-turn', 'docs written', T0 + 21_000),
    turnCompleted('th3', 'th3-turn', 'completed', T0 + 21_001),
    // th2: running but silent since T0 + 3, stalled by the tick below
    ...startedThread('th2', 'long build', T0 + 1),
    // th1: known from disk, not loaded
    { type: 'thread/seen', atMs: T0 + 5, workspace: WS, thread: { id: 'th1', title: 'old session', cwd: '/work/ws1', status: { type: 'notLoaded' } } },
    { type: 'health/tick', atMs: T0 + 60_003 },
    // ws2: its host's app-server died; ws3: its host's died and is being reconnected
    ...readyEvents('ws2', T0, undefined, 'h2'),
    { type: 'connection/disconnected', atMs: T0 + 30_000, host: 'h2', exit: 'exited with code 1', stderrTail: ['panic: out of memory'] },
    ...readyEvents('ws3', T0, undefined, 'h3'),
    { type: 'connection/disconnected', atMs: T0 + 40_000, host: 'h3', exit: 'was killed by SIGKILL', stderrTail: [] },
    { type: 'connection/restarting', atMs: T0 + 40_001, host: 'h3', attempt: 1, delayMs: 500 },
  ];
}

export function everyStatusApi(): FakeApi {
  const api = new FakeApi(readyState());
  api.emitAll(everyStatusEvents());
  return api;
}
