import { describe, expect, it } from 'vitest';
import { snapshotOf } from '../../src/core/state/model.js';
import { operationsRows } from '../../src/tui/viewModel.js';
import { agentMessage, turnCompleted } from '../support/events.js';
import { fold, readyState, T0 } from '../support/replay.js';
import { startedThread } from '../support/scenarios.js';

describe('operationsRows', () => {
  const live = fold([...startedThread('tA', 'install deps', T0 + 1_000), ...startedThread('tB', 'run migrations', T0 + 2_000)], readyState()).state;
  const before = snapshotOf(live);
  const after = snapshotOf(fold([agentMessage('tA', 'tA-turn', 'deps installed', T0 + 5_000)], live).state);
  const row = (rows: ReturnType<typeof operationsRows>, threadId: string) => rows.find((r) => r.threadId === threadId)!;

  it('keeps the rows of records that did not change, and derives the changed one again', () => {
    const now = T0 + 10_000;
    const [first, second] = [operationsRows(before, now), operationsRows(after, now)];
    expect(row(second, 'tB')).toBe(row(first, 'tB'));
    expect(second[0]).toBe(first[0]);
    expect(row(first, 'tA').last).not.toContain('deps installed');
    expect(row(second, 'tA').last).toContain('deps installed');
  });

  it('derives every row again when the time moves (relative times)', () => {
    const [early, late] = [operationsRows(after, T0 + 10_000), operationsRows(after, T0 + 70_000)];
    expect(row(early, 'tB').last).toMatch(/^8s ago/);
    expect(row(late, 'tB').last).toMatch(/^1m ago/);
    expect(late[0]!.last).toBe('up 1m · codex 0.171.0 · pid 4242');
  });
});

describe('a turn stopped by the usage limit', () => {
  it('reads as waiting for quota, not as the agent failing', () => {
    const state = fold(
      [...startedThread('tQ', 'run the tests', T0 + 1_000), turnCompleted('tQ', 'tQ-turn', 'failed', T0 + 2_000, { message: "You've hit your usage limit.", codexErrorInfo: 'usageLimitExceeded' })],
      readyState(),
    ).state;
    const row = operationsRows(state, T0 + 10_000).find((r) => r.threadId === 'tQ')!;
    expect(row.status).toEqual({ glyph: '⏸', word: 'quota', tone: 'warn' });
    expect(row.next).toBe('usage limit reached: retry once it resets (a plan action resumes by itself)');
    const other = fold([...startedThread('tF', 'build', T0 + 3_000), turnCompleted('tF', 'tF-turn', 'failed', T0 + 4_000, { message: 'bad request', codexErrorInfo: 'badRequest' })], state).state;
    expect(operationsRows(other, T0 + 10_000).find((r) => r.threadId === 'tF')!.status.word).toBe('failed');
  });
});
