/**
 * The supervisor's state: plain serializable records keyed by id (no Maps, no classes), so it
 * can be persisted, sent over a socket and compared in tests.
 *
 * Ownership: the loop holds the only live copy and changes it only through `reduce`. Records
 * are never mutated once stored (a change stores a new record); the keyed containers and the
 * feed array are updated in place so one event costs the same with 1 or 200 threads.
 * `snapshotOf` makes the copy that readers get. The reducer's lookup indexes (open signal by
 * key, job by turn, signal raise order) are derived from these records and live beside the
 * state (indexes.ts).
 */

import type { Plan } from '../contract/plan.js';
import type { PlanRun } from './planRuns.js';

export type ConnectionStatus = 'starting' | 'ready' | 'disconnected' | 'restarting' | 'stopped';

/**
 * How a host reaches its app-server: `attached` to Codex's own daemon (it outlives
 * cm-supervisor, and so do its turns), or a `private` child of ours (over ssh for ssh hosts).
 */
export type HostTransport = 'attached' | 'private';

/** Where app-servers run: this machine, another one over ssh, or a workspace's own command. */
export interface HostRecord {
  name: string;
  kind: 'local' | 'ssh' | 'command';
  /** The ssh URL, the command, or `this machine`. */
  target: string;
  status: ConnectionStatus;
  /** Of the current connection, or the last one. */
  transport: HostTransport | null;
  codexVersion: string | null;
  /** The local child behind the connection (app-server, ssh or proxy). */
  pid: number | null;
  /** Resident memory of a local app-server child (a private local host); null otherwise. */
  rssBytes: number | null;
  /** Round trip of the last health ping. */
  pingMs: number | null;
  restartCount: number;
  lastError: { message: string; stderrTail: string[]; atMs: number } | null;
  connectedAtMs: number | null;
  /** When the last connection ended: what threads did after it is told "while you were away". */
  awaySinceMs: number | null;
  /** The usage limits of the account this host's Codex runs as, as Codex last reported them. */
  rateLimits: RateLimits | null;
}

/** One usage window of the account: how much is used and when it starts again. */
export interface RateLimitWindow {
  usedPercent: number;
  windowMins: number | null;
  resetsAtMs: number | null;
}

export interface RateLimits {
  name: string | null;
  /** The shorter window (e.g. 5 hours) and the longer one (e.g. a week). */
  primary: RateLimitWindow | null;
  secondary: RateLimitWindow | null;
  /** Set while a limit is reached (Codex's word for which). */
  reached: string | null;
  atMs: number;
}

/** Events in one minute of a workspace (`minute`: epoch minutes); the last ACTIVITY_MINUTES kept. */
export interface ActivityMinute {
  minute: number;
  events: number;
}

export const ACTIVITY_MINUTES = 30;

export interface WorkspaceRecord {
  name: string;
  /** The host whose app-server serves this workspace. */
  host: string;
  /** A directory on that host. */
  path: string;
  /** Its host's connection status. */
  status: ConnectionStatus;
  stallAfterMs: number;
  /** Threads that were loaded when the app-server went away: resumed once it is back. */
  resumeThreadIds: string[];
  /** Thread events per minute, oldest first, for its activity sparkline. */
  activity: ActivityMinute[];
}

export type SignalKind = 'needs_approval' | 'failed' | 'completed' | 'stalled' | 'disconnected';
export const SIGNAL_KINDS: readonly SignalKind[] = ['needs_approval', 'failed', 'completed', 'stalled', 'disconnected'];

export interface SignalContext {
  command?: string;
  cwd?: string;
  reason?: string;
  errorMessage?: string;
  codexErrorKind?: string;
  stderrTail?: string[];
  exit?: string;
  stalledForMs?: number;
  finalMessage?: string;
  approvalKey?: string;
}

export interface SignalRecord {
  id: string;
  /** Deduplication key: one unresolved signal per key. */
  key: string;
  kind: SignalKind;
  workspace: string;
  threadId: string | null;
  turnId: string | null;
  message: string;
  context: SignalContext;
  createdAtMs: number;
  resolvedAtMs: number | null;
  acknowledgedAtMs: number | null;
}

export interface Blocker {
  kind: 'approval' | 'question' | 'error' | 'stalled' | 'disconnected';
  text: string;
}

export interface ThreadDigest {
  currentTask: string | null;
  lastActivity: { atMs: number; text: string } | null;
  nextStep: string;
  blockers: Blocker[];
}

export interface PlanStep {
  step: string;
  status: string;
}

export interface ItemSummary {
  id: string;
  type: string;
  atMs: number;
  text: string;
  status: string | null;
}

export interface TokenUsage {
  totalTokens: number;
  lastTokens: number;
  contextWindow: number | null;
}

/**
 * Goal mode (`thread/goal/*`): Codex keeps starting turns of the thread by itself until the goal
 * is complete (or paused, blocked, limited, cleared), so one completed turn is not "done".
 */
export interface ThreadGoalRecord {
  objective: string;
  /** Codex's: active, paused, blocked, usageLimited, budgetLimited, complete (a newer one as sent); `cleared` while the turn that saw it cleared still runs. */
  status: string;
  tokensUsed: number;
  tokenBudget: number | null;
  timeUsedSeconds: number;
  /** Turns started since the goal was set, the running one included. */
  turns: number;
  /** A turn completed while the goal was active: its "completed" waits for the goal to end. */
  heldCompletion: boolean;
  /** Codex's creation time (unix seconds): another value is another goal. */
  createdAt: number;
  updatedAtMs: number;
}

export interface ThreadRecord {
  id: string;
  workspace: string;
  title: string;
  cwd: string | null;
  status: string;
  waitingOnApproval: boolean;
  waitingOnUserInput: boolean;
  currentTurnId: string | null;
  lastTurn: { id: string; status: string; error: string | null } | null;
  lastEventAtMs: number | null;
  tokenUsage: TokenUsage | null;
  plan: PlanStep[];
  lastError: { message: string; codexErrorKind: string | null; atMs: number; willRetry: boolean } | null;
  stalledSinceMs: number | null;
  recentItems: ItemSummary[];
  pendingApprovalKeys: string[];
  openQuestionKeys: string[];
  lastAgentMessage: string | null;
  /** The latest file-change item: its diff is what a file-change approval asks about. */
  lastFileChange: { itemId: string; files: string[]; diff: string } | null;
  /** The latest turn's diff (`turn/diff/updated`), cut to MAX_TURN_DIFF; null once a new turn starts. */
  diff: TurnDiff | null;
  /** Goal mode: the thread's goal while it has one. */
  goal: ThreadGoalRecord | null;
  digest: ThreadDigest;
  updatedAtMs: number;
}

export interface TurnDiff {
  turnId: string;
  text: string;
  atMs: number;
}

export type JobStatus = 'queued' | 'dispatched' | 'running' | 'waiting_for_user' | 'completed' | 'failed' | 'interrupted';

export interface JobRecord {
  /** `<plan id>:<action id>`, also the idempotency key sent as clientUserMessageId. */
  key: string;
  planId: string;
  actionId: string;
  workspace: string;
  prompt: string;
  threadId: string | null;
  turnId: string | null;
  status: JobStatus;
  createdAtMs: number;
  dispatchedAtMs: number | null;
  completedAtMs: number | null;
  error: string | null;
  finalMessage: string | null;
}

export type ApprovalKind = 'command' | 'fileChange' | 'permissions';

export interface ApprovalRecord {
  /** `<workspace>#<server request id>`: request ids are per app-server process. */
  key: string;
  workspace: string;
  requestId: string | number;
  method: string;
  kind: ApprovalKind;
  threadId: string;
  turnId: string;
  itemId: string;
  command: string | null;
  cwd: string | null;
  reason: string | null;
  diff: string | null;
  files: string[];
  permissions: unknown;
  availableDecisions: string[];
  receivedAtMs: number;
}

export interface QuestionRecord {
  key: string;
  workspace: string;
  requestId: string | number;
  method: string;
  kind: 'userInput' | 'elicitation';
  threadId: string;
  turnId: string | null;
  message: string;
  questions: { id: string; header: string; question: string; options: string[]; isSecret: boolean }[];
  receivedAtMs: number;
}

export type FeedKind =
  | 'turn_started'
  | 'turn_completed'
  | 'turn_failed'
  | 'turn_interrupted'
  | 'command'
  | 'file_change'
  | 'message'
  | 'approval'
  | 'question'
  | 'error'
  | 'warning'
  | 'stalled'
  | 'connection'
  | 'dispatch';

export interface FeedEntry {
  seq: number;
  atMs: number;
  workspace: string;
  threadId: string | null;
  kind: FeedKind;
  text: string;
  needsInput: boolean;
  /** The approval or question this entry asks about; the entry needs input while it is open. */
  requestKey: string | null;
}

export interface SupervisorState {
  /** Number of events reduced so far; subscribers see it as the change sequence. */
  seq: number;
  hosts: Record<string, HostRecord>;
  workspaces: Record<string, WorkspaceRecord>;
  threads: Record<string, ThreadRecord>;
  jobs: Record<string, JobRecord>;
  /** v2 plans as they run, by plan id (planRuns.ts). */
  planRuns: Record<string, PlanRun>;
  signals: Record<string, SignalRecord>;
  nextSignalNumber: number;
  pendingApprovals: Record<string, ApprovalRecord>;
  openQuestions: Record<string, QuestionRecord>;
  activityFeed: FeedEntry[];
  feedLimit: number;
  nextFeedSeq: number;
  /** Notifications we do not understand, counted by method, for debugging. */
  unknownMethods: Record<string, number>;
  protocolErrors: number;
  warnings: string[];
  /** The conversation with the supervisor (chat), oldest first, bounded. */
  chat: ChatMessage[];
  /** How the TUIs notify, as config.json says now; null: no configuration given (not persisted: the file is the truth). */
  notifications: NotificationSettings | null;
}

export interface NotificationSettings {
  enabled: boolean;
  /** Signal kinds that notify; null: the TUI's default. */
  kinds: SignalKind[] | null;
  /** Workspaces that never notify. */
  muted: string[];
}

export const DEFAULT_FEED_LIMIT = 2_000;

/** The workspace name under which the supervisor reports its own problems. */
export const SUPERVISOR_WORKSPACE = '(supervisor)';

export function initialState(options: { feedLimit?: number } = {}): SupervisorState {
  return {
    seq: 0,
    hosts: {},
    workspaces: {},
    threads: {},
    jobs: {},
    planRuns: {},
    signals: {},
    nextSignalNumber: 1,
    pendingApprovals: {},
    openQuestions: {},
    activityFeed: [],
    feedLimit: options.feedLimit ?? DEFAULT_FEED_LIMIT,
    nextFeedSeq: 1,
    unknownMethods: {},
    protocolErrors: 0,
    warnings: [],
    chat: [],
    notifications: null,
  };
}

/** A copy readers may keep: containers are copied, records are shared (they are never mutated). */
export function snapshotOf(state: SupervisorState): SupervisorState {
  return {
    ...state,
    hosts: { ...state.hosts },
    workspaces: { ...state.workspaces },
    threads: { ...state.threads },
    jobs: { ...state.jobs },
    planRuns: { ...state.planRuns },
    signals: { ...state.signals },
    pendingApprovals: { ...state.pendingApprovals },
    openQuestions: { ...state.openQuestions },
    activityFeed: state.activityFeed.slice(),
    unknownMethods: { ...state.unknownMethods },
    warnings: state.warnings.slice(),
    chat: state.chat.slice(),
  };
}

export type ChatRole = 'user' | 'supervisor' | 'planner' | 'result' | 'error';

/** One line of the chat: what the user said, the supervisor's answers, proposals and results. */
export interface ChatMessage {
  id: string;
  atMs: number;
  role: ChatRole;
  text: string;
  /** The proposal this message shows or answers (confirm/reject by this id). */
  proposalId?: string;
  plan?: Plan;
}
