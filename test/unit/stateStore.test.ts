import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { persistedPart, StateStore } from '../../src/core/persistence/stateStore.js';
import { STATE_SCHEMA_VERSION } from '../../src/core/persistence/stateSchema.js';
import { initialState, type SupervisorState } from '../../src/core/state/model.js';
import { jobOfTurn, openSignals } from '../../src/core/state/selectors.js';
import { dispatchedJob, turnCompleted, turnStarted } from '../support/events.js';
import { fold, readyState } from '../support/replay.js';

const at = 1_795_697_000_000;

/** A state with a dispatched job whose turn completed (an open `completed` signal). */
function liveState(): SupervisorState {
  return fold([...dispatchedJob('plan:a', 't', 'u', at), turnStarted('t', 'u', at + 2), turnCompleted('t', 'u', 'completed', at + 3)], readyState()).state;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cm-state-'));
  dirs.push(dir);
  return join(dir, 'state.json');
}

describe('state file', () => {
  it('round-trips the records through save and load', () => {
    const path = tempFile();
    const live = liveState();
    const store = new StateStore(path, { debounceMs: 0 });
    store.schedule(live);
    expect(store.flush()).toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8')).schemaVersion).toBe(STATE_SCHEMA_VERSION);
    const loaded = new StateStore(path).load();
    expect(loaded).toMatchObject({ kind: 'loaded' });
    if (loaded.kind !== 'loaded') return;
    expect(loaded.state).toEqual(JSON.parse(JSON.stringify(persistedPart(live))));
  });

  it('a schema 1 file (which stored the signal and job indexes) loads, and the indexes come back from the records', () => {
    const path = tempFile();
    const live = liveState();
    const signal = openSignals(live)[0]!;
    const v1 = {
      schemaVersion: 1,
      savedAtMs: at,
      state: { ...persistedPart(live), jobByTurn: { u: 'plan:a' }, openSignalKeys: { [signal.key]: signal.id } },
    };
    writeFileSync(path, JSON.stringify(v1));
    const loaded = new StateStore(path).load();
    expect(loaded).toMatchObject({ kind: 'loaded' });
    if (loaded.kind !== 'loaded') return;
    expect(loaded.state).not.toHaveProperty('jobByTurn');
    expect(loaded.state).not.toHaveProperty('openSignalKeys');

    const restored: SupervisorState = { ...initialState(), ...loaded.state };
    expect(jobOfTurn(restored, 'u')?.key).toBe('plan:a');
    expect(openSignals(restored).map((s) => s.id)).toEqual([signal.id]);
    // The reducer sees the same: the next turn resolves the open signal and is not the job's.
    fold([turnStarted('t', 'u2', at + 4)], restored);
    expect(restored.signals[signal.id]!.resolvedAtMs).toBe(at + 4);
    expect(restored.jobs['plan:a']!.status).toBe('completed');
  });

  it('a file written before goal mode loads as "no goal"; a goal round-trips', () => {
    const path = tempFile();
    const goal = { objective: 'ship', status: 'active', tokensUsed: 5, tokenBudget: null, timeUsedSeconds: 1, createdAt: 1000 };
    const live = fold([{ type: 'thread/goalUpdated', atMs: at + 4, workspace: 'ws1', threadId: 't', turnId: null, goal }], liveState()).state;
    const { goal: kept, ...before } = persistedPart(live).threads.t!;
    expect(kept).toMatchObject({ objective: 'ship', turns: 0, heldCompletion: false });
    writeFileSync(path, JSON.stringify({ schemaVersion: STATE_SCHEMA_VERSION, savedAtMs: at, state: { ...persistedPart(live), threads: { t: before } } }));
    const loaded = new StateStore(path).load();
    expect(loaded.kind === 'loaded' && loaded.state.threads.t!.goal).toBeNull();
    const store = new StateStore(path, { debounceMs: 0 });
    store.schedule(live);
    expect(store.flush()).toBe(true);
    const again = new StateStore(path).load();
    expect(again.kind === 'loaded' && again.state.threads.t!.goal).toEqual(kept);
  });

  it("a file written before threads kept their turn's diff with its turn (a `turnDiff` string) loads as no diff; a diff round-trips", () => {
    const path = tempFile();
    const live = fold([{ type: 'diff/updated', atMs: at + 4, workspace: 'ws1', threadId: 't', turnId: 'u', diff: '+x\n' }], liveState()).state;
    const { diff, ...before } = persistedPart(live).threads.t!;
    expect(diff).toEqual({ turnId: 'u', text: '+x\n', atMs: at + 4 });
    const old = { schemaVersion: STATE_SCHEMA_VERSION, savedAtMs: at, state: { ...persistedPart(live), threads: { t: { ...before, turnDiff: '+x\n' } } } };
    writeFileSync(path, JSON.stringify(old));
    const loaded = new StateStore(path).load();
    expect(loaded).toMatchObject({ kind: 'loaded' });
    if (loaded.kind !== 'loaded') return;
    expect(loaded.state.threads.t!.diff).toBeNull();
    expect(loaded.state.threads.t).not.toHaveProperty('turnDiff');

    const store = new StateStore(path, { debounceMs: 0 });
    store.schedule(live);
    expect(store.flush()).toBe(true);
    const again = new StateStore(path).load();
    expect(again.kind === 'loaded' && again.state.threads.t!.diff).toEqual({ turnId: 'u', text: '+x\n', atMs: at + 4 });
  });
});
