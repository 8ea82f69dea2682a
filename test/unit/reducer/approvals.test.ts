import { describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '../../../src/core/state/events.js';
import { normalizeServerRequest } from '../../../src/core/state/normalize.js';
import { openSignals, selectFeed } from '../../../src/core/state/selectors.js';
import { loadTranscripts } from '../../support/transcripts.js';
import { fold, linesThrough, readyState, replayTranscript, WS } from '../../support/replay.js';
import { commandApproval, dispatchedJob, turnStarted } from '../../support/events.js';

const transcripts = loadTranscripts();
const accept = transcripts['approval-accept']!;
const THREAD = '01a217dd-c238-7d02-91a3-c556f88ae149';
const TURN = '01a217dd-c24d-7483-be65-603047dc5995';
const KEY = `${WS}#0`;
const REQUEST = '"method":"item/commandExecution/requestApproval"';
const RESOLVED = '"method":"serverRequest/resolved"';

/** The transcript cut right after the approval request: the moment a person has to decide. */
function openApproval() {
  const upTo = linesThrough(accept, REQUEST);
  return { ...replayTranscript(upTo), rest: accept.slice(upTo.length) };
}

describe('approval-accept transcript while the approval is open', () => {
  it('keeps the pending approval with its command, cwd and reason', () => {
    const { state } = openApproval();
    expect(Object.keys(state.pendingApprovals)).toEqual([KEY]);
    expect(state.pendingApprovals[KEY]).toMatchObject({
      workspace: WS,
      requestId: 0,
      kind: 'command',
      threadId: THREAD,
      turnId: TURN,
      itemId: 'call_rec2',
      command: "/bin/bash -lc 'echo hi'",
      cwd: '/tmp/cm-rec-cwd-legjMp',
      reason: 'Run `echo hi` outside the sandbox',
    });
    // 0.171 omits decline from availableDecisions but accepts it; object decisions are named by their key.
    expect(state.pendingApprovals[KEY]!.availableDecisions).toEqual(['accept', 'acceptWithExecpolicyAmendment', 'cancel', 'decline']);
  });

  it('raises needs_approval once, with the context a person decides on', () => {
    const { state, effects } = openApproval();
    const signals = openSignals(state);
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ kind: 'needs_approval', threadId: THREAD, turnId: TURN, message: 'needs approval: `echo hi`' });
    expect(signals[0]!.context).toEqual({
      command: "/bin/bash -lc 'echo hi'",
      cwd: '/tmp/cm-rec-cwd-legjMp',
      reason: 'Run `echo hi` outside the sandbox',
      approvalKey: KEY,
    });
    expect(effects).toEqual([{ type: 'notify', signalId: signals[0]!.id }]);
  });

  it('a repeated request for the same approval does not raise a second signal', () => {
    const { state } = openApproval();
    const repeat = fold([commandApproval({ requestId: 0, threadId: THREAD, turnId: TURN, atMs: 1_795_696_738_995 })], state);
    expect(repeat.effects).toEqual([]);
    expect(Object.values(state.signals).filter((s) => s.kind === 'needs_approval')).toHaveLength(1);
    expect(state.threads[THREAD]!.pendingApprovalKeys).toEqual([KEY]);
  });

  it('a thread lists each pending approval once, the latest request last', () => {
    const { state } = openApproval();
    const at = 1_795_696_738_995;
    fold([commandApproval({ requestId: 1, threadId: THREAD, turnId: TURN, atMs: at }), commandApproval({ requestId: 0, threadId: THREAD, turnId: TURN, atMs: at + 1 })], state);
    expect(state.threads[THREAD]!.pendingApprovalKeys).toEqual([`${WS}#1`, KEY]);
  });

  it('shows a feed entry that needs input', () => {
    const { state } = openApproval();
    const entries = selectFeed(state, { needsInput: true });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: 'approval', requestKey: KEY, threadId: THREAD });
    expect(entries[0]!.text).toBe('needs approval: `echo hi` — Run `echo hi` outside the sandbox');
  });

  it('digests the thread as waiting for approval', () => {
    const { state } = openApproval();
    const thread = state.threads[THREAD]!;
    expect(thread.waitingOnApproval).toBe(true);
    expect(thread.digest.nextStep).toBe('waiting for your approval: `echo hi`');
    expect(thread.digest.blockers).toEqual([{ kind: 'approval', text: 'approval: `echo hi`' }]);
    expect(thread.digest.lastActivity?.text).toBe('running `echo hi`');
  });

  it('moves a dispatched job to waiting_for_user', () => {
    const start = fold(dispatchedJob('p:echo', THREAD, TURN, 1_795_696_000_100), readyState()).state;
    const { state } = replayTranscript(linesThrough(accept, REQUEST), WS, { startState: start });
    expect(state.jobs['p:echo']!.status).toBe('waiting_for_user');
  });
});

describe('approval-accept transcript after the server resolved the request', () => {
  it('serverRequest/resolved clears the approval, its signal and the needs-input feed entry', () => {
    const { state } = replayTranscript(linesThrough(accept, RESOLVED));
    expect(state.pendingApprovals).toEqual({});
    expect(openSignals(state)).toEqual([]);
    const signal = Object.values(state.signals).find((s) => s.kind === 'needs_approval')!;
    expect(signal.resolvedAtMs).not.toBeNull();
    expect(selectFeed(state, { needsInput: true })).toEqual([]);
    const thread = state.threads[THREAD]!;
    expect(thread.pendingApprovalKeys).toEqual([]);
    expect(thread.waitingOnApproval).toBe(false);
    expect(thread.digest.nextStep).toBe('working on the current turn');
    expect(thread.digest.blockers).toEqual([]);
  });

  it('the whole transcript ends completed with the command run', () => {
    const start = fold(dispatchedJob('p:echo', THREAD, TURN, 1_795_696_000_100), readyState()).state;
    const { state } = replayTranscript(accept, WS, { startState: start });
    expect(openSignals(state).map((s) => s.kind)).toEqual(['completed']);
    expect(selectFeed(state, { kinds: ['command'] }).map((e) => e.text)).toEqual(['ran `echo hi` (exit 0)']);
    expect(state.jobs['p:echo']!.status).toBe('completed');
  });

  it('the decline transcript records the declined command and still completes', () => {
    const { state } = replayTranscript(transcripts['approval-decline']!);
    expect(state.pendingApprovals).toEqual({});
    expect(selectFeed(state, { kinds: ['command'] }).map((e) => e.text)).toEqual(['declined `echo hi`']);
    expect(openSignals(state).map((s) => s.kind)).toEqual(['completed']);
  });
});

describe('approval/answered', () => {
  it('answers the server with the decision and clears the approval at once', () => {
    const { state, rest } = openApproval();
    const answered = fold([{ type: 'approval/answered', atMs: 1_795_696_739_000, key: KEY, decision: 'accept' }], state);
    expect(answered.effects).toEqual([{ type: 'answerServerRequest', workspace: WS, requestId: 0, result: { decision: 'accept' } }]);
    expect(state.pendingApprovals).toEqual({});
    expect(openSignals(state)).toEqual([]);
    expect(selectFeed(state).at(-1)).toMatchObject({ kind: 'approval', text: 'approved: `echo hi`', needsInput: false });
    // The server's own serverRequest/resolved that follows changes nothing and answers nothing twice.
    const after = replayTranscript(rest, WS, { startState: state });
    expect(after.effects.filter((e) => e.type === 'answerServerRequest')).toEqual([]);
    expect(after.state.threads[THREAD]!.lastTurn?.status).toBe('completed');
  });

  it('accepts decline although 0.171 does not list it', () => {
    const { state } = openApproval();
    const { effects } = fold([{ type: 'approval/answered', atMs: 1_795_696_739_000, key: KEY, decision: 'decline' }], state);
    expect(effects).toEqual([{ type: 'answerServerRequest', workspace: WS, requestId: 0, result: { decision: 'decline' } }]);
  });

  it('ignores a decision the server did not offer', () => {
    const { state } = openApproval();
    const { effects } = fold([{ type: 'approval/answered', atMs: 1_795_696_739_000, key: KEY, decision: 'acceptForSession' }], state);
    expect(effects).toEqual([]);
    expect(Object.keys(state.pendingApprovals)).toEqual([KEY]);
    expect(openSignals(state).map((s) => s.kind)).toEqual(['needs_approval']);
  });

  it('ignores an answer to an approval that is no longer pending (answered twice)', () => {
    const { state } = openApproval();
    const answer: SupervisorEvent = { type: 'approval/answered', atMs: 1_795_696_739_000, key: KEY, decision: 'accept' };
    fold([answer], state);
    expect(fold([answer], state).effects).toEqual([]);
    expect(fold([{ ...answer, key: `${WS}#404` }], state).effects).toEqual([]);
  });

  it('puts the job back to running once answered', () => {
    const at = 1_795_697_000_000;
    const { state } = fold(
      [
        ...dispatchedJob('p:x', 't1', 'turn-1', at),
        turnStarted('t1', 'turn-1', at + 2),
        commandApproval({ requestId: 7, threadId: 't1', turnId: 'turn-1', atMs: at + 3 }),
      ],
      readyState(),
    );
    expect(state.jobs['p:x']!.status).toBe('waiting_for_user');
    fold([{ type: 'approval/answered', atMs: at + 4, key: `${WS}#7`, decision: 'acceptForSession' }], state);
    expect(state.jobs['p:x']!.status).toBe('running');
  });

  describe('permissions approvals', () => {
    const permissions = { network: { enabled: true }, fileSystem: { write: ['/repo/out'] } };
    const request = (): SupervisorEvent =>
      normalizeServerRequest(WS, {
        id: 3,
        method: 'item/permissions/requestApproval',
        params: { threadId: 't1', turnId: 'turn-1', itemId: 'i1', environmentId: 'local', startedAtMs: 1, cwd: '/repo', reason: 'fetch deps', permissions },
        receivedAtMs: 1_795_697_000_000,
      });
    const answer = (decision: 'accept' | 'acceptForSession' | 'decline' | 'cancel') =>
      fold([request(), { type: 'approval/answered', atMs: 1_795_697_000_001, key: `${WS}#3`, decision }], readyState()).effects.filter(
        (e) => e.type === 'answerServerRequest',
      );

    it('grants the asked permissions for the turn or the session', () => {
      expect(answer('accept')).toEqual([{ type: 'answerServerRequest', workspace: WS, requestId: 3, result: { permissions, scope: 'turn' } }]);
      expect(answer('acceptForSession')).toEqual([
        { type: 'answerServerRequest', workspace: WS, requestId: 3, result: { permissions, scope: 'session' } },
      ]);
    });

    it('declining grants nothing; cancel is not offered', () => {
      expect(answer('decline')).toEqual([{ type: 'answerServerRequest', workspace: WS, requestId: 3, result: { permissions: {}, scope: 'turn' } }]);
      expect(answer('cancel')).toEqual([]);
    });

    it('is raised as needs_approval with cwd and reason', () => {
      const { state } = fold([request()], readyState());
      expect(openSignals(state)[0]).toMatchObject({
        kind: 'needs_approval',
        message: 'needs approval: extra permissions',
        context: { cwd: '/repo', reason: 'fetch deps', approvalKey: `${WS}#3` },
      });
    });
  });

  it('a file-change approval names the files and diff of the preceding fileChange item', () => {
    const at = 1_795_697_000_000;
    const { state } = fold(
      [
        turnStarted('t1', 'turn-1', at),
        {
          type: 'item/started',
          atMs: at + 1,
          workspace: WS,
          threadId: 't1',
          turnId: 'turn-1',
          item: { type: 'fileChange', id: 'fc1', status: 'inProgress', changes: [{ path: 'src/a.ts', diff: '+a' }, { path: 'src/b.ts', diff: '-b' }] },
        },
        normalizeServerRequest(WS, {
          id: 5,
          method: 'item/fileChange/requestApproval',
          params: { threadId: 't1', turnId: 'turn-1', itemId: 'fc1', startedAtMs: at, reason: 'refactor' },
          receivedAtMs: at + 2,
        }),
      ],
      readyState(),
    );
    expect(state.pendingApprovals[`${WS}#5`]).toMatchObject({ kind: 'fileChange', files: ['src/a.ts', 'src/b.ts'], diff: '+a\n-b' });
    expect(state.threads.t1!.digest.nextStep).toBe('waiting for your approval: edit 2 file(s): src/a.ts, src/b.ts');
  });
});

describe('questions', () => {
  const at = 1_795_697_000_000;
  const ask = normalizeServerRequest(WS, {
    id: 9,
    method: 'item/tool/requestUserInput',
    params: {
      threadId: 't1',
      turnId: 'turn-1',
      itemId: 'q',
      isBlocking: true,
      questions: [{ id: 'db', header: 'Database', question: 'Which database?', options: [{ label: 'postgres' }, { label: 'sqlite' }] }],
    },
    receivedAtMs: at,
  });

  it('a question needs input until answered, then the answers go back keyed by question id', () => {
    const { state } = fold([turnStarted('t1', 'turn-1', at - 1), ask], readyState());
    expect(state.threads.t1!.digest.nextStep).toBe('waiting for your answer: Which database?');
    expect(selectFeed(state, { needsInput: true }).map((e) => e.text)).toEqual(['asks: Which database?']);
    const { effects } = fold([{ type: 'question/answered', atMs: at + 1, key: `${WS}#9`, answers: { db: ['sqlite'] } }], state);
    expect(effects).toEqual([{ type: 'answerServerRequest', workspace: WS, requestId: 9, result: { answers: { db: { answers: ['sqlite'] } } } }]);
    expect(selectFeed(state, { needsInput: true })).toEqual([]);
    expect(openSignals(state)).toEqual([]);
  });
});

describe('serverRequest/unsupported', () => {
  const at = 1_795_697_000_000;

  it('answers a dynamic tool call with success:false so the turn can go on', () => {
    const event = normalizeServerRequest(WS, {
      id: 11,
      method: 'item/tool/call',
      params: { threadId: 't1', turnId: 'turn-1', callId: 'c', namespace: null, tool: 'x', arguments: {} },
      receivedAtMs: at,
    });
    expect(event).toMatchObject({ type: 'serverRequest/unsupported', method: 'item/tool/call', threadId: 't1' });
    const { state, effects } = fold([event], readyState());
    expect(effects).toHaveLength(1);
    expect(effects[0]).toMatchObject({ type: 'answerServerRequest', workspace: WS, requestId: 11, result: { success: false } });
    expect((effects[0] as { result: { contentItems: unknown[] } }).result.contentItems).toEqual([
      { type: 'inputText', text: expect.any(String) },
    ]);
    expect(selectFeed(state).at(-1)).toMatchObject({ kind: 'warning', threadId: 't1', text: 'answered item/tool/call with a failure: cm-supervisor registers no dynamic tools' });
  });

  it('rejects any other request it cannot handle', () => {
    const event = normalizeServerRequest(WS, { id: 12, method: 'account/chatgptAuthTokens/refresh', params: {}, receivedAtMs: at });
    const { effects } = fold([event], readyState());
    expect(effects).toEqual([{ type: 'rejectServerRequest', workspace: WS, requestId: 12, message: expect.stringContaining('account/chatgptAuthTokens/refresh') }]);
  });

  it('an approval request with unreadable params is rejected rather than left hanging', () => {
    const event = normalizeServerRequest(WS, { id: 13, method: 'item/commandExecution/requestApproval', params: { threadId: 't1' }, receivedAtMs: at });
    const { state, effects } = fold([event], readyState());
    expect(effects).toEqual([expect.objectContaining({ type: 'rejectServerRequest', requestId: 13 })]);
    expect(state.pendingApprovals).toEqual({});
    expect(selectFeed(state).at(-1)).toMatchObject({
      kind: 'warning',
      threadId: 't1',
      text: 'answered item/commandExecution/requestApproval with a failure: its params are not what the pinned Codex documents',
    });
  });
});
