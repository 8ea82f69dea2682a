import type { FeedEntry, FeedKind, SupervisorState } from './model.js';
import { cut, oneLine } from '../util/text.js';

type NewFeedEntry = { atMs: number; workspace: string; threadId: string | null; kind: FeedKind; text: string; needsInput?: boolean; requestKey?: string | null };

const FEED_TEXT_MAX = 300;

/**
 * Appends to the activity feed, a bounded ring. Trimming happens in batches once the feed is a
 * quarter over its limit, so appending stays O(1) amortized.
 */
export function pushFeed(state: SupervisorState, entry: NewFeedEntry): void {
  append(state, entry, oneLine(entry.text, FEED_TEXT_MAX));
}

/** `pushFeed` for a text made only of lines `oneLine` already cleaned: it is only cut. */
export function pushFeedLine(state: SupervisorState, entry: NewFeedEntry): void {
  append(state, entry, cut(entry.text, FEED_TEXT_MAX));
}

function append(state: SupervisorState, entry: NewFeedEntry, text: string): void {
  const record: FeedEntry = {
    seq: state.nextFeedSeq++,
    atMs: entry.atMs,
    workspace: entry.workspace,
    threadId: entry.threadId,
    kind: entry.kind,
    text,
    needsInput: entry.needsInput ?? false,
    requestKey: entry.requestKey ?? null,
  };
  state.activityFeed.push(record);
  const limit = state.feedLimit;
  if (state.activityFeed.length > limit + Math.max(1, Math.floor(limit / 4))) {
    state.activityFeed.splice(0, state.activityFeed.length - limit);
  }
}
