import type { ChatReply, SendOptions } from '../chat/chatService.js';
import type { ApprovalDecision, SupervisorEvent } from '../state/events.js';
import type { FeedEntry, SignalRecord, SupervisorState } from '../state/model.js';
import type { FeedFilter } from '../state/selectors.js';

/** One reduced event, as subscribers see it. `seq` increases by one per event: a gap means missed changes. */
export interface StateChange {
  seq: number;
  atMs: number;
  /** `resync`: changes were missed (a gap, or a slow client); re-read the snapshot. */
  eventType: SupervisorEvent['type'] | 'resync';
  /** Signals this event raised (for notifications). */
  raised: SignalRecord[];
}

/** `planned`: a dry run resolved the target; `skipped`: the ledger shows it was dispatched before. */
export type ActionDispatchStatus = 'dispatched' | 'failed' | 'skipped' | 'planned';

export interface ActionDispatchResult {
  id: string;
  workspace: string;
  status: ActionDispatchStatus;
  jobKey: string;
  threadId: string | null;
  turnId: string | null;
  error: string | null;
}

export interface DispatchOptions {
  /** Relative workspace paths in the plan are resolved against this (default: the cwd). */
  baseDir?: string;
  /** Dispatch again actions the ledger shows as dispatched. */
  force?: boolean;
  /** Validate and resolve targets, start no turn. */
  dryRun?: boolean;
}

export interface DispatchResult {
  planId: string;
  results: ActionDispatchResult[];
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
  chatDecide(proposalId: string, decision: 'confirm' | 'reject', editedPlan?: unknown): Promise<ChatReply>;
  /** Stops a running turn (its pending approvals are cancelled by the server). */
  interruptTurn(threadId: string, turnId: string): Promise<void>;
  subscribe(listener: (change: StateChange) => void): () => void;
}
