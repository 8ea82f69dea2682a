import type { FeedEntry, SupervisorState, ThreadRecord } from '../../core/state/model.js';
import { isDocView, type KeyContext } from '../keymap.js';
import type { OpsRow, QueueItem } from '../viewModel.js';
import { clampIndex } from '../window.js';
import type { UiState } from './uiState.js';

/** What the lists show now (derived from supervisor state by the App). */
export interface Lists {
  rows: OpsRow[];
  feed: FeedEntry[];
  queue: QueueItem[];
}

/** The selected index of a list, kept inside it; while a question is answered, on that question. */
export function selectedIndex(ui: UiState, lists: Lists, list: keyof UiState['selected']): number {
  if (list === 'approvals' && ui.overlay?.kind === 'answer') {
    const key = ui.overlay.key;
    const at = lists.queue.findIndex((q) => q.kind === 'question' && q.question.key === key);
    if (at !== -1) return at;
  }
  const count = list === 'ops' ? lists.rows.length : list === 'feed' ? lists.feed.length : lists.queue.length;
  return clampIndex(ui.selected[list], count);
}

/** The thread the act keys work on: the selected row's, or the one a thread view shows. */
export function actedThread(ui: UiState, lists: Lists, state: SupervisorState): ThreadRecord | null {
  const id = isDocView(ui.view) ? ui.threadId : ui.view === 'ops' ? (lists.rows[selectedIndex(ui, lists, 'ops')]?.threadId ?? null) : null;
  return id ? (state.threads[id] ?? null) : null;
}

export function selectedApprovalKey(ui: UiState, lists: Lists, state: SupervisorState): string | null {
  if (ui.view === 'approvals') {
    const item = lists.queue[selectedIndex(ui, lists, 'approvals')];
    return item?.kind === 'approval' ? item.approval.key : null;
  }
  if (ui.view === 'detail' && ui.threadId) return state.threads[ui.threadId]?.pendingApprovalKeys[0] ?? null;
  return null;
}

export function keyContext(ui: UiState, lists: Lists, state: SupervisorState, scrollable = false): KeyContext {
  return { thread: actedThread(ui, lists, state), approval: selectedApprovalKey(ui, lists, state) !== null, proposal: ui.proposal !== null, scrollable };
}
