import { describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '../../../src/core/state/events.js';
import { snapshotOf, type SupervisorState } from '../../../src/core/state/model.js';
import { reduce } from '../../../src/core/state/reducer.js';
import { loadTranscripts } from '../../support/transcripts.js';
import { fold, HOST, readyState, replayTranscript } from '../../support/replay.js';
import { dispatchedJob } from '../../support/events.js';

const transcripts = loadTranscripts();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Freezes every stored record (not the containers, which reduce owns and updates in place). */
function freezeRecords(state: SupervisorState): void {
  for (const container of [state.workspaces, state.threads, state.jobs, state.signals, state.pendingApprovals, state.openQuestions]) {
    for (const record of Object.values(container)) deepFreeze(record);
  }
  for (const entry of state.activityFeed) deepFreeze(entry);
}

/** Every transcript's events plus the user/loop events that touch the same records. */
function scenario(): SupervisorEvent[] {
  const events: SupervisorEvent[] = [];
  for (const lines of Object.values(transcripts)) events.push(...replayTranscript(lines).events);
  const approvalThread = '01a217dd-c238-7d02-91a3-c556f88ae149';
  const approvalTurn = '01a217dd-c24d-7483-be65-603047dc5995';
  const at = 1_795_699_000_000;
  return [
    ...dispatchedJob('p:a', approvalThread, approvalTurn, at - 1),
    ...events,
    { type: 'signal/acknowledged', atMs: at, signalId: 's1' },
    { type: 'health/tick', atMs: at + 1 },
    { type: 'connection/disconnected', atMs: at + 2, host: HOST, exit: 'exited with code 1', stderrTail: ['x'] },
    { type: 'connection/restarting', atMs: at + 3, host: HOST, attempt: 1, delayMs: 100 },
    { type: 'connection/ready', atMs: at + 4, host: HOST, pid: 2, codexVersion: '0.171.0', transport: 'private' },
  ];
}

describe('reducer invariants', () => {
  it('returns the same state object and never mutates a stored record', () => {
    const state = readyState();
    for (const event of scenario()) {
      freezeRecords(state);
      const [next] = reduce(state, event);
      expect(next).toBe(state);
    }
  });

  it('a snapshot taken earlier does not change when later events are reduced', () => {
    const state = readyState();
    const events = scenario();
    const half = Math.floor(events.length / 2);
    fold(events.slice(0, half), state);
    const snapshot = snapshotOf(state);
    const frozenJson = JSON.stringify(snapshot);
    fold(events.slice(half), state);
    expect(JSON.stringify(snapshot)).toBe(frozenJson);
    expect(JSON.stringify(state)).not.toBe(frozenJson);
  });

  it('is deterministic: the same events give the same state and effects', () => {
    const a = fold(scenario(), readyState());
    const b = fold(scenario(), readyState());
    expect(JSON.stringify(b.state)).toBe(JSON.stringify(a.state));
    expect(b.effects).toEqual(a.effects);
  });

  it('counts every reduced event in seq', () => {
    const state = readyState();
    const before = state.seq;
    const events = scenario();
    fold(events, state);
    expect(state.seq).toBe(before + events.length);
  });

  it('is reentrant: two reducers in one process, events interleaved, give what each gives alone', () => {
    const events = scenario();
    const alone = fold(events, readyState());
    const [a, b] = [readyState(), readyState()];
    const effects: [unknown[], unknown[]] = [[], []];
    // b lags a by a few events, more or less each time: the module holds nothing of either.
    let j = 0;
    for (let i = 0; i < events.length; i++) {
      effects[0].push(...reduce(a, events[i]!)[1]);
      while (j < i - (i % 7)) effects[1].push(...reduce(b, events[j++]!)[1]);
    }
    while (j < events.length) effects[1].push(...reduce(b, events[j++]!)[1]);
    expect(JSON.stringify(a)).toBe(JSON.stringify(alone.state));
    expect(JSON.stringify(b)).toBe(JSON.stringify(alone.state));
    expect(effects[0]).toEqual(alone.effects);
    expect(effects[1]).toEqual(alone.effects);
  });

  it('a state sent as JSON and reduced on (a client mirror) ends where the original does', () => {
    const events = scenario();
    const half = Math.floor(events.length / 3);
    const live = fold(events.slice(0, half), readyState()).state;
    // What a client receives: the snapshot as JSON, no index, no shared records.
    const mirror = JSON.parse(JSON.stringify(snapshotOf(live))) as SupervisorState;
    const liveEffects = fold(events.slice(half), live).effects;
    const mirrorEffects = fold(events.slice(half), mirror).effects;
    expect(JSON.stringify(mirror)).toBe(JSON.stringify(live));
    expect(mirrorEffects).toEqual(liveEffects);
  });
});
