import { oneLine } from '../util/text.js';
import type { Effect, SupervisorEvent } from './events.js';
import { pushFeed } from './feed.js';
import type { SupervisorState } from './model.js';
import { clearRequest } from './reduceRequests.js';
import { resolveSignalsWhere } from './signals.js';

type ThreadActionEvent = Extract<SupervisorEvent, { type: 'thread/archived' | 'thread/replied' }>;

const REPLY_WORDS: Record<Extract<ThreadActionEvent, { type: 'thread/replied' }>['how'], string> = {
  reply: 'you replied',
  steer: 'you added to the running turn',
  retry: 'you retried the failed turn',
};

/** What a person did to one thread from the view or the CLI: replied, retried, archived. */
export function reduceThreadAction(state: SupervisorState, effects: Effect[], event: ThreadActionEvent): void {
  const { atMs } = event;
  switch (event.type) {
    case 'thread/replied':
      pushFeed(state, { atMs, workspace: event.workspace, threadId: event.threadId, kind: 'dispatch', text: `${REPLY_WORDS[event.how]}: ${event.text}` });
      return;
    case 'thread/archived':
      archive(state, effects, event.threadId, atMs);
      return;
  }
}

/** The thread leaves the state with what waits on it: its requests are refused, its signals resolved. */
function archive(state: SupervisorState, effects: Effect[], threadId: string, atMs: number): void {
  const thread = state.threads[threadId];
  if (!thread) return;
  for (const request of [...Object.values(state.pendingApprovals), ...Object.values(state.openQuestions)]) {
    if (request.threadId !== threadId) continue;
    effects.push({ type: 'rejectServerRequest', workspace: request.workspace, requestId: request.requestId, message: 'the thread was archived' });
    clearRequest(state, request.key, atMs);
  }
  delete state.threads[threadId];
  resolveSignalsWhere(state, atMs, (s) => s.threadId === threadId);
  const workspace = state.workspaces[thread.workspace];
  if (workspace?.resumeThreadIds.includes(threadId)) {
    state.workspaces[workspace.name] = { ...workspace, resumeThreadIds: workspace.resumeThreadIds.filter((id) => id !== threadId) };
  }
  pushFeed(state, { atMs, workspace: thread.workspace, threadId, kind: 'dispatch', text: `archived: ${oneLine(thread.title, 200)}` });
}
