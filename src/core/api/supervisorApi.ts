import type { Plan } from '../contract/plan.js';
import type { ApprovalDecision, SupervisorEvent } from '../state/events.js';
import type { FeedEntry, SignalRecord, SupervisorState } from '../state/model.js';
import type { FeedFilter } from '../state/selectors.js';

/** One reduced event, as subscribers see it. `seq` increases by one per event: a gap means missed changes. */
export interface StateChange {
  seq: number;
  atMs: number;
  eventType: SupervisorEvent['type'];
  /** Signals this event raised (for notifications). */
  raised: SignalRecord[];
}

export type ActionDispatchStatus = 'dispatched' | 'failed' | 'skipped';

export interface ActionDispatchResult {
  id: string;
  workspace: string;
  status: ActionDispatchStatus;
  jobKey: string;
  threadId: string | null;
  turnId: string | null;
  error: string | null;
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
  dispatch(plan: Plan, options?: { baseDir?: string }): Promise<DispatchResult>;
  ackSignal(signalId: string): Promise<void>;
  answerApproval(key: string, decision: ApprovalDecision): Promise<void>;
  answerQuestion(key: string, answers: Record<string, string[]>): Promise<void>;
  subscribe(listener: (change: StateChange) => void): () => void;
}
