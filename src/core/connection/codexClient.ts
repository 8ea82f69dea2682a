import type { ReviewStartParams } from '../protocol/generated/v2/ReviewStartParams.js';
import type { ThreadGoalClearParams } from '../protocol/generated/v2/ThreadGoalClearParams.js';
import type { ThreadGoalSetParams } from '../protocol/generated/v2/ThreadGoalSetParams.js';
import type { ThreadListParams } from '../protocol/generated/v2/ThreadListParams.js';
import type { ThreadResumeParams } from '../protocol/generated/v2/ThreadResumeParams.js';
import type { ThreadStartParams } from '../protocol/generated/v2/ThreadStartParams.js';
import type { ThreadTurnsListParams } from '../protocol/generated/v2/ThreadTurnsListParams.js';
import type { TurnInterruptParams } from '../protocol/generated/v2/TurnInterruptParams.js';
import type { TurnStartParams } from '../protocol/generated/v2/TurnStartParams.js';
import type { TurnSteerParams } from '../protocol/generated/v2/TurnSteerParams.js';
import {
  ThreadListResponseSchema,
  ThreadLoadedListResponseSchema,
  ThreadReadWithItemsResponseSchema,
  ThreadStartResponseSchema,
  ThreadTurnsListResponseSchema,
  TranscriptPageSchema,
  TurnStartResponseSchema,
  TurnSteerResponseSchema,
  EmptyResponseSchema,
  ReviewStartResponseSchema,
  ThreadGoalClearResponseSchema,
  ThreadGoalGetResponseSchema,
  ThreadGoalSetResponseSchema,
} from '../protocol/messages.js';
import type { z } from 'zod';
import type { AppServerConnection } from './appServerConnection.js';

type RequestOptions = { timeoutMs?: number; retryOverload?: boolean };

/**
 * The Codex requests cm-supervisor makes, typed by the generated params and each response
 * parsed at the edge (a response that does not fit throws, naming the method). Everything that
 * talks to an app-server goes through this, whatever transport is below.
 */
export class CodexClient {
  constructor(
    readonly connection: AppServerConnection,
    /** Told of every thread this connection starts or resumes: it receives that thread's events. */
    private readonly onThreadLoaded: (threadId: string) => void = () => {},
  ) {}

  async threadStart(params: ThreadStartParams) {
    const started = await this.call('thread/start', params, ThreadStartResponseSchema);
    this.onThreadLoaded(started.thread.id);
    return started;
  }

  async threadResume(params: ThreadResumeParams) {
    const resumed = await this.call('thread/resume', params, ThreadStartResponseSchema);
    this.onThreadLoaded(resumed.thread.id);
    return resumed;
  }

  threadList(params: ThreadListParams, options?: RequestOptions) {
    return this.call('thread/list', params, ThreadListResponseSchema, options);
  }

  /** The thread's metadata (name, preview, status), without loading it. */
  threadRead(threadId: string) {
    return this.call('thread/read', { threadId }, ThreadStartResponseSchema);
  }

  /** The thread with its turns and their items (for finding a turn by its clientId). */
  threadReadWithItems(threadId: string) {
    return this.call('thread/read', { threadId, includeTurns: true }, ThreadReadWithItemsResponseSchema);
  }

  threadTurnsList(params: ThreadTurnsListParams) {
    return this.call('thread/turns/list', params, ThreadTurnsListResponseSchema);
  }

  /** One page of a thread's turns with every item (a transcript); works on threads not loaded here. */
  threadTurnsPage(threadId: string, cursor: string | null, limit: number) {
    return this.call('thread/turns/list', { threadId, cursor, limit, sortDirection: 'asc', itemsView: 'full' } satisfies ThreadTurnsListParams, TranscriptPageSchema);
  }

  /** Codex archives the thread and tells every client (`thread/archived`). */
  async threadArchive(threadId: string): Promise<void> {
    await this.call('thread/archive', { threadId }, EmptyResponseSchema);
  }

  /** Threads loaded in the app-server's memory: cheap, so it also serves as the liveness ping. */
  threadLoadedList(options?: RequestOptions) {
    return this.call('thread/loaded/list', {}, ThreadLoadedListResponseSchema, options);
  }

  turnStart(params: TurnStartParams) {
    return this.call('turn/start', params, TurnStartResponseSchema);
  }

  /** More input for the running turn; fails unless `expectedTurnId` is the turn running now. */
  turnSteer(params: TurnSteerParams) {
    return this.call('turn/steer', params, TurnSteerResponseSchema);
  }

  async turnInterrupt(params: TurnInterruptParams): Promise<void> {
    await this.connection.request('turn/interrupt', params);
  }

  /**
   * Goal mode: sets (or changes) the thread's goal. On an idle thread Codex starts working toward
   * it at once, in turns it starts itself, until the goal is complete, paused, limited or cleared.
   */
  threadGoalSet(params: ThreadGoalSetParams) {
    return this.call('thread/goal/set', params, ThreadGoalSetResponseSchema);
  }

  /** The thread's goal, or null. */
  threadGoalGet(threadId: string) {
    return this.call('thread/goal/get', { threadId }, ThreadGoalGetResponseSchema);
  }

  /** Ends goal mode (the running turn finishes, no more are started); `cleared` is false when there was no goal. */
  threadGoalClear(params: ThreadGoalClearParams) {
    return this.call('thread/goal/clear', params, ThreadGoalClearResponseSchema);
  }

  /** A code review as a turn of `threadId` (its findings end in an `exitedReviewMode` item); `turn.id` is that turn. */
  reviewStart(params: ReviewStartParams) {
    return this.call('review/start', params, ReviewStartResponseSchema);
  }

  private async call<S extends z.ZodType>(method: string, params: unknown, schema: S, options?: RequestOptions): Promise<z.infer<S>> {
    const raw = await this.connection.request(method, params, options);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new Error(`${method} answered with an unexpected result: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(result)'}: ${i.message}`).join('; ')}`);
    return parsed.data;
  }
}
