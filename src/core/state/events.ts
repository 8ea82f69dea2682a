import type { ThreadItem, ThreadStatus, TurnError } from '../protocol/messages.js';
import type { PlanRunEvent } from './planRuns.js';
import type { ApprovalRecord, ChatMessage, HostRecord, HostTransport, NotificationSettings, PlanStep, QuestionRecord, RateLimitWindow } from './model.js';

/** A thread goal as `thread/goal/updated` tells it. */
export interface GoalFacts {
  objective: string;
  status: string;
  tokensUsed: number;
  tokenBudget: number | null;
  timeUsedSeconds: number;
  createdAt: number;
}

/**
 * Everything that can happen to the supervisor, as past-tense facts. Time (`atMs`) and ids
 * travel inside the events so that `reduce` stays deterministic.
 */
export type SupervisorEvent =
  // ---- hosts and their connections (from the loop) ----
  | { type: 'host/added'; atMs: number; name: string; kind: HostRecord['kind']; target: string }
  | { type: 'workspace/added'; atMs: number; name: string; host: string; path: string; stallAfterMs: number }
  /** The configuration no longer has it: it is no longer supervised. */
  | { type: 'workspace/removed'; atMs: number; name: string }
  | { type: 'host/removed'; atMs: number; name: string }
  | { type: 'connection/starting'; atMs: number; host: string }
  | { type: 'connection/ready'; atMs: number; host: string; pid: number | null; codexVersion: string | null; transport: HostTransport }
  | { type: 'connection/startFailed'; atMs: number; host: string; message: string; stderrTail: string[] }
  | { type: 'connection/disconnected'; atMs: number; host: string; exit: string; stderrTail: string[] }
  | { type: 'connection/restarting'; atMs: number; host: string; attempt: number; delayMs: number }
  | { type: 'connection/gaveUp'; atMs: number; host: string; attempts: number }
  /** We closed the connection: a private app-server ended with it, Codex's daemon runs on. */
  | { type: 'connection/stopped'; atMs: number; host: string }
  | { type: 'connection/warning'; atMs: number; host: string; message: string }
  | { type: 'host/health'; atMs: number; host: string; pingMs: number; rssBytes: number | null }
  /** Sparse: a null field leaves what was known. */
  | { type: 'host/rateLimits'; atMs: number; host: string; name: string | null; primary: RateLimitWindow | null; secondary: RateLimitWindow | null; reached: string | null }
  /** config.json's notification settings, at start and whenever the file changes. */
  | { type: 'settings/notifications'; atMs: number; settings: NotificationSettings }
  /** The daemon started from a persisted state: nothing of the old processes is alive. */
  | { type: 'supervisor/restored'; atMs: number }
  /** A problem of the supervisor itself (state file unreadable, a write failed), by key. */
  | { type: 'supervisor/problem'; atMs: number; key: string; message: string }
  | { type: 'supervisor/problemCleared'; atMs: number; key: string }
  | { type: 'protocol/error'; atMs: number; host: string; reason: string; line: string }
  // ---- normalized notifications ----
  | { type: 'thread/seen'; atMs: number; workspace: string; thread: SeenThread }
  | { type: 'thread/statusChanged'; atMs: number; workspace: string; threadId: string; status: ThreadStatus }
  | { type: 'thread/closed'; atMs: number; workspace: string; threadId: string }
  /** Archived (by us or another client): it leaves the state; Codex lists it only among archived threads. */
  | { type: 'thread/archived'; atMs: number; workspace: string; threadId: string }
  | { type: 'thread/renamed'; atMs: number; workspace: string; threadId: string; name: string | null }
  /** Goal mode: the goal was set or changed, or a goal turn reported its usage (`turnId` null: between turns). */
  | { type: 'thread/goalUpdated'; atMs: number; workspace: string; threadId: string; turnId: string | null; goal: GoalFacts }
  | { type: 'thread/goalCleared'; atMs: number; workspace: string; threadId: string }
  | { type: 'turn/started'; atMs: number; workspace: string; threadId: string; turnId: string }
  | {
      type: 'turn/completed';
      atMs: number;
      workspace: string;
      threadId: string;
      turnId: string;
      status: string;
      error: TurnError | null;
      /** Learnt on reconnecting: the turn ended while cm-supervisor was away. */
      whileAway?: boolean;
    }
  | { type: 'item/started'; atMs: number; workspace: string; threadId: string; turnId: string; item: ThreadItem }
  | { type: 'item/completed'; atMs: number; workspace: string; threadId: string; turnId: string; item: ThreadItem }
  /** Streaming output: only proves the turn is alive. */
  | { type: 'item/progress'; atMs: number; workspace: string; threadId: string; turnId: string; itemId: string }
  | { type: 'plan/updated'; atMs: number; workspace: string; threadId: string; turnId: string; plan: PlanStep[] }
  | { type: 'diff/updated'; atMs: number; workspace: string; threadId: string; turnId: string; diff: string }
  | {
      type: 'tokenUsage/updated';
      atMs: number;
      workspace: string;
      threadId: string;
      totalTokens: number;
      lastTokens: number;
      contextWindow: number | null;
    }
  | {
      type: 'turn/error';
      atMs: number;
      workspace: string;
      threadId: string;
      turnId: string;
      error: TurnError;
      willRetry: boolean;
    }
  | { type: 'serverRequest/resolved'; atMs: number; workspace: string; threadId: string; requestId: string | number }
  | { type: 'server/warning'; atMs: number; workspace: string; threadId: string | null; message: string }
  | { type: 'notification/unknown'; atMs: number; workspace: string; method: string }
  // ---- server requests ----
  | { type: 'approval/requested'; atMs: number; approval: ApprovalRecord }
  | { type: 'question/requested'; atMs: number; question: QuestionRecord }
  | { type: 'serverRequest/unsupported'; atMs: number; workspace: string; requestId: string | number; method: string; threadId: string | null }
  // ---- pull ----
  | { type: 'health/tick'; atMs: number }
  | { type: 'thread/resumeFailed'; atMs: number; workspace: string; threadId: string; message: string }
  /** cm-supervisor is stopping and interrupts a turn its private app-server would take down with it. */
  | { type: 'turn/interruptedByStop'; atMs: number; workspace: string; threadId: string; turnId: string; reason: string }
  /**
   * On (re)connecting: a known thread as the server lists it now, with its last turn, so what
   * happened while cm-supervisor was away (another client's turn, a turn that ended) is told.
   */
  | { type: 'thread/caughtUp'; atMs: number; workspace: string; thread: SeenThread; lastTurn: CaughtUpTurn | null }
  // ---- user actions ----
  | { type: 'signal/acknowledged'; atMs: number; signalId: string }
  | { type: 'approval/answered'; atMs: number; key: string; decision: ApprovalDecision }
  | { type: 'question/answered'; atMs: number; key: string; answers: Record<string, string[]> }
  /** The user's input reached a thread: a new turn (`reply`, `retry`) or more input for the running one (`steer`). */
  | { type: 'thread/replied'; atMs: number; workspace: string; threadId: string; turnId: string; how: 'reply' | 'steer' | 'retry'; text: string }
  // ---- dispatched work (from the executor) ----
  | { type: 'job/queued'; atMs: number; key: string; planId: string; actionId: string; workspace: string; prompt: string }
  | { type: 'job/dispatched'; atMs: number; key: string; threadId: string; turnId: string }
  | { type: 'job/failed'; atMs: number; key: string; error: string }
  | PlanRunEvent
  // ---- chat ----
  | { type: 'chat/message'; atMs: number; message: ChatMessage };

export type ApprovalDecision = 'accept' | 'acceptForSession' | 'decline' | 'cancel';
export const APPROVAL_DECISIONS: readonly ApprovalDecision[] = ['accept', 'acceptForSession', 'decline', 'cancel'];

export interface SeenThread {
  id: string;
  title: string;
  cwd: string | null;
  status: ThreadStatus | null;
  /** The id of a turn still in progress, when the server told us (thread/resume with turns). */
  activeTurnId?: string | null;
  /** When the server last changed it (thread/list), for telling news from old history. */
  updatedAtMs?: number;
}

export interface CaughtUpTurn {
  id: string;
  status: string;
  error: TurnError | null;
  /** The turn's last agent message, when the server gave it. */
  finalMessage: string | null;
  /** When it ended (the server keeps seconds); null while it runs. */
  completedAtMs: number | null;
}

/** What the reducer asks the loop to do; the loop is the only code that performs IO. */
export type Effect =
  | { type: 'answerServerRequest'; workspace: string; requestId: string | number; result: unknown }
  | { type: 'rejectServerRequest'; workspace: string; requestId: string | number; message: string }
  | { type: 'resumeThreads'; workspace: string; threadIds: string[] }
  | { type: 'notify'; signalId: string };
