import { describe, expect, it } from 'vitest';
import { activitySeries, tokensUsed } from '../../../src/core/state/activity.js';
import type { SupervisorEvent } from '../../../src/core/state/events.js';
import { rateLimitWords } from '../../../src/core/state/hostText.js';
import { normalizeNotification } from '../../../src/core/state/normalize.js';
import { formatTokens, sparkline } from '../../../src/core/util/text.js';
import { progress, threadSeen, turnStarted } from '../../support/events.js';
import { fold, HOST, readyState, T0, WS } from '../../support/replay.js';

const MINUTE = 60_000;

/** `account/rateLimits/updated` as Codex 0.171 sends it, through normalize. */
function limitsUpdate(rateLimits: Record<string, unknown>, atMs: number): SupervisorEvent {
  const event = normalizeNotification(HOST, HOST, {
    method: 'account/rateLimits/updated',
    params: { rateLimits: { limitId: 'codex', limitName: null, primary: null, secondary: null, credits: null, rateLimitReachedType: null, ...rateLimits } },
    emittedAtMs: atMs,
    receivedAtMs: atMs,
  });
  expect(event?.type).toBe('host/rateLimits');
  return event!;
}

describe('usage: rate limits, tokens and activity', () => {
  it("keeps the account's limits per host; a sparse update leaves what it does not say, a reached limit shows until a snapshot without it", () => {
    const resetSec = (T0 + 2 * 3600_000) / 1000;
    let { state } = fold([limitsUpdate({ primary: { usedPercent: 42, windowDurationMins: 300, resetsAt: resetSec }, secondary: { usedPercent: 13, windowDurationMins: 10080, resetsAt: null } }, T0)], readyState());
    expect(state.hosts[HOST]!.rateLimits).toEqual({
      name: null,
      primary: { usedPercent: 42, windowMins: 300, resetsAtMs: T0 + 2 * 3600_000 },
      secondary: { usedPercent: 13, windowMins: 10080, resetsAtMs: null },
      reached: null,
      atMs: T0,
    });
    expect(rateLimitWords(state.hosts[HOST]!.rateLimits, T0)).toBe('5h 42% used (resets in 2h 00m) · 7d 13% used');
    // Codex's empty rolling update (what the mock provider gets after every response) changes nothing.
    ({ state } = fold([limitsUpdate({}, T0 + 1000)], state));
    expect(state.hosts[HOST]!.rateLimits).toMatchObject({ primary: { usedPercent: 42 }, secondary: { usedPercent: 13 } });
    ({ state } = fold([limitsUpdate({ primary: { usedPercent: 100, windowDurationMins: 300 }, rateLimitReachedType: 'rate_limit_reached' }, T0 + 2000)], state));
    expect(rateLimitWords(state.hosts[HOST]!.rateLimits, T0 + 2000)).toBe('limit reached (rate_limit_reached) · 5h 100% used · 7d 13% used');
    ({ state } = fold([limitsUpdate({}, T0 + 3000)], state));
    expect(state.hosts[HOST]!.rateLimits!.reached).toBeNull();
    expect(rateLimitWords(null, T0)).toBe('');
  });

  it("counts a workspace's live events per minute for 30 minutes, in the events' own time", () => {
    const thread = 't-1';
    const events: SupervisorEvent[] = [threadSeen(thread, T0), turnStarted(thread, 'u1', T0)];
    for (let i = 0; i < 3; i++) events.push(progress(thread, 'u1', T0 + 1000 + i));
    for (let i = 0; i < 5; i++) events.push(progress(thread, 'u1', T0 + 10 * MINUTE + i));
    const { state } = fold(events, readyState());
    const series = activitySeries(state.workspaces[WS]!.activity, T0 + 10 * MINUTE);
    expect(series).toHaveLength(30);
    // The turn's start and three deltas ten minutes ago; five now; a thread seen is not activity.
    expect(series[29]).toBe(5);
    expect(series[19]).toBe(4);
    expect(series.reduce((a, b) => a + b)).toBe(9);
    // Minutes older than 30 fall out of the record as new ones come.
    const later = fold([progress(thread, 'u1', T0 + 35 * MINUTE)], state).state;
    expect(later.workspaces[WS]!.activity.map((a) => a.events)).toEqual([5, 1]);
    expect(activitySeries(later.workspaces[WS]!.activity, T0 + 35 * MINUTE).reduce((a, b) => a + b)).toBe(6);
    // An event stamped a minute earlier (another host's clock) is counted in its minute, in order.
    const skewed = fold([progress(thread, 'u1', T0 + 34 * MINUTE)], later).state;
    expect(skewed.workspaces[WS]!.activity.map((a) => [a.minute - Math.floor(T0 / MINUTE), a.events])).toEqual([
      [10, 5],
      [34, 1],
      [35, 1],
    ]);
  });

  it('sums tokens over threads; prints counts as people read them', () => {
    expect(tokensUsed([])).toBe(0);
    expect(formatTokens(950)).toBe('950');
    expect(formatTokens(12_345)).toBe('12k');
    expect(formatTokens(1_234)).toBe('1.2k');
    expect(formatTokens(4_100_000)).toBe('4.1M');
    expect(sparkline([0, 1, 2, 4, 8])).toBe(' ▁▂▄█');
    expect(sparkline([0, 0])).toBe('  ');
  });
});
