import type { Plan } from '../contract/plan.js';
import type { ApprovalDecision, SupervisorEvent } from '../state/events.js';
import type { ChatMessage, FeedEntry, SignalRecord, SupervisorState } from '../state/model.js';
import type { FeedFilter } from '../state/selectors.js';
import type { DiffFile } from '../state/turnDiff.js';

export type { DiffFile };

/** One reduced event, as subscribers see it. `seq` increases by one per event: a gap means missed changes. */
export interface StateChange {
  seq: number;
  atMs: number;
  /** `resync`: changes were missed (a gap, or a slow client); re-read the snapshot. */
  eventType: SupervisorEvent['type'] | 'resync';
  /** Signals this event raised (for notifications). */
  raised: SignalRecord[];
  /** The event itself, where the loop reduced it (what the daemon streams to its clients). */
  event?: SupervisorEvent;
}

/**
 * `planned`: a dry run resolved the target; `skipped`: the ledger shows it dispatched before (its
 * turn completed or still runs) or being dispatched right now; `interrupted`: the ledger shows it
 * dispatched, but its turn was lost (`error` says how).
 */
export type ActionDispatchStatus = 'dispatched' | 'failed' | 'skipped' | 'planned' | 'interrupted';

export interface ActionDispatchResult {
  id: string;
  workspace: string;
  status: ActionDispatchStatus;
  jobKey: string;
  threadId: string | null;
  turnId: string | null;
  error: string | null;
  /** `skipped`: when the ledger recorded the action as sent. */
  dispatchedAtMs?: number;
  /** Its turn from an earlier dispatch was lost or failed: `retryFailed` sends it again. */
  retryable?: boolean;
}

export interface DispatchOptions {
  /** Relative workspace paths in the plan are resolved against this (default: the cwd). */
  baseDir?: string;
  /** Dispatch again actions the ledger shows as dispatched. */
  force?: boolean;
  /** Validate and resolve targets, start no turn. */
  dryRun?: boolean;
  /** Dispatch again actions whose earlier turn was lost or failed (completed and running ones stay skipped). */
  retryFailed?: boolean;
  /** The user's opt-in for plan fields that widen what an agent may do (contract/planSafety.ts). */
  allowUnsafe?: boolean;
  /** A v2 plan: its unfinished actions end `timeout` this long after the dispatch (running turns are interrupted). */
  timeoutSec?: number;
}

export interface DecideOptions {
  /** As `DispatchOptions.allowUnsafe`, for the plan being confirmed. */
  allowUnsafe?: boolean;
  /** As `DispatchOptions.timeoutSec`, for the plan being confirmed (a v2 plan's deadline). */
  timeoutSec?: number;
}

export interface DispatchResult {
  planId: string;
  results: ActionDispatchResult[];
  /** A v2 plan: it runs in the loop as `state.planRuns[planId]`; wait for that run to end. */
  planRun?: boolean;
}

// ---- the supervisor chat (chat/chatService.ts implements it) ----

export type ProposalStatus = 'pending' | 'confirmed' | 'rejected';

/** A validated plan waiting for the user: confirm (possibly edited) or reject it. */
export interface Proposal {
  id: string;
  plan: Plan;
  /** The readable header and one line per action, as shown in the chat. */
  text: string;
  status: ProposalStatus;
  /** Directory paths in the plan resolve against this. */
  baseDir: string;
}

export interface SendOptions {
  /** The approval the user has selected (the TUI passes it); `/approve KEY` overrides it. */
  approvalKey?: string;
  /** The user's directory, for `/plan FILE` and relative workspace paths (a daemon's cwd is not theirs). */
  baseDir?: string;
}

/**
 * What one call did. `invalid`: the input was wrong (usage, unknown name, invalid plan);
 * `failed`: the work could not be done (planner failure, a dispatch failed).
 */
export interface ChatReply {
  status: 'ok' | 'invalid' | 'failed';
  /** The messages this call recorded, the user's own line first. */
  messages: ChatMessage[];
  /** A new proposal waiting for confirm/reject. */
  proposal: Proposal | null;
  /** Turns this call started (a slash dispatch, a mention or a confirmed proposal). */
  dispatched: DispatchResult | null;
}

// ---- acting on one thread (the TUI's act keys and the CLI's thread commands) ----

/** What `reply`/`retryTurn` did: a new turn (`started`) or input added to the running one (`steered`, reply only). */
export interface ThreadTurnResult {
  threadId: string;
  turnId: string;
  mode: 'started' | 'steered';
}

/** One item of a turn as a person reads it (terminal controls stripped; may span lines). */
export interface TranscriptItem {
  id: string;
  /** The protocol's item type: `userMessage`, `agentMessage`, `commandExecution`, `fileChange`, … */
  type: string;
  text: string;
  status: string | null;
}

export interface TranscriptTurn {
  id: string;
  /** `completed`, `failed`, `interrupted` or `inProgress`. */
  status: string;
  startedAtMs: number | null;
  completedAtMs: number | null;
  /** As Codex measured it (its start and end times are whole seconds). */
  durationMs: number | null;
  error: string | null;
  items: TranscriptItem[];
}

/** A thread's history as its host keeps it (`thread/turns/list` with full items), oldest turn first. */
export interface Transcript {
  threadId: string;
  workspace: string;
  title: string;
  turns: TranscriptTurn[];
}

/**
 * The latest turn's unified diff (`turn/diff/updated`, kept in the state, cut past MAX_TURN_DIFF
 * with a marker) and its files; `diff` is '' and `turnId` null when the thread's latest turn
 * changed nothing (yet).
 */
export interface ThreadDiff {
  threadId: string;
  turnId: string | null;
  diff: string;
  files: DiffFile[];
}

/**
 * The one interface the TUI, the CLI commands and the daemon socket use. Every method is async
 * so an in-process supervisor and a socket client can implement it alike.
 */
export interface SupervisorApi {
  snapshot(): Promise<SupervisorState>;
  feed(filter?: FeedFilter): Promise<FeedEntry[]>;
  /** Validates the plan (throws `PlanValidationError`, nothing dispatched) and dispatches it. */
  dispatch(plan: unknown, options?: DispatchOptions): Promise<DispatchResult>;
  ackSignal(signalId: string): Promise<void>;
  answerApproval(key: string, decision: ApprovalDecision): Promise<void>;
  answerQuestion(key: string, answers: Record<string, string[]>): Promise<void>;
  /** One line of the supervisor chat: a slash command, `@ws message`, or a request for the planner. */
  chatSend(line: string, options?: SendOptions): Promise<ChatReply>;
  /** Confirms (optionally with an edited plan) or rejects a proposal of the planner. */
  chatDecide(proposalId: string, decision: 'confirm' | 'reject', editedPlan?: unknown, options?: DecideOptions): Promise<ChatReply>;
  /** Stops a running turn (its pending approvals are cancelled by the server). */
  interruptTurn(threadId: string, turnId: string): Promise<void>;
  /**
   * New input for a thread: a new turn when it is idle, `turn/steer` into the running turn
   * otherwise. Rejects with exit code 2 for empty text or an unknown thread, 1 when its host is
   * not connected or Codex refuses.
   */
  reply(threadId: string, text: string): Promise<ThreadTurnResult>;
  /** The user input of the thread's last turn, when it failed or was interrupted, sent again as a new turn (exit 1 when there is none). */
  retryTurn(threadId: string): Promise<ThreadTurnResult>;
  /** The thread's turns and items as its host keeps them. */
  transcript(threadId: string): Promise<Transcript>;
  /** The thread's latest turn diff, from the state (no request to the host). */
  threadDiff(threadId: string): Promise<ThreadDiff>;
  /** `thread/archive`: the thread leaves the view (and Codex's thread list). */
  archiveThread(threadId: string): Promise<void>;
  subscribe(listener: (change: StateChange) => void): () => void;
}
