import { describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '../../../src/core/state/events.js';
import type { ThreadItem } from '../../../src/core/protocol/messages.js';
import { selectFeed } from '../../../src/core/state/selectors.js';
import { MAX_TURN_DIFF } from '../../../src/core/state/turnDiff.js';
import { fold, readyState, WS } from '../../support/replay.js';
import { turnCompleted, turnStarted } from '../../support/events.js';

const at = 1_795_697_000_000;
const T = 't';
const U = 'u';
const item = (type: 'item/started' | 'item/completed', i: ThreadItem, atMs: number): SupervisorEvent => ({
  type,
  atMs,
  workspace: WS,
  threadId: T,
  turnId: U,
  item: i,
});

describe('thread events', () => {
  it('thread/seen takes title, cwd, status flags and a still-running turn', () => {
    const { state } = fold(
      [
        {
          type: 'thread/seen',
          atMs: at,
          workspace: WS,
          thread: { id: T, title: 'Fix CI', cwd: '/repo', status: { type: 'active', activeFlags: ['waitingOnUserInput'] }, activeTurnId: U },
        },
      ],
      readyState(),
    );
    expect(state.threads[T]).toMatchObject({ title: 'Fix CI', cwd: '/repo', status: 'active', waitingOnUserInput: true, waitingOnApproval: false, currentTurnId: U });
  });

  it('status flags: set and cleared by status changes; flags of another shape (a newer Codex) wait on nothing', () => {
    const status = (atMs: number, s: unknown): SupervisorEvent =>
      ({ type: 'thread/statusChanged', atMs, workspace: WS, threadId: T, status: s }) as SupervisorEvent;
    const flagsOf = (events: SupervisorEvent[]) => {
      const t = fold(events, readyState()).state.threads[T]!;
      return { status: t.status, waitingOnApproval: t.waitingOnApproval, waitingOnUserInput: t.waitingOnUserInput };
    };
    const both = status(at, { type: 'active', activeFlags: ['waitingOnApproval', 'waitingOnUserInput'] });
    expect(flagsOf([both])).toEqual({ status: 'active', waitingOnApproval: true, waitingOnUserInput: true });
    expect(flagsOf([both, status(at + 1, { type: 'active', activeFlags: [] })])).toEqual({ status: 'active', waitingOnApproval: false, waitingOnUserInput: false });
    expect(flagsOf([both, status(at + 1, { type: 'idle' })])).toEqual({ status: 'idle', waitingOnApproval: false, waitingOnUserInput: false });
    expect(flagsOf([status(at, { type: 'active', activeFlags: 'waitingOnApproval' })])).toEqual({ status: 'active', waitingOnApproval: false, waitingOnUserInput: false });
    expect(flagsOf([status(at, { type: 'active' })])).toEqual({ status: 'active', waitingOnApproval: false, waitingOnUserInput: false });
  });

  it('thread/renamed renames; a null name keeps the title', () => {
    const { state } = fold(
      [
        { type: 'thread/renamed', atMs: at, workspace: WS, threadId: T, name: 'Release 1.2' },
        { type: 'thread/renamed', atMs: at + 1, workspace: WS, threadId: T, name: null },
      ],
      readyState(),
    );
    expect(state.threads[T]!.title).toBe('Release 1.2');
  });

  it('thread/closed unloads the thread and ends its turn; a close of an unknown thread is ignored', () => {
    const { state } = fold(
      [turnStarted(T, U, at), { type: 'thread/closed', atMs: at + 1, workspace: WS, threadId: T }, { type: 'thread/closed', atMs: at + 1, workspace: WS, threadId: 'zz' }],
      readyState(),
    );
    expect(state.threads[T]).toMatchObject({ status: 'notLoaded', currentTurnId: null });
    expect(state.threads.zz).toBeUndefined();
  });
});

describe('items, plan and diff', () => {
  it('the next step follows the plan while the turn runs', () => {
    const state = fold([turnStarted(T, U, at)], readyState()).state;
    fold(
      [
        {
          type: 'plan/updated',
          atMs: at + 1,
          workspace: WS,
          threadId: T,
          turnId: U,
          plan: [
            { step: 'read the code', status: 'completed' },
            { step: 'write the fix', status: 'inProgress' },
            { step: 'run tests', status: 'pending' },
          ],
        },
      ],
      state,
    );
    expect(state.threads[T]!.digest.nextStep).toBe('write the fix');
    fold([turnCompleted(T, U, 'completed', at + 2)], state);
    expect(state.threads[T]!.digest.nextStep).toBe('idle: awaiting instructions');
    // A new turn starts with an empty plan.
    fold([turnStarted(T, 'u2', at + 3)], state);
    expect(state.threads[T]!.plan).toEqual([]);
    expect(state.threads[T]!.digest.nextStep).toBe('working on the current turn');
  });

  it('stores plan steps as clean single lines and shows the first open one, cut, as the next step', () => {
    const long = `run the whole\n  suite \u001b[31m${'again '.repeat(40)}`;
    const { state } = fold(
      [turnStarted(T, U, at), { type: 'plan/updated', atMs: at + 1, workspace: WS, threadId: T, turnId: U, plan: [{ step: long, status: 'pending' }] }],
      readyState(),
    );
    const step = state.threads[T]!.plan[0]!.step;
    expect(step.startsWith('run the whole suite again again')).toBe(true);
    expect(step).not.toMatch(/[\u001b\n]|\s\s/);
    const next = state.threads[T]!.digest.nextStep;
    expect(next).toHaveLength(100);
    expect(next.endsWith('…')).toBe(true);
    expect(step.startsWith(next.slice(0, -1))).toBe(true);
  });

  it('keeps the turn diff with its turn, cut at a line end past MAX_TURN_DIFF; a new turn clears it', () => {
    const huge = `${'+x'.repeat(50)}\n`.repeat(4000);
    const { state } = fold([turnStarted(T, U, at), { type: 'diff/updated', atMs: at + 1, workspace: WS, threadId: T, turnId: U, diff: huge }], readyState());
    const diff = state.threads[T]!.diff!;
    expect(diff).toMatchObject({ turnId: U, atMs: at + 1 });
    expect(diff.text.length).toBeLessThanOrEqual(MAX_TURN_DIFF);
    expect(diff.text.endsWith(`… (diff truncated: ${Math.round(huge.length / 1024)} KB in all)\n`)).toBe(true);
    // Cut between lines: every kept line is whole.
    expect(diff.text.split('\n').slice(0, -2).every((l) => l === '+x'.repeat(50))).toBe(true);
    const next = fold([turnStarted(T, 'turn-2', at + 2)], state).state;
    expect(next.threads[T]!.diff).toBeNull();
  });

  it('a completed file change is reported with its files', () => {
    const change: ThreadItem = { type: 'fileChange', id: 'f', status: 'completed', changes: [{ path: 'a.ts', diff: '+1' }, { path: 'b.ts' }] };
    const { state } = fold([turnStarted(T, U, at), item('item/started', { ...change, status: 'inProgress' }, at + 1), item('item/completed', change, at + 2)], readyState());
    expect(selectFeed(state, { kinds: ['file_change'] }).map((e) => e.text)).toEqual(['edited 2 files: a.ts, b.ts']);
    expect(state.threads[T]!.digest.lastActivity?.text).toBe('edited 2 files: a.ts, b.ts');
    expect(state.threads[T]!.lastFileChange).toEqual({ itemId: 'f', files: ['a.ts', 'b.ts'], diff: '+1\n' });
  });

  it('a failed command shows its exit code', () => {
    const { state } = fold(
      [turnStarted(T, U, at), item('item/completed', { type: 'commandExecution', id: 'c', command: "/bin/bash -lc 'npm test'", status: 'failed', exitCode: 1 }, at + 1)],
      readyState(),
    );
    expect(selectFeed(state).at(-1)?.text).toBe('ran `npm test` (exit 1)');
  });

  it('recent items are bounded and an item updates in place', () => {
    const events: SupervisorEvent[] = [turnStarted(T, U, at)];
    for (let i = 0; i < 50; i++) {
      events.push(item('item/started', { type: 'commandExecution', id: `c${i}`, command: `echo ${i}`, status: 'inProgress' }, at + 2 * i + 1));
      events.push(item('item/completed', { type: 'commandExecution', id: `c${i}`, command: `echo ${i}`, status: 'completed', exitCode: 0 }, at + 2 * i + 2));
    }
    const { state } = fold(events, readyState());
    const items = state.threads[T]!.recentItems;
    expect(items).toHaveLength(30);
    expect(items.at(-1)).toMatchObject({ id: 'c49', status: 'completed', text: 'echo 49 (exit 0)' });
    expect(items[0]!.id).toBe('c20');
  });

  it('items a cut stream left open are closed with the turn', () => {
    const { state } = fold(
      [
        turnStarted(T, U, at),
        item('item/started', { type: 'commandExecution', id: 'c', command: 'sleep 100', status: 'inProgress' }, at + 1),
        turnCompleted(T, U, 'interrupted', at + 2),
      ],
      readyState(),
    );
    expect(state.threads[T]!.recentItems.at(-1)?.status).toBe('interrupted');
  });
});
