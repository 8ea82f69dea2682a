import type { CodexClient } from '../connection/codexClient.js';
import { RpcRequestError } from '../errors.js';
import type { ThreadInfo } from '../protocol/messages.js';
import type { CaughtUpTurn, SupervisorEvent } from '../state/events.js';
import type { HostTransport, SupervisorState } from '../state/model.js';
import { seenThread, threadTitle } from '../state/normalize.js';
import { workspaceForCwd, workspacesOnHost } from '../state/selectors.js';
import { UNTITLED } from '../state/threadRecords.js';

export interface HostThreadsContext {
  host: string;
  state: () => SupervisorState;
  emit: (event: SupervisorEvent) => void;
  now: () => number;
}

/** How many of a host's most recently updated threads are looked at on connecting. */
const CATCH_UP_THREADS = 50;

/**
 * The threads of one host connection: which workspace a notification belongs to, which
 * threads this connection receives the events of, following threads other clients start in
 * our workspaces (on a shared daemon), resuming threads after a reconnect, and catching up
 * with what happened while we were away. One per connection: a new connection subscribes anew.
 */
export class HostThreads {
  /** Threads this connection started or resumed: it receives their events already. */
  private readonly subscribed = new Set<string>();
  /**
   * Other clients' new threads we follow, by id → workspace, that could not be resumed yet: a
   * thread has nothing to resume ("no rollout found") until its first turn starts, which its
   * next status change tells.
   */
  private readonly awaitingFirstTurn = new Map<string, string>();

  constructor(
    private readonly ctx: HostThreadsContext,
    private readonly client: CodexClient,
    private readonly transport: HostTransport,
  ) {}

  /** Told by the client for every thread it starts or resumes. */
  loaded(threadId: string): void {
    this.subscribed.add(threadId);
  }

  /**
   * The workspace a notification belongs to: by its thread, or a new thread by its directory.
   * `null`: about no thread (host-wide); `undefined`: another client's thread outside our
   * workspaces, not ours to show.
   */
  route(method: string, params: unknown): string | null | undefined {
    const p = params as { threadId?: unknown; thread?: { id?: unknown; cwd?: unknown } } | null | undefined;
    const threadId = p?.threadId;
    if (typeof threadId === 'string') {
      if (this.awaitingFirstTurn.size > 0) this.retryFollow(threadId);
      return this.ctx.state().threads[threadId]?.workspace;
    }
    if (method !== 'thread/started') return null;
    const thread = p?.thread;
    if (typeof thread?.id !== 'string' || typeof thread.cwd !== 'string') return null;
    const known = this.ctx.state().threads[thread.id]?.workspace;
    if (known) return known;
    const workspace = workspaceForCwd(this.ctx.state(), this.ctx.host, thread.cwd) ?? undefined;
    if (workspace !== undefined && this.transport === 'attached') this.followLater(workspace, thread.id);
    return workspace;
  }

  /**
   * A thread we met before its first message (another client's, followed mid-turn) has no title
   * yet; once a turn is done the server has its preview.
   */
  turnCompleted(workspace: string, threadId: string): void {
    if (this.ctx.state().threads[threadId]?.title !== UNTITLED) return;
    this.client.threadRead(threadId).then(
      ({ thread }) => {
        if (thread.preview || thread.name) this.ctx.emit({ type: 'thread/renamed', atMs: this.ctx.now(), workspace, threadId, name: threadTitle(thread) });
      },
      () => {},
    );
  }

  /**
   * Loads the thread on this connection unless it is already (started or resumed here): Codex
   * takes a turn only for a loaded thread ("thread not found" otherwise), and only a loaded
   * thread's events reach us. Throws what Codex answers (e.g. another process is its writer).
   */
  async ensureLoaded(workspace: string, threadId: string): Promise<void> {
    if (this.subscribed.has(threadId)) return;
    const resumed = await this.client.threadResume({ threadId, excludeTurns: true });
    this.ctx.emit({ type: 'thread/seen', atMs: this.ctx.now(), workspace, thread: seenThread(resumed.thread) });
  }

  /** Resumes threads (after a reconnect): loads them again and subscribes to their events. */
  async resume(workspace: string, threadIds: string[]): Promise<void> {
    await Promise.all(
      threadIds.map(async (threadId) => {
        try {
          const resumed = await this.client.threadResume({ threadId, excludeTurns: true });
          await this.report(workspace, resumed.thread);
        } catch (error) {
          // The connection went away meanwhile (stopping, or a drop): the next one resumes it.
          if (this.client.connection.isClosed) return;
          this.ctx.emit({ type: 'thread/resumeFailed', atMs: this.ctx.now(), workspace, threadId, message: error instanceof Error ? error.message : String(error) });
        }
      }),
    );
  }

  /**
   * What happened on the host while we were away: the most recently updated threads in our
   * workspaces' directories, each with its last turn when that may be news; threads running a
   * turn on Codex's daemon are followed from now on.
   */
  async catchUp(): Promise<void> {
    const paths = workspacesOnHost(this.ctx.state(), this.ctx.host).map((w) => w.path);
    if (paths.length === 0) return;
    try {
      const listed = await this.client.threadList({ cwd: paths, limit: CATCH_UP_THREADS, sortKey: 'updated_at' }, { timeoutMs: 10_000 });
      await Promise.all(
        listed.data.map(async (thread) => {
          const workspace = this.ctx.state().threads[thread.id]?.workspace ?? workspaceForCwd(this.ctx.state(), this.ctx.host, thread.cwd);
          if (workspace === null) return;
          await this.report(workspace, thread);
          if (this.transport === 'attached' && thread.status.type === 'active' && !this.subscribed.has(thread.id)) await this.resume(workspace, [thread.id]);
        }),
      );
    } catch {
      // Catching up is a convenience; the workspaces work without it.
    }
  }

  /**
   * Another client started a thread in one of our workspaces: subscribe to its events. Checked
   * after the current I/O callbacks, by when a thread we started ourselves is marked as such
   * (its start's response and this notification can arrive in one read).
   */
  private followLater(workspace: string, threadId: string): void {
    setImmediate(() => void this.follow(workspace, threadId));
  }

  private async follow(workspace: string, threadId: string): Promise<void> {
    if (this.subscribed.has(threadId) || this.client.connection.isClosed) return;
    try {
      const resumed = await this.client.threadResume({ threadId, excludeTurns: true });
      await this.report(workspace, resumed.thread);
    } catch (error) {
      if (error instanceof RpcRequestError && /no rollout found/.test(error.rpcMessage)) this.awaitingFirstTurn.set(threadId, workspace);
      else this.ctx.emit({ type: 'thread/resumeFailed', atMs: this.ctx.now(), workspace, threadId, message: error instanceof Error ? error.message : String(error) });
    }
  }

  private retryFollow(threadId: string): void {
    const workspace = this.awaitingFirstTurn.get(threadId);
    if (workspace === undefined) return;
    this.awaitingFirstTurn.delete(threadId);
    this.followLater(workspace, threadId);
  }

  /** Tells the state how a thread stands now, with its last turn when that may be news. */
  private async report(workspace: string, thread: ThreadInfo): Promise<void> {
    const seen = { ...seenThread(thread), updatedAtMs: thread.updatedAt * 1000 };
    const lastTurn = this.mayBeNews(thread) ? await this.lastTurn(thread.id) : null;
    this.ctx.emit({ type: 'thread/caughtUp', atMs: this.ctx.now(), workspace, thread: seen, lastTurn });
  }

  /** A turn we saw running, or a thread changed since we left (or, on a first connection, since we connected). */
  private mayBeNews(thread: ThreadInfo): boolean {
    const state = this.ctx.state();
    if ((state.threads[thread.id]?.currentTurnId ?? null) !== null) return true;
    const host = state.hosts[this.ctx.host];
    const since = host?.awaySinceMs ?? host?.connectedAtMs ?? null;
    // The server keeps whole seconds.
    return since !== null && thread.updatedAt * 1000 >= since - 1_000;
  }

  private async lastTurn(threadId: string): Promise<CaughtUpTurn | null> {
    try {
      const turns = await this.client.threadTurnsList({ threadId, limit: 1, sortDirection: 'desc' });
      const turn = turns.data[0];
      if (!turn) return null;
      const message = turn.items?.findLast((item) => item.type === 'agentMessage' && item.text !== undefined);
      return {
        id: turn.id,
        status: turn.status,
        error: turn.error ?? null,
        finalMessage: message?.text ?? null,
        completedAtMs: typeof turn.completedAt === 'number' ? turn.completedAt * 1000 : null,
      };
    } catch {
      return null;
    }
  }
}
