import type { FeedEntry } from '../../core/state/model.js';
import { oneLine, shortThreadId } from '../../core/util/text.js';

export function feedText(entries: FeedEntry[], needsInputOnly: boolean): string {
  if (entries.length === 0) return needsInputOnly ? 'nothing needs your input\n' : 'the activity feed is empty\n';
  return `${entries.map(feedLine).join('\n')}\n`;
}

/** One entry on one line: time (UTC), `!` when it waits for you, workspace, thread, kind, text. */
export function feedLine(e: FeedEntry): string {
  const time = new Date(e.atMs).toISOString().slice(11, 19);
  const thread = e.threadId ? ` ${shortThreadId(e.threadId)}` : '';
  return `${time}  ${e.needsInput ? '!' : ' '} ${e.workspace}${thread}  ${e.kind}  ${oneLine(e.text, 160)}`;
}
