import type { FeedEntry, FeedKind, JobRecord, SignalKind, SignalRecord, SupervisorState, ThreadRecord, WorkspaceRecord } from './model.js';
import { SIGNAL_KINDS } from './model.js';

export interface FeedFilter {
  needsInput?: boolean;
  workspace?: string;
  kinds?: FeedKind[];
  /** Faults only: failures, errors, stalls, disconnects. */
  faults?: boolean;
  text?: string;
  limit?: number;
}

const FAULT_KINDS: ReadonlySet<FeedKind> = new Set(['turn_failed', 'turn_interrupted', 'error', 'stalled', 'connection']);

/** A feed entry needs input while the approval or question it names is still open. */
export function needsInputNow(state: SupervisorState, entry: FeedEntry): boolean {
  if (!entry.needsInput || entry.requestKey === null) return false;
  return entry.requestKey in state.pendingApprovals || entry.requestKey in state.openQuestions;
}

/** Feed entries matching the filter, oldest first, at most `limit` (the newest ones). */
export function selectFeed(state: SupervisorState, filter: FeedFilter = {}): FeedEntry[] {
  const text = filter.text?.toLowerCase();
  const kinds = filter.kinds ? new Set(filter.kinds) : null;
  const limit = filter.limit ?? Number.POSITIVE_INFINITY;
  const out: FeedEntry[] = [];
  // Walk from the newest so a small limit does not scan the whole ring.
  for (let i = state.activityFeed.length - 1; i >= 0 && out.length < limit; i--) {
    const e = state.activityFeed[i]!;
    if (filter.needsInput && !needsInputNow(state, e)) continue;
    if (filter.workspace && e.workspace !== filter.workspace) continue;
    if (kinds && !kinds.has(e.kind)) continue;
    if (filter.faults && !FAULT_KINDS.has(e.kind)) continue;
    if (text && !matchesText(state, e, text)) continue;
    out.push(e);
  }
  return out.reverse();
}

/** The entry's words, its workspace, or the title of its thread (a failure's entry names only the error). */
function matchesText(state: SupervisorState, e: FeedEntry, text: string): boolean {
  if (e.text.toLowerCase().includes(text) || e.workspace.toLowerCase().includes(text)) return true;
  const title = e.threadId ? state.threads[e.threadId]?.title : undefined;
  return title !== undefined && title.toLowerCase().includes(text);
}

/** Unresolved signals, newest first. */
export function openSignals(state: SupervisorState): SignalRecord[] {
  return Object.values(state.signals)
    .filter((s) => s.resolvedAtMs === null)
    .sort((a, b) => b.createdAtMs - a.createdAtMs);
}

/** The job that started this turn, if one did. */
export function jobOfTurn(state: SupervisorState, turnId: string): JobRecord | undefined {
  return Object.values(state.jobs).find((job) => job.turnId === turnId);
}

/** Open, unacknowledged signals by kind: the header badges. */
export function signalCounts(state: SupervisorState): Record<SignalKind, number> {
  const counts = Object.fromEntries(SIGNAL_KINDS.map((k) => [k, 0])) as Record<SignalKind, number>;
  for (const s of openSignals(state)) if (s.acknowledgedAtMs === null) counts[s.kind]++;
  return counts;
}

/** A workspace's threads, most recently updated first (stable for equal times). */
export function threadsOf(state: SupervisorState, workspace: string): ThreadRecord[] {
  return Object.values(state.threads)
    .filter((t) => t.workspace === workspace)
    .sort((a, b) => b.updatedAtMs - a.updatedAtMs || a.id.localeCompare(b.id));
}

/** The workspaces as a plan may name them (those on other machines only by name). */
export function planWorkspaces(state: SupervisorState): { name: string; path: string; remote: boolean }[] {
  return Object.values(state.workspaces).map((w) => ({ name: w.name, path: w.path, remote: state.hosts[w.host]?.kind === 'ssh' }));
}

/** The workspaces a host serves. */
export function workspacesOnHost(state: SupervisorState, host: string): WorkspaceRecord[] {
  return Object.values(state.workspaces).filter((w) => w.host === host);
}

/**
 * The workspace of `host` a thread's directory belongs to: the one whose path is the directory
 * or its nearest parent. Threads elsewhere (another client's work on a shared app-server) are
 * not ours: null.
 */
export function workspaceForCwd(state: SupervisorState, host: string, cwd: string): string | null {
  let best: { name: string; depth: number } | null = null;
  for (const ws of workspacesOnHost(state, host)) {
    const root = ws.path.replace(/\/+$/, '');
    const inside = cwd === ws.path || cwd === root || cwd.startsWith(`${root}/`);
    if (inside && (best === null || root.length > best.depth)) best = { name: ws.name, depth: root.length };
  }
  return best?.name ?? null;
}

/**
 * The thread a person means by `ref`: its full id, or the end of it (the short id the feed,
 * dispatch and the TUI print) when only one thread's id ends so. An error names what is wrong.
 */
export function findThread(state: SupervisorState, ref: string): { thread: ThreadRecord } | { problem: string } {
  const exact = state.threads[ref];
  if (exact) return { thread: exact };
  const matches = ref.length >= 4 ? Object.values(state.threads).filter((t) => t.id.endsWith(ref)) : [];
  if (matches.length === 1) return { thread: matches[0]! };
  if (matches.length > 1) return { problem: `"${ref}" is the end of ${matches.length} thread ids (${matches.map((t) => t.id).join(', ')}); give more of it` };
  return { problem: `no thread "${ref}" (give its id, or the last 6 characters shown by feed, dispatch and status)` };
}
