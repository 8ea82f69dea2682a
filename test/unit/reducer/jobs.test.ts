import { describe, expect, it } from 'vitest';
import { initialState, type SupervisorState } from '../../../src/core/state/model.js';
import { persistedPart } from '../../../src/core/persistence/stateStore.js';
import { jobOfTurn, selectFeed } from '../../../src/core/state/selectors.js';
import { fold, readyState, WS } from '../../support/replay.js';
import { agentMessage, dispatchedJob, turnCompleted, turnStarted } from '../../support/events.js';

const at = 1_795_697_000_000;

describe('jobs', () => {
  it('queued → dispatched → running → completed, with the final message', () => {
    const [queuedEvent, dispatchedEvent] = dispatchedJob('plan:a', 't', 'u', at);
    const state = fold([queuedEvent!], readyState()).state;
    expect(state.jobs['plan:a']).toMatchObject({ status: 'queued', planId: 'plan', actionId: 'a', workspace: WS, threadId: null });
    expect(selectFeed(state).at(-1)).toMatchObject({ kind: 'dispatch', text: 'queued a: do a' });
    fold([dispatchedEvent!], state);
    expect(state.jobs['plan:a']).toMatchObject({ status: 'dispatched', threadId: 't', turnId: 'u', dispatchedAtMs: at + 1 });
    fold([turnStarted('t', 'u', at + 2)], state);
    expect(state.jobs['plan:a']!.status).toBe('running');
    fold([agentMessage('t', 'u', 'shipped', at + 3), turnCompleted('t', 'u', 'completed', at + 4)], state);
    expect(state.jobs['plan:a']).toMatchObject({ status: 'completed', finalMessage: 'shipped', completedAtMs: at + 4 });
  });

  it('a job whose turn started before the turn/start reply is running at once', () => {
    const { state } = fold([turnStarted('t', 'u', at), ...dispatchedJob('plan:a', 't', 'u', at + 1)], readyState());
    expect(state.jobs['plan:a']!.status).toBe('running');
  });

  it('a job whose turn completed before the reply is completed with the final message', () => {
    const { state } = fold(
      [turnStarted('t', 'u', at), agentMessage('t', 'u', 'fast', at + 1), turnCompleted('t', 'u', 'completed', at + 2), ...dispatchedJob('plan:a', 't', 'u', at + 3)],
      readyState(),
    );
    expect(state.jobs['plan:a']).toMatchObject({ status: 'completed', finalMessage: 'fast' });
  });

  it('job/failed fails the job and says so in the feed', () => {
    const { state } = fold(
      [dispatchedJob('plan:a', 't', 'u', at)[0]!, { type: 'job/failed', atMs: at + 1, key: 'plan:a', error: 'thread not found: t' }],
      readyState(),
    );
    expect(state.jobs['plan:a']).toMatchObject({ status: 'failed', error: 'thread not found: t', completedAtMs: at + 1 });
    expect(selectFeed(state, { faults: true }).map((e) => e.text)).toEqual(['dispatch of a failed: thread not found: t']);
  });

  it('a finished job does not move again (a late turn event cannot revive it)', () => {
    const { state } = fold(
      [...dispatchedJob('plan:a', 't', 'u', at), turnStarted('t', 'u', at + 2), turnCompleted('t', 'u', 'failed', at + 3, { message: 'x' }), turnStarted('t', 'u', at + 4)],
      readyState(),
    );
    expect(state.jobs['plan:a']!.status).toBe('failed');
  });

  it('events for unknown jobs are ignored', () => {
    const state = readyState();
    fold([{ type: 'job/dispatched', atMs: at, key: 'nope', threadId: 't', turnId: 'u' }, { type: 'job/failed', atMs: at, key: 'nope', error: 'e' }], state);
    expect(state.jobs).toEqual({});
    expect(jobOfTurn(state, 'u')).toBeUndefined();
  });

  it('a state read from disk finds its jobs by turn: the index is rebuilt from the job records', () => {
    const { state: live } = fold(dispatchedJob('plan:a', 't', 'u', at), readyState());
    // What a restart makes of the persisted records: new containers, the same records.
    const restored = { ...initialState(), ...JSON.parse(JSON.stringify(persistedPart(live))) } as SupervisorState;
    fold([turnStarted('t', 'u', at + 2)], restored);
    expect(restored.jobs['plan:a']!.status).toBe('running');
    fold([agentMessage('t', 'u', 'shipped', at + 3), turnCompleted('t', 'u', 'completed', at + 4)], restored);
    expect(restored.jobs['plan:a']).toMatchObject({ status: 'completed', finalMessage: 'shipped' });
    expect(jobOfTurn(restored, 'u')?.key).toBe('plan:a');
  });
});
