import { describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '../../../src/core/state/events.js';
import type { SupervisorState } from '../../../src/core/state/model.js';
import { openSignals, selectFeed } from '../../../src/core/state/selectors.js';
import { loadTranscripts } from '../../support/transcripts.js';
import { fold, HOST, linesThrough, readyEvents, readyState, replayTranscript, WS } from '../../support/replay.js';
import { commandApproval, dispatchedJob, threadSeen, turnStarted } from '../../support/events.js';

const transcripts = loadTranscripts();
const THREAD = '01a217dd-c238-7d02-91a3-c556f88ae149';
const TURN = '01a217dd-c24d-7483-be65-603047dc5995';
const OTHER = 'ws2';
/** OTHER's host. */
const OTHER_HOST = 'h2';
const at = 1_795_697_000_000;
const STDERR = Array.from({ length: 14 }, (_, i) => `stderr line ${i + 1}`);

const disconnected = (atMs = at): SupervisorEvent => ({
  type: 'connection/disconnected',
  atMs,
  host: HOST,
  exit: 'exited with signal SIGKILL',
  stderrTail: STDERR,
});
const ready = (atMs: number, host = HOST): SupervisorEvent => ({ type: 'connection/ready', atMs, host, pid: 777, codexVersion: '0.171.0', transport: 'private' });

/**
 * ws1: the approval-accept turn running and waiting on its approval, with a job for it, plus an
 * idle thread and a thread that is not loaded; ws2: its own pending approval.
 */
function midTurn(): SupervisorState {
  let state = fold([...dispatchedJob('p:echo', THREAD, TURN, 1_795_696_000_100), ...readyEvents(OTHER, undefined, undefined, OTHER_HOST)], readyState()).state;
  state = replayTranscript(linesThrough(transcripts['approval-accept']!, '"method":"item/commandExecution/requestApproval"'), WS, {
    startState: state,
  }).state;
  return fold(
    [
      threadSeen('idle-thread', at - 10),
      { type: 'thread/seen', atMs: at - 10, workspace: WS, thread: { id: 'old-thread', title: 'old', cwd: null, status: { type: 'notLoaded' } } },
      turnStarted('other-thread', 'other-turn', at - 5, OTHER),
      commandApproval({ requestId: 0, threadId: 'other-thread', turnId: 'other-turn', atMs: at - 4, workspace: OTHER }),
    ],
    state,
  ).state;
}

describe('connection/disconnected', () => {
  it('raises a disconnected signal with the stderr tail', () => {
    const state = midTurn();
    fold([disconnected()], state);
    const signal = openSignals(state).find((s) => s.kind === 'disconnected')!;
    expect(signal).toMatchObject({ workspace: WS, threadId: null, message: 'disconnected: app-server exited with signal SIGKILL' });
    expect(signal.context.stderrTail).toEqual(STDERR.slice(-10));
    expect(state.workspaces[WS]).toMatchObject({ status: 'disconnected' });
    expect(state.hosts[HOST]).toMatchObject({ status: 'disconnected', pid: null, awaySinceMs: at });
    expect(state.hosts[HOST]!.lastError).toEqual({ message: 'app-server exited with signal SIGKILL', stderrTail: STDERR, atMs: at });
  });

  it('marks the running turn interrupted with a "turn lost" failed signal and interrupts its job', () => {
    const state = midTurn();
    expect(state.threads[THREAD]!.recentItems.map((i) => `${i.type} ${i.status}`)).toEqual(['userMessage completed', 'commandExecution inProgress']);
    fold([disconnected()], state);
    // The lost turn's command is no longer shown as running.
    expect(state.threads[THREAD]!.recentItems.map((i) => `${i.type} ${i.status}`)).toEqual(['userMessage completed', 'commandExecution interrupted']);
    const failed = openSignals(state).find((s) => s.kind === 'failed')!;
    expect(failed).toMatchObject({ threadId: THREAD, turnId: TURN });
    expect(failed.message).toContain('turn lost');
    expect(failed.message).toContain('please [exec echo hi]');
    expect(failed.context.errorMessage).toBe('turn lost: the app-server exited with signal SIGKILL');
    const thread = state.threads[THREAD]!;
    expect(thread.currentTurnId).toBeNull();
    expect(thread.lastTurn).toMatchObject({ id: TURN, status: 'interrupted' });
    expect(thread.waitingOnApproval).toBe(false);
    expect(thread.digest.blockers).toEqual([{ kind: 'disconnected', text: 'app-server disconnected' }]);
    expect(state.jobs['p:echo']).toMatchObject({ status: 'interrupted', error: 'the app-server exited with signal SIGKILL' });
    expect(state.jobs['p:echo']!.completedAtMs).toBe(at);
    expect(selectFeed(state, { faults: true, workspace: WS }).map((e) => e.text)).toEqual([
      'turn lost: the app-server exited with signal SIGKILL',
      'disconnected: app-server exited with signal SIGKILL',
    ]);
  });

  it("drops that workspace's pending approvals (they can no longer be answered), not the others'", () => {
    const state = midTurn();
    expect(Object.keys(state.pendingApprovals).sort()).toEqual([`${WS}#0`, `${OTHER}#0`]);
    fold([disconnected()], state);
    expect(Object.keys(state.pendingApprovals)).toEqual([`${OTHER}#0`]);
    expect(state.threads[THREAD]!.pendingApprovalKeys).toEqual([]);
    const signals = Object.values(state.signals).filter((s) => s.kind === 'needs_approval');
    expect(signals.map((s) => [s.workspace, s.resolvedAtMs])).toEqual([
      [WS, at],
      [OTHER, null],
    ]);
    expect(selectFeed(state, { needsInput: true }).map((e) => e.workspace)).toEqual([OTHER]);
    // Not quietly: the feed says it was dropped, and why.
    expect(selectFeed(state, { workspace: WS }).map((e) => e.text)).toContain('dropped unanswered: `echo hi` — the app-server exited with signal SIGKILL');
    // An answer that arrives now has nothing to answer.
    expect(fold([{ type: 'approval/answered', atMs: at + 1, key: `${WS}#0`, decision: 'accept' }], state).effects).toEqual([]);
  });

  it('lists the loaded threads for resuming and leaves the other workspace alone', () => {
    const state = midTurn();
    fold([disconnected()], state);
    expect(state.workspaces[WS]!.resumeThreadIds.sort()).toEqual([THREAD, 'idle-thread'].sort());
    expect(state.threads['idle-thread']!.status).toBe('notLoaded');
    expect(state.threads['other-thread']!.currentTurnId).toBe('other-turn');
    expect(state.workspaces[OTHER]!.status).toBe('ready');
  });

  it('a second disconnect while still down raises no second signal', () => {
    const state = midTurn();
    fold([disconnected(), { type: 'connection/restarting', atMs: at + 1, host: HOST, attempt: 1, delayMs: 500 }], state);
    const again = fold([disconnected(at + 600)], state);
    expect(again.effects).toEqual([]);
    expect(Object.values(state.signals).filter((s) => s.kind === 'disconnected')).toHaveLength(1);
    // The lost threads are still remembered for resuming.
    expect(state.workspaces[WS]!.resumeThreadIds).toContain(THREAD);
  });

  it('a lost turn is not later reported as stalled', () => {
    const state = midTurn();
    fold([disconnected(), ready(at + 1000)], state);
    const { effects } = fold([{ type: 'health/tick', atMs: at + 100 * 60_000 }], state);
    expect(effects).toEqual([]);
  });
});

describe('connection/ready after a disconnect', () => {
  it('resolves the disconnected signal and asks to resume the lost threads', () => {
    const state = midTurn();
    fold([disconnected(), { type: 'connection/restarting', atMs: at + 1, host: HOST, attempt: 1, delayMs: 500 }], state);
    const signal = openSignals(state).find((s) => s.kind === 'disconnected')!;
    const { effects } = fold([ready(at + 600)], state);
    expect(effects).toHaveLength(1);
    expect(effects[0]).toMatchObject({ type: 'resumeThreads', workspace: WS });
    expect((effects[0] as { threadIds: string[] }).threadIds.sort()).toEqual([THREAD, 'idle-thread'].sort());
    expect(state.signals[signal.id]!.resolvedAtMs).toBe(at + 600);
    expect(state.workspaces[WS]).toMatchObject({ status: 'ready', resumeThreadIds: [] });
    expect(state.hosts[HOST]).toMatchObject({ status: 'ready', pid: 777, lastError: null, transport: 'private' });
    expect(state.threads[THREAD]!.digest.blockers).toEqual([]);
    expect(selectFeed(state).at(-1)).toMatchObject({ kind: 'connection', text: 'the local app-server reconnected (private app-server, pid 777)' });
    // The lost turn's failure stays open: the work was not done.
    expect(openSignals(state).map((s) => s.kind)).toContain('failed');
  });

  it('a first connection/ready resumes nothing', () => {
    const { effects } = fold(readyEvents('fresh'));
    expect(effects).toEqual([]);
  });

  it('thread/resumeFailed is reported in the feed', () => {
    const state = readyState();
    fold([{ type: 'thread/resumeFailed', atMs: at, workspace: WS, threadId: 't', message: 'thread t already has an active writer' }], state);
    expect(selectFeed(state, { faults: true }).map((e) => e.text)).toEqual(['could not resume thread: thread t already has an active writer']);
  });
});

describe('other connection events', () => {
  it('connection/startFailed raises disconnected with the start error', () => {
    const state = readyState();
    fold([{ type: 'connection/startFailed', atMs: at, host: HOST, message: 'spawn codex ENOENT', stderrTail: ['boom'] }], state);
    expect(openSignals(state)[0]).toMatchObject({ kind: 'disconnected', message: 'disconnected: spawn codex ENOENT', context: { stderrTail: ['boom'] } });
  });

  it('connection/stopped (on purpose) drops live work without failure signals and clears disconnected', () => {
    const state = midTurn();
    fold([disconnected(), { type: 'connection/stopped', atMs: at + 1, host: HOST }], state);
    expect(state.workspaces[WS]!.status).toBe('stopped');
    expect(openSignals(state).filter((s) => s.workspace === WS).map((s) => s.kind)).toEqual(['failed']);

    const calm = midTurn();
    const { effects } = fold([{ type: 'connection/stopped', atMs: at + 1, host: HOST }], calm);
    expect(effects).toEqual([]);
    expect(calm.jobs['p:echo']!.status).toBe('interrupted');
    expect(Object.keys(calm.pendingApprovals)).toEqual([`${OTHER}#0`]);
  });

  it('events for a host that was never added are ignored', () => {
    const state = readyState();
    const before = JSON.stringify({ ...state, seq: 0 });
    fold([ready(at, 'nope'), { type: 'connection/disconnected', atMs: at, host: 'nope', exit: 'x', stderrTail: [] }], state);
    expect(JSON.stringify({ ...state, seq: 0 })).toBe(before);
  });
});
