import { computeDigest } from './digest.js';
import type { ItemSummary, SupervisorState, ThreadRecord } from './model.js';

const RECENT_ITEMS = 30;
export const UNTITLED = '(new thread)';

/**
 * The list of every thread whose list is empty (most threads wait on nothing and have no plan):
 * one object that stays in the CPU cache, where one per thread is a cache miss per event once
 * there are many threads. Frozen: lists are replaced, never changed.
 */
export const NONE = Object.freeze([]) as unknown as never[];

export function newThread(workspace: string, id: string, atMs: number): ThreadRecord {
  return {
    id,
    workspace,
    title: UNTITLED,
    cwd: null,
    status: 'notLoaded',
    waitingOnApproval: false,
    waitingOnUserInput: false,
    currentTurnId: null,
    lastTurn: null,
    lastEventAtMs: null,
    tokenUsage: null,
    plan: NONE,
    lastError: null,
    stalledSinceMs: null,
    recentItems: NONE,
    pendingApprovalKeys: NONE,
    openQuestionKeys: NONE,
    lastAgentMessage: null,
    lastFileChange: null,
    diff: null,
    goal: null,
    digest: { currentTask: null, lastActivity: null, nextStep: 'idle: awaiting instructions', blockers: [] },
    updatedAtMs: atMs,
  };
}

/**
 * A copy of the stored thread (created on first sight: events may name a thread before
 * thread/started) for one event to change and hand to `putThread`. Stored records are never
 * changed; a draft is the caller's own until it is stored.
 */
export function draftThread(state: SupervisorState, workspace: string, threadId: string, atMs: number): ThreadRecord {
  const stored = state.threads[threadId];
  return stored ? copyThread(stored) : newThread(workspace, threadId, atMs);
}

/**
 * A field-by-field copy: V8 copies a spread of a record that was itself made by a spread about
 * twenty times slower, and this runs for most events.
 */
export function copyThread(t: ThreadRecord): ThreadRecord {
  return {
    id: t.id,
    workspace: t.workspace,
    title: t.title,
    cwd: t.cwd,
    status: t.status,
    waitingOnApproval: t.waitingOnApproval,
    waitingOnUserInput: t.waitingOnUserInput,
    currentTurnId: t.currentTurnId,
    lastTurn: t.lastTurn,
    lastEventAtMs: t.lastEventAtMs,
    tokenUsage: t.tokenUsage,
    plan: t.plan,
    lastError: t.lastError,
    stalledSinceMs: t.stalledSinceMs,
    recentItems: t.recentItems,
    pendingApprovalKeys: t.pendingApprovalKeys,
    openQuestionKeys: t.openQuestionKeys,
    lastAgentMessage: t.lastAgentMessage,
    lastFileChange: t.lastFileChange,
    diff: t.diff,
    goal: t.goal,
    digest: t.digest,
    updatedAtMs: t.updatedAtMs,
  };
}

/** Stores a draft (from `draftThread` or `copyThread`, never a stored record) with its digest brought up to date. */
export function putThread(state: SupervisorState, draft: ThreadRecord): ThreadRecord {
  draft.digest = computeDigest(state, draft);
  state.threads[draft.id] = draft;
  return draft;
}

/** Recomputes the digests of a workspace's threads (after its connection changed state). */
export function refreshWorkspaceThreads(state: SupervisorState, workspace: string): void {
  for (const thread of Object.values(state.threads)) {
    if (thread.workspace === workspace) putThread(state, copyThread(thread));
  }
}

/**
 * The list with `item` stored: in place of the entry with its id, else appended (the oldest
 * dropped past RECENT_ITEMS). Only the newest `lookBack` entries are searched: each entry
 * searched is a cache miss once there are many threads, and an item that is known to be new
 * (just started) would otherwise cost a search of the whole list.
 */
export function withItem(items: ItemSummary[], item: ItemSummary, lookBack = RECENT_ITEMS): ItemSummary[] {
  // A completed item is usually among the newest: look from the end. A plain loop: V8 does not
  // inline findLastIndex's callback, which made this search ~2.5x slower.
  const stop = Math.max(0, items.length - lookBack);
  let index = items.length - 1;
  while (index >= stop && items[index]!.id !== item.id) index--;
  if (index >= stop) {
    const copy = items.slice();
    copy[index] = item;
    return copy;
  }
  // Sized once: a slice and a push would allocate the array twice (push outgrows the slice).
  const start = items.length >= RECENT_ITEMS ? items.length - RECENT_ITEMS + 1 : 0;
  const next = new Array<ItemSummary>(items.length - start + 1);
  for (let i = start; i < items.length; i++) next[i - start] = items[i]!;
  next[next.length - 1] = item;
  return next;
}

/** On a draft: items a cut stream left open are closed with the turn, or when the turn is lost. */
export function closeOpenItems(thread: ThreadRecord, status: string): void {
  const items = thread.recentItems;
  let copy: ItemSummary[] | null = null;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.status !== 'inProgress' || item.type === 'userMessage') continue;
    copy ??= items.slice();
    copy[i] = { id: item.id, type: item.type, atMs: item.atMs, text: item.text, status };
  }
  if (copy !== null) thread.recentItems = copy;
}
