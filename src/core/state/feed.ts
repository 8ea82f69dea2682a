import type { FeedEntry, FeedKind, SupervisorState } from './model.js';
import { oneLine } from '../util/text.js';

/**
 * Appends to the activity feed, a bounded ring. Trimming happens in batches once the feed is a
 * quarter over its limit, so appending stays O(1) amortized.
 */
export function pushFeed(
  state: SupervisorState,
  entry: { atMs: number; workspace: string; threadId: string | null; kind: FeedKind; text: string; needsInput?: boolean; requestKey?: string | null },
): void {
  const record: FeedEntry = {
    seq: state.nextFeedSeq++,
    atMs: entry.atMs,
    workspace: entry.workspace,
    threadId: entry.threadId,
    kind: entry.kind,
    text: oneLine(entry.text, 300),
    needsInput: entry.needsInput ?? false,
    requestKey: entry.requestKey ?? null,
  };
  state.activityFeed.push(record);
  const limit = state.feedLimit;
  if (state.activityFeed.length > limit + Math.max(1, Math.floor(limit / 4))) {
    state.activityFeed.splice(0, state.activityFeed.length - limit);
  }
}
