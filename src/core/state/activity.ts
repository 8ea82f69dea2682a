import { ACTIVITY_MINUTES, type ActivityMinute, type SupervisorState, type ThreadRecord } from './model.js';

const MINUTE_MS = 60_000;

/**
 * Counts one live event of a workspace in its minute (an event's own time: replaying events
 * gives the same counts). Minutes more than ACTIVITY_MINUTES before the newest are dropped.
 */
export function countActivity(state: SupervisorState, workspace: string, atMs: number): void {
  const ws = state.workspaces[workspace];
  if (!ws) return;
  const minute = Math.floor(atMs / MINUTE_MS);
  const last = ws.activity[ws.activity.length - 1];
  let activity: ActivityMinute[];
  if (last?.minute === minute) {
    activity = ws.activity.slice();
    activity[activity.length - 1] = { minute, events: last.events + 1 };
  } else {
    // A new minute, or (clocks of several hosts) an earlier one: kept in order, within the window.
    const newest = Math.max(minute, last?.minute ?? minute);
    const earlier = ws.activity.find((a) => a.minute === minute);
    activity = [...ws.activity.filter((a) => a.minute !== minute), { minute, events: (earlier?.events ?? 0) + 1 }]
      .filter((a) => a.minute > newest - ACTIVITY_MINUTES)
      .sort((a, b) => a.minute - b.minute);
  }
  state.workspaces[workspace] = { ...ws, activity };
}

/** Events per minute over the last ACTIVITY_MINUTES up to `nowMs`, oldest first (0 for a quiet minute). */
export function activitySeries(activity: readonly ActivityMinute[], nowMs: number): number[] {
  const now = Math.floor(nowMs / MINUTE_MS);
  const series = new Array<number>(ACTIVITY_MINUTES).fill(0);
  for (const { minute, events } of activity) {
    const index = ACTIVITY_MINUTES - 1 - (now - minute);
    if (index >= 0 && index < ACTIVITY_MINUTES) series[index] = events;
  }
  return series;
}

/** Tokens its threads used, as Codex last counted them per thread. */
export function tokensUsed(threads: readonly ThreadRecord[]): number {
  let total = 0;
  for (const t of threads) total += t.tokenUsage?.totalTokens ?? 0;
  return total;
}
