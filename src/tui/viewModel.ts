import type { ApprovalRecord, FeedEntry, HostRecord, QuestionRecord, SupervisorState, ThreadRecord, WorkspaceRecord } from '../core/state/model.js';
import { openSignals, selectFeed, signalCounts } from '../core/state/selectors.js';
import { approvalSubject } from '../core/state/digest.js';
import { activitySeries, tokensUsed } from '../core/state/activity.js';
import { hostHealth, transportWords, windowUsage } from '../core/state/hostText.js';
import { formatTokens, oneLine, sparkline } from '../core/util/text.js';
import { relativeTime } from '../core/util/time.js';

/**
 * Pure selectors from supervisor state to what the screen shows. Components only lay these
 * out; nothing here renders or does IO, so it is tested without a terminal.
 */

export type Tone = 'ok' | 'warn' | 'error' | 'info' | 'dim' | 'accent' | 'plain';

export interface StatusCell {
  glyph: string;
  word: string;
  tone: Tone;
}

export function workspaceStatus(w: Pick<WorkspaceRecord, 'status'>): StatusCell {
  switch (w.status) {
    case 'ready':
      return { glyph: '●', word: 'ready', tone: 'ok' };
    case 'starting':
      return { glyph: '◌', word: 'starting', tone: 'info' };
    case 'restarting':
      return { glyph: '↻', word: 'restarting', tone: 'warn' };
    case 'disconnected':
      return { glyph: '✕', word: 'down', tone: 'error' };
    case 'stopped':
      return { glyph: '○', word: 'stopped', tone: 'dim' };
  }
}

export function threadStatus(t: ThreadRecord): StatusCell {
  if (t.pendingApprovalKeys.length > 0 || t.waitingOnApproval) return { glyph: '!', word: 'approval', tone: 'warn' };
  if (t.openQuestionKeys.length > 0 || t.waitingOnUserInput) return { glyph: '?', word: 'question', tone: 'warn' };
  if (t.stalledSinceMs !== null) return { glyph: '⏸', word: 'stalled', tone: 'warn' };
  if (t.currentTurnId !== null) return { glyph: '▶', word: 'running', tone: 'info' };
  if (t.lastTurn?.status === 'failed' && t.lastError?.codexErrorKind === 'usageLimitExceeded') return { glyph: '⏸', word: 'quota', tone: 'warn' };
  if (t.lastTurn?.status === 'failed') return { glyph: '✗', word: 'failed', tone: 'error' };
  if (t.lastTurn?.status === 'interrupted') return { glyph: '✗', word: 'interrupted', tone: 'error' };
  if (t.lastTurn?.status === 'completed') return { glyph: '✓', word: 'done', tone: 'ok' };
  if (t.status === 'notLoaded') return { glyph: '·', word: 'not loaded', tone: 'dim' };
  return { glyph: '·', word: 'idle', tone: 'dim' };
}

export interface OpsRow {
  key: string;
  kind: 'host' | 'workspace' | 'thread' | 'plan' | 'action';
  workspace: string;
  threadId: string | null;
  status: StatusCell;
  name: string;
  task: string;
  last: string;
  next: string;
  blockers: string;
  blockerTone: Tone;
  /** Tokens used (`12k tok`), '' when none: a thread's own, a workspace's summed over its threads. */
  tokens: string;
  /** `blockers` one by one: the two-line rows and the detail strip leave out those the row already says. */
  blockerList: string[];
  /** More lines for the detail strip (a plan action's attempts). */
  details?: { label: string; text: string; tone: Tone }[];
}

const newestFirst = (a: ThreadRecord, b: ThreadRecord): number => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** Threads in a stable order: newest first by id (UUIDv7 ids sort by creation time). */
export function threadsInOrder(state: SupervisorState, workspace: string): ThreadRecord[] {
  return Object.values(state.threads)
    .filter((t) => t.workspace === workspace)
    .sort(newestFirst);
}

/** Every workspace's threads in `threadsInOrder`'s order, in one pass over the threads. */
function threadsByWorkspace(state: SupervisorState): Map<string, ThreadRecord[]> {
  const byWorkspace = new Map<string, ThreadRecord[]>();
  for (const t of Object.values(state.threads)) {
    const list = byWorkspace.get(t.workspace);
    if (list) list.push(t);
    else byWorkspace.set(t.workspace, [t]);
  }
  for (const list of byWorkspace.values()) list.sort(newestFirst);
  return byWorkspace;
}

/** Each host that serves workspaces, its health, then its workspaces, each followed by its threads. */
export function operationsRows(state: SupervisorState, nowMs: number): OpsRow[] {
  const rows: OpsRow[] = [];
  // Grouped once: filtering all threads per workspace costs workspaces × threads on every frame.
  const threads = threadsByWorkspace(state);
  const workspaces = new Map<string, WorkspaceRecord[]>();
  for (const w of Object.values(state.workspaces)) workspaces.set(w.host, [...(workspaces.get(w.host) ?? []), w]);
  for (const [name, list] of workspaces) {
    const host = state.hosts[name];
    if (host) rows.push(remembered(host, nowMs, hostRow));
    for (const w of list) {
      // Tokens follow the threads: the row is derived again at the next tick of the clock.
      rows.push(remembered(w, nowMs, (ws, now) => workspaceRow(ws, now, threads.get(w.name) ?? [])));
      for (const t of threads.get(w.name) ?? []) rows.push(remembered(t, nowMs, threadRow));
    }
  }
  return rows;
}

/**
 * Rows by record and time: records are replaced, never changed, when state changes, and a
 * change touches a thread or two, so the other rows are not derived again on every frame.
 */
const rowCache = new WeakMap<HostRecord | WorkspaceRecord | ThreadRecord, { nowMs: number; row: OpsRow }>();

function remembered<R extends HostRecord | WorkspaceRecord | ThreadRecord>(record: R, nowMs: number, derive: (record: R, nowMs: number) => OpsRow): OpsRow {
  const hit = rowCache.get(record);
  if (hit && hit.nowMs === nowMs) return hit.row;
  const row = derive(record, nowMs);
  rowCache.set(record, { nowMs, row });
  return row;
}

function hostRow(h: HostRecord, nowMs: number): OpsRow {
  const error = h.status !== 'ready' && h.lastError ? oneLine(h.lastError.message, 200) : '';
  const up = h.status === 'ready' && h.connectedAtMs ? `up ${relativeTime(h.connectedAtMs, nowMs).replace(' ago', '')}` : '';
  return {
    key: `host:${h.name}`,
    kind: 'host',
    workspace: '',
    threadId: null,
    status: workspaceStatus(h),
    name: `▣ ${h.name}`,
    task: [h.target, transportWords(h)].filter(Boolean).join(' · '),
    // connectedAtMs outlives the connection (the restart backoff uses it): only a ready host is "up".
    last: h.status === 'ready' ? [up, hostHealth(h)].filter(Boolean).join(' · ') : error && h.lastError ? `${relativeTime(h.lastError.atMs, nowMs)} ${error}` : '',
    next: h.status === 'restarting' ? `reconnect #${h.restartCount}` : h.status === 'disconnected' ? 'down: see the error' : h.status === 'ready' ? transportWords(h) : '',
    blockers: error,
    blockerTone: error ? 'error' : 'plain',
    tokens: '',
    blockerList: error ? [error] : [],
  };
}

/** The last 30 minutes in 15 bars of two minutes each: it fits the column at 80x24. */
function activityBars(w: WorkspaceRecord, nowMs: number): string {
  const minutes = activitySeries(w.activity, nowMs);
  if (!minutes.some((n) => n > 0)) return '';
  const pairs: number[] = [];
  for (let i = 0; i < minutes.length; i += 2) pairs.push(minutes[i]! + (minutes[i + 1] ?? 0));
  return sparkline(pairs);
}

function workspaceRow(w: WorkspaceRecord, nowMs: number, threads: readonly ThreadRecord[]): OpsRow {
  const tokens = tokensUsed(threads);
  return {
    key: `ws:${w.name}`,
    kind: 'workspace',
    workspace: w.name,
    threadId: null,
    status: workspaceStatus(w),
    name: w.name,
    task: w.path,
    last: activityBars(w, nowMs),
    next: w.status === 'disconnected' ? `host ${w.host} is down` : '',
    blockers: '',
    blockerTone: 'plain',
    tokens: tokenWords(tokens),
    blockerList: [],
  };
}

function threadRow(t: ThreadRecord, nowMs: number): OpsRow {
  const d = t.digest;
  // The digest cuts a failure's reason to fit a line; the row keeps it whole for the detail strip.
  const reason = t.lastTurn?.status === 'failed' && t.currentTurnId === null && t.lastError ? t.lastError.message : null;
  const lastText = reason !== null && d.lastActivity?.text.startsWith('failed: ') ? `failed: ${reason}` : d.lastActivity ? oneLine(d.lastActivity.text, 500) : '';
  const blockers = d.blockers.map((b) => (b.kind === 'error' && t.lastError ? `error: ${t.lastError.message}` : b.text));
  return {
    key: `th:${t.id}`,
    kind: 'thread',
    workspace: t.workspace,
    threadId: t.id,
    status: threadStatus(t),
    name: `└ ${oneLine(t.title, 60)}`,
    task: oneLine(d.currentTask ?? '', 500),
    last: d.lastActivity ? `${relativeTime(d.lastActivity.atMs, nowMs)} ${lastText}` : '',
    next: oneLine(d.nextStep, 500),
    blockers: blockers.join('; '),
    blockerTone: d.blockers.some((b) => b.kind === 'error' || b.kind === 'disconnected') ? 'error' : d.blockers.length > 0 ? 'warn' : 'plain',
    tokens: tokenWords(t.tokenUsage?.totalTokens ?? 0),
    blockerList: blockers,
  };
}

const tokenWords = (tokens: number): string => (tokens > 0 ? `${formatTokens(tokens)} tok` : '');

export interface Column {
  key: 'status' | 'name' | 'tokens' | 'task' | 'last' | 'next' | 'blockers';
  title: string;
  width: number;
}

/** From this width on, the operations view is a table of one-line rows; below it, thread rows take two lines. */
export const WIDE_LAYOUT = 120;

/** Columns of the one-line table (at least WIDE_LAYOUT columns): each text shares the width that is left. */
export function columnsFor(width: number): Column[] {
  const fixed: Column[] = [
    { key: 'status', title: 'STATUS', width: 13 },
    // Narrower up to 150 columns, so the tokens leave the texts about as wide as they were without them.
    { key: 'name', title: 'WORKSPACE / THREAD', width: width >= 150 ? 24 : 22 },
    { key: 'tokens', title: 'TOKENS', width: 8 },
  ];
  const flexible: Column['key'][] = ['task', 'last', 'next', 'blockers'];
  const titles: Record<string, string> = { task: 'TASK', last: 'LAST ACTIVITY', next: 'NEXT STEP', blockers: 'BLOCKERS' };
  const rest = Math.max(10, width - fixed.reduce((n, c) => n + c.width + 1, 0));
  const each = Math.floor(rest / flexible.length);
  const columns = flexible.map((key, i) => ({ key, title: titles[key]!, width: i === flexible.length - 1 ? rest - each * (flexible.length - 1) - 1 : each - 1 }));
  return [...fixed, ...columns];
}

export interface HeaderModel {
  workspaces: { total: number; ready: number; down: number };
  threads: { total: number; running: number; waiting: number };
  badges: { kind: string; count: number; tone: Tone }[];
  codexVersions: string[];
  /** The most used of the accounts' limits (`5h 42% · 7d 13%`), or null before Codex reports any. */
  limits: { text: string; tone: Tone } | null;
}

const BADGE_TONES: Record<string, Tone> = { needs_approval: 'warn', failed: 'error', stalled: 'warn', disconnected: 'error', completed: 'ok' };

export function headerModel(state: SupervisorState): HeaderModel {
  const ws = Object.values(state.workspaces);
  const threads = Object.values(state.threads);
  const counts = signalCounts(state);
  return {
    workspaces: {
      total: ws.length,
      ready: ws.filter((w) => w.status === 'ready').length,
      down: ws.filter((w) => w.status === 'disconnected' || w.status === 'restarting').length,
    },
    threads: {
      total: threads.length,
      running: threads.filter((t) => t.currentTurnId !== null).length,
      waiting: threads.filter((t) => t.pendingApprovalKeys.length > 0 || t.openQuestionKeys.length > 0).length,
    },
    badges: Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([kind, count]) => ({ kind, count, tone: BADGE_TONES[kind] ?? 'plain' })),
    codexVersions: [...new Set(Object.values(state.hosts).flatMap((h) => (h.codexVersion ? [h.codexVersion] : [])))],
    limits: limitsMeter(state),
  };
}

function limitsMeter(state: SupervisorState): HeaderModel['limits'] {
  const limits = Object.values(state.hosts).flatMap((h) => (h.rateLimits ? [h.rateLimits] : []));
  const reached = limits.find((l) => l.reached);
  if (reached) return { text: `reached (${reached.reached})`, tone: 'error' };
  // Hosts may run as different accounts: the one closest to its limit is the one to watch.
  const used = (l: (typeof limits)[number]) => Math.max(l.primary?.usedPercent ?? 0, l.secondary?.usedPercent ?? 0);
  const worst = limits.filter((l) => l.primary || l.secondary).sort((a, b) => used(b) - used(a))[0];
  if (!worst) return null;
  const text = [worst.primary, worst.secondary].flatMap((w) => (w ? [windowUsage(w)] : [])).join(' · ');
  return { text, tone: used(worst) >= 90 ? 'error' : used(worst) >= 70 ? 'warn' : 'plain' };
}

export type QueueItem = { kind: 'approval'; approval: ApprovalRecord } | { kind: 'question'; question: QuestionRecord };

/** Everything waiting for the person, oldest first, across workspaces. */
export function needsYouQueue(state: SupervisorState): QueueItem[] {
  const items: (QueueItem & { at: number })[] = [
    ...Object.values(state.pendingApprovals).map((approval) => ({ kind: 'approval' as const, approval, at: approval.receivedAtMs })),
    ...Object.values(state.openQuestions).map((question) => ({ kind: 'question' as const, question, at: question.receivedAtMs })),
  ];
  return items.sort((a, b) => a.at - b.at).map(({ at: _at, ...item }) => item as QueueItem);
}

export function queueItemTitle(state: SupervisorState, item: QueueItem): string {
  if (item.kind === 'approval') {
    const a = item.approval;
    return `${a.workspace} · ${oneLine(state.threads[a.threadId]?.title ?? a.threadId, 40)} · ${approvalSubject(a)}`;
  }
  const q = item.question;
  return `${q.workspace} · ${oneLine(state.threads[q.threadId]?.title ?? q.threadId, 40)} · question: ${oneLine(q.message, 80)}`;
}

export interface FeedViewFilter {
  needsInput: boolean;
  faults: boolean;
  text: string;
}

/** Feed entries for the feed pane, newest first. */
export function feedRows(state: SupervisorState, filter: FeedViewFilter, limit: number): FeedEntry[] {
  return selectFeed(state, {
    ...(filter.needsInput ? { needsInput: true } : {}),
    ...(filter.faults ? { faults: true } : {}),
    ...(filter.text ? { text: filter.text } : {}),
    limit,
  }).reverse();
}

export function openSignalCount(state: SupervisorState): number {
  return openSignals(state).filter((s) => s.acknowledgedAtMs === null).length;
}
