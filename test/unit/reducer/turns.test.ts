import { describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '../../../src/core/state/events.js';
import { openSignals, selectFeed } from '../../../src/core/state/selectors.js';
import { loadTranscripts } from '../../support/transcripts.js';
import { fold, readyState, replayTranscript, WS } from '../../support/replay.js';
import { agentMessage, dispatchedJob, threadSeen, turnCompleted, turnStarted, userMessage } from '../../support/events.js';

const transcripts = loadTranscripts();

describe('text-turn transcript', () => {
  const THREAD = '01a217dd-c11b-7e01-bcae-8490c0aafae0';
  const TURN = '01a217dd-c12b-79a2-a72e-a3195679ff3e';
  const PROMPT = 'Say hello to the supervisor';
  const REPLY = 'Done: Say hello to the supervisor';

  it('raises one completed signal carrying the final agent text', () => {
    const { state, effects } = replayTranscript(transcripts['text-turn']!);
    const signals = Object.values(state.signals);
    expect(signals.map((s) => s.kind)).toEqual(['completed']);
    const [signal] = signals;
    expect(signal).toMatchObject({ workspace: WS, threadId: THREAD, turnId: TURN, resolvedAtMs: null });
    expect(signal!.message).toContain(REPLY);
    expect(signal!.message).toContain(PROMPT);
    expect(signal!.context.finalMessage).toBe(REPLY);
    expect(effects).toEqual([{ type: 'notify', signalId: signal!.id }]);
  });

  it('digests the thread: the prompt as task, the reply as last activity, idle next', () => {
    const { state } = replayTranscript(transcripts['text-turn']!);
    const thread = state.threads[THREAD]!;
    expect(thread.cwd).toBe('/tmp/cm-rec-cwd-legjMp');
    expect(thread.status).toBe('idle');
    expect(thread.currentTurnId).toBeNull();
    expect(thread.lastTurn).toEqual({ id: TURN, status: 'completed', error: null });
    expect(thread.lastAgentMessage).toBe(REPLY);
    expect(thread.digest.currentTask).toBe(PROMPT);
    expect(thread.digest.lastActivity?.text).toBe(`replied: ${REPLY}`);
    expect(thread.digest.nextStep).toBe('idle: awaiting instructions');
    expect(thread.digest.blockers).toEqual([]);
  });

  it('writes the new task and the completion to the feed, in that order', () => {
    const { state } = replayTranscript(transcripts['text-turn']!);
    const feed = selectFeed(state, { workspace: WS });
    expect(feed.map((e) => [e.kind, e.text])).toEqual([
      ['turn_started', `new task: ${PROMPT}`],
      ['turn_completed', `completed: ${REPLY}`],
    ]);
    expect(feed.every((e) => e.threadId === THREAD && !e.needsInput)).toBe(true);
  });

  it('records the token usage of the turn', () => {
    const { state } = replayTranscript(transcripts['text-turn']!);
    expect(state.threads[THREAD]!.tokenUsage).toEqual({ totalTokens: 110, lastTokens: 110, contextWindow: 258400 });
  });

  it('knows every method the binary sent (none unknown, no protocol errors)', () => {
    const { state } = replayTranscript(transcripts['text-turn']!);
    // remoteControl/status/changed and account/rateLimits/updated are in the transcript and ignored on purpose.
    expect(state.unknownMethods).toEqual({});
    expect(state.protocolErrors).toBe(0);
    // configWarning and the per-turn "unknown model" warning are kept for debugging, not in the feed.
    expect(state.warnings.some((w) => w.includes('bubblewrap'))).toBe(true);
    expect(state.warnings.some((w) => w.includes('mock-model'))).toBe(true);
    expect(selectFeed(state, { text: 'bubblewrap' })).toEqual([]);
  });

  it('keeps each server warning cleaned, with its workspace, also when the same text repeats', () => {
    const warning = (workspace: string, message: string): SupervisorEvent => ({ type: 'server/warning', atMs: 1, workspace, threadId: null, message });
    const noisy = 'sandbox tool\n  missing \u001b[1mnow\u001b[0m';
    const { state } = fold([warning(WS, noisy), warning(WS, 'other'), warning('web', noisy), warning(WS, noisy)], readyState());
    expect(state.warnings).toEqual([`${WS}: sandbox tool missing now`, `${WS}: other`, 'web: sandbox tool missing now', `${WS}: sandbox tool missing now`]);
  });

  it('every recorded transcript replays without unknown methods or protocol errors', () => {
    for (const [name, lines] of Object.entries(transcripts)) {
      const { state } = replayTranscript(lines);
      expect(state.unknownMethods, name).toEqual({});
      expect(state.protocolErrors, name).toBe(0);
    }
  });

  it('marks a dispatched job completed with the final message', () => {
    const start = fold(dispatchedJob('plan1:hello', THREAD, TURN, 1_795_696_000_100), readyState()).state;
    expect(start.jobs['plan1:hello']!.status).toBe('dispatched');
    const { state } = replayTranscript(transcripts['text-turn']!, WS, { startState: start });
    expect(state.jobs['plan1:hello']).toMatchObject({ status: 'completed', finalMessage: REPLY, error: null, threadId: THREAD, turnId: TURN });
    expect(state.jobs['plan1:hello']!.completedAtMs).not.toBeNull();
  });

  it('the resume transcript (thread never announced by thread/started) still completes the second turn', () => {
    const { state } = replayTranscript(transcripts.resume!);
    const thread = state.threads['01a217dd-c64b-7261-badd-7c7065ded1e6']!;
    expect(thread.digest.currentTask).toBe('Second turn after resume');
    expect(thread.lastTurn?.status).toBe('completed');
    expect(openSignals(state).map((s) => s.kind)).toEqual(['completed']);
  });
});

describe('upstream-500 transcript', () => {
  const THREAD = '01a217dd-c552-7ec1-8126-dc4b7eb792f0';
  const TURN = '01a217dd-c565-7cc1-9e8a-725db805b363';
  const MESSAGE = 'We’re currently experiencing high demand, which may cause temporary errors.';

  it('raises a failed signal with the Codex error kind', () => {
    const { state, effects } = replayTranscript(transcripts['upstream-500']!);
    const signals = Object.values(state.signals);
    expect(signals.map((s) => s.kind)).toEqual(['failed']);
    expect(signals[0]).toMatchObject({ threadId: THREAD, turnId: TURN, resolvedAtMs: null });
    expect(signals[0]!.context).toEqual({ errorMessage: MESSAGE, codexErrorKind: 'internalServerError' });
    expect(signals[0]!.message).toContain(MESSAGE);
    expect(effects.filter((e) => e.type === 'notify')).toHaveLength(1);
  });

  it('keeps the error on the thread and lists it as a blocker', () => {
    const { state } = replayTranscript(transcripts['upstream-500']!);
    const thread = state.threads[THREAD]!;
    expect(thread.status).toBe('systemError');
    expect(thread.currentTurnId).toBeNull();
    expect(thread.lastError).toMatchObject({ message: MESSAGE, codexErrorKind: 'internalServerError', willRetry: false });
    expect(thread.lastTurn).toEqual({ id: TURN, status: 'failed', error: MESSAGE });
    expect(thread.digest.blockers).toContainEqual({ kind: 'error', text: `error: ${MESSAGE}` });
    expect(thread.digest.nextStep).toBe('failed: send new instructions or retry');
    expect(thread.digest.lastActivity?.text).toBe(`failed: ${MESSAGE}`);
  });

  it('reports the error and the failure in the feed as faults', () => {
    const { state } = replayTranscript(transcripts['upstream-500']!);
    expect(selectFeed(state, { faults: true }).map((e) => [e.kind, e.text])).toEqual([
      ['error', `error: ${MESSAGE}`],
      ['turn_failed', `failed: ${MESSAGE}`],
    ]);
  });

  it('fails the job that was dispatched for the turn', () => {
    const start = fold(dispatchedJob('plan1:fix', THREAD, TURN, 1_795_696_000_100), readyState()).state;
    const { state } = replayTranscript(transcripts['upstream-500']!, WS, { startState: start });
    expect(state.jobs['plan1:fix']).toMatchObject({ status: 'failed', error: MESSAGE, finalMessage: null });
  });

  it('a job dispatched after its turn already failed (reply raced the notifications) is failed too', () => {
    const { state: replayed } = replayTranscript(transcripts['upstream-500']!);
    const { state } = fold(dispatchedJob('plan1:late', THREAD, TURN, 1_795_696_800_000), replayed);
    expect(state.jobs['plan1:late']).toMatchObject({ status: 'failed', error: MESSAGE });
  });

  it('a later retry (error willRetry) on a new turn is not a failure', () => {
    const { state: replayed } = replayTranscript(transcripts['upstream-500']!);
    const at = 1_795_696_900_000;
    const { state } = fold(
      [
        turnStarted(THREAD, 'turn-2', at),
        {
          type: 'turn/error',
          atMs: at + 1,
          workspace: WS,
          threadId: THREAD,
          turnId: 'turn-2',
          error: { message: 'Reconnecting... 1/5', codexErrorInfo: { responseStreamDisconnected: { httpStatusCode: null } } },
          willRetry: true,
        },
      ],
      replayed,
    );
    const thread = state.threads[THREAD]!;
    expect(thread.lastError).toMatchObject({ codexErrorKind: 'responseStreamDisconnected', willRetry: true });
    expect(thread.digest.blockers.filter((b) => b.kind === 'error')).toEqual([]);
    expect(openSignals(state)).toEqual([]);
    expect(selectFeed(state, { faults: true }).at(-1)?.text).toBe('upstream trouble, retrying: Reconnecting... 1/5');
  });
});

describe('turn outcome signals', () => {
  const T = 'thread-a';
  const at = 1_795_697_000_000;

  it('the same failure twice on one thread without a new turn raises one signal', () => {
    const boom = { message: 'boom', codexErrorInfo: 'internalServerError' };
    const first = fold([threadSeen(T, at), turnStarted(T, 'turn-1', at + 1), turnCompleted(T, 'turn-1', 'failed', at + 2, boom)], readyState());
    expect(first.effects.filter((e) => e.type === 'notify')).toHaveLength(1);
    const again = fold([turnCompleted(T, 'turn-1', 'failed', at + 3, boom)], first.state);
    expect(again.effects).toEqual([]);
    expect(Object.values(again.state.signals).filter((s) => s.kind === 'failed')).toHaveLength(1);
  });

  it('a new turn resolves the previous completed and failed signals, and a fresh outcome raises a new one', () => {
    const { state } = fold(
      [
        threadSeen(T, at),
        turnStarted(T, 'turn-1', at + 1),
        turnCompleted(T, 'turn-1', 'failed', at + 2, { message: 'boom' }),
      ],
      readyState(),
    );
    const failed = openSignals(state)[0]!;
    expect(failed.kind).toBe('failed');

    fold([turnStarted(T, 'turn-2', at + 10)], state);
    expect(state.signals[failed.id]!.resolvedAtMs).toBe(at + 10);
    expect(openSignals(state)).toEqual([]);
    expect(state.threads[T]!.lastError).toBeNull();
    expect(state.threads[T]!.digest.blockers).toEqual([]);
    expect(state.threads[T]!.digest.nextStep).toBe('working on the current turn');

    const done = fold([agentMessage(T, 'turn-2', 'all good', at + 11), turnCompleted(T, 'turn-2', 'completed', at + 12)], state);
    expect(done.effects).toHaveLength(1);
    const completed = openSignals(state)[0]!;
    expect(completed).toMatchObject({ kind: 'completed', turnId: 'turn-2' });

    fold([turnStarted(T, 'turn-3', at + 20)], state);
    expect(state.signals[completed.id]!.resolvedAtMs).toBe(at + 20);
    expect(openSignals(state)).toEqual([]);
  });

  it('signals of different threads do not deduplicate each other', () => {
    const { state, effects } = fold(
      [
        turnStarted('t1', 'x1', at),
        turnStarted('t2', 'x2', at),
        turnCompleted('t1', 'x1', 'completed', at + 1),
        turnCompleted('t2', 'x2', 'completed', at + 1),
      ],
      readyState(),
    );
    expect(effects.filter((e) => e.type === 'notify')).toHaveLength(2);
    expect(openSignals(state).map((s) => s.threadId).sort()).toEqual(['t1', 't2']);
  });

  it('an interrupted turn raises no signal but is in the feed and interrupts its job', () => {
    const { state, effects } = fold(
      [
        ...dispatchedJob('p:a', T, 'turn-1', at),
        threadSeen(T, at + 2),
        turnStarted(T, 'turn-1', at + 3),
        userMessage(T, 'turn-1', 'refactor', at + 4),
        turnCompleted(T, 'turn-1', 'interrupted', at + 5),
      ],
      readyState(),
    );
    expect(effects).toEqual([]);
    expect(state.jobs['p:a']!.status).toBe('interrupted');
    expect(selectFeed(state).at(-1)).toMatchObject({ kind: 'turn_interrupted', text: 'interrupted: refactor' });
    expect(state.threads[T]!.digest.lastActivity?.text).toBe('turn interrupted');
  });

  it('a turn/completed for an older turn does not clear the running one', () => {
    const { state } = fold([turnStarted(T, 'turn-2', at), turnCompleted(T, 'turn-1', 'interrupted', at + 1)], readyState());
    expect(state.threads[T]!.currentTurnId).toBe('turn-2');
  });
});
