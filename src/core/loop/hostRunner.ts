import type { ConnectionEvent, DisconnectEvent, ServerRequestEvent } from '../connection/appServerConnection.js';
import { CodexClient } from '../connection/codexClient.js';
import { HandshakeError, RequestTimeoutError, RpcRequestError, SupervisorError } from '../errors.js';
import type { HostSpec } from '../hosts/hostSpec.js';
import { residentBytes } from '../process/residentMemory.js';
import type { ThreadInfo } from '../protocol/messages.js';
import type { CaughtUpTurn, SupervisorEvent } from '../state/events.js';
import type { HostTransport, SupervisorState } from '../state/model.js';
import { normalizeNotification, normalizeServerRequest, seenThread } from '../state/normalize.js';
import { workspaceForCwd, workspacesOnHost } from '../state/selectors.js';
import { backoffDelay } from '../util/backoff.js';
import { formatDuration } from '../util/time.js';
import { TransportOpenError } from '../transport/webSocketTransport.js';
import type { HostConnection } from '../hosts/connectHost.js';

export interface RestartPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A connection up this long gets a fresh set of attempts when it drops. */
  stableAfterMs: number;
}

/** What a host runner needs from the loop that owns the state. */
export interface HostRunnerContext {
  state: () => SupervisorState;
  emit: (event: SupervisorEvent) => void;
  /** Opens a connection to the host's app-server (connectHost, or a test's fake). */
  connect: (spec: HostSpec) => Promise<HostConnection>;
  now: () => number;
  random: () => number;
  restart: RestartPolicy;
  pingTimeoutMs: number;
  /** Catch up with the host's threads on connecting (off for one-shot dispatches). */
  catchUp: boolean;
}

interface Deferred {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** How many of a host's most recently updated threads are looked at on connecting. */
const CATCH_UP_THREADS = 50;

/**
 * One host's connection to its app-server, serving every workspace on the host: connects
 * (attached or private, see connectHost), routes notifications and server requests to
 * workspaces by thread (and new threads by their directory), catches up with what happened
 * while it was away, pings, and reconnects with backoff. Its facts reach the state as events.
 */
export class HostRunner {
  private client: CodexClient | null = null;
  private transport: HostTransport | null = null;
  private attempts = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private pingInFlight = false;
  private pingKilled = false;
  /** Server requests waiting for an answer, by request id (ids are per connection). */
  private readonly waiting = new Map<string, Deferred>();
  /** Threads this connection started or resumed: it receives their events already. */
  private readonly subscribed = new Set<string>();
  /**
   * Another client's new threads we follow, by workspace, that could not be resumed yet: a thread
   * has nothing to resume ("no rollout found") until its first turn starts, which its next
   * status change tells.
   */
  private readonly awaitingFirstTurn = new Map<string, string>();
  private firstAttempt!: Promise<void>;
  private markFirstAttempt!: () => void;

  constructor(
    readonly spec: HostSpec,
    private readonly ctx: HostRunnerContext,
  ) {
    this.resetFirstAttempt();
  }

  get name(): string {
    return this.spec.name;
  }

  /** The first connection attempt; resolves once it settled (up or failed), catch-up included. */
  start(): Promise<void> {
    return this.connect();
  }

  /** The host's client once its first attempt settled; an error naming the cause when it is not up. */
  async ready(workspace: string): Promise<CodexClient> {
    await this.firstAttempt;
    const client = this.client;
    const host = this.ctx.state().hosts[this.spec.name];
    if (!client || client.connection.isClosed || host?.status !== 'ready') {
      const status = host?.status ?? 'not started';
      throw new SupervisorError(`workspace "${workspace}" is on host "${this.spec.name}", which is not connected (${status}): ${host?.lastError?.message ?? 'not connected yet'}`);
    }
    return client;
  }

  /** Closes the connection. A private app-server ends with it; Codex's daemon runs on. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const client = this.client;
    if (client && !client.connection.isClosed) {
      // The close is reported a moment after the transport is gone: wait for it, so the state
      // shows the host stopped once stop() resolves.
      const reported = new Promise<void>((resolve) => client.connection.on((e) => e.type === 'disconnected' && resolve()));
      await client.connection.stop();
      await reported;
    } else this.ctx.emit({ type: 'connection/stopped', atMs: this.ctx.now(), host: this.spec.name });
    this.dropWaiting('cm-supervisor stopped');
  }

  /** Kills the connection's child (tests; the user simulating a crash). */
  kill(signal: NodeJS.Signals): void {
    this.client?.connection.kill(signal);
  }

  /** Answers (or fails) a server request the reducer settled. */
  settle(requestId: string | number, outcome: { result: unknown } | { error: string }): void {
    const deferred = this.waiting.get(String(requestId));
    if (!deferred) return;
    this.waiting.delete(String(requestId));
    if ('result' in outcome) deferred.resolve(outcome.result);
    else deferred.reject(new Error(outcome.error));
  }

  /** Liveness ping (a cheap request) with its round trip and the child's memory as health. */
  async ping(): Promise<void> {
    const client = this.client;
    if (!client || client.connection.isClosed || this.pingInFlight) return;
    if (this.ctx.state().hosts[this.spec.name]?.status !== 'ready') return;
    this.pingInFlight = true;
    const started = this.ctx.now();
    try {
      await client.threadLoadedList({ timeoutMs: this.ctx.pingTimeoutMs, retryOverload: false });
      const rss = this.transport === 'private' && this.spec.kind !== 'ssh' && client.connection.pid ? residentBytes(client.connection.pid) : null;
      this.ctx.emit({ type: 'host/health', atMs: this.ctx.now(), host: this.spec.name, pingMs: this.ctx.now() - started, rssBytes: rss });
    } catch (error) {
      if (error instanceof RequestTimeoutError && this.client === client) {
        this.pingKilled = true;
        client.connection.kill('SIGKILL');
      }
    } finally {
      this.pingInFlight = false;
    }
  }

  /** Resumes threads (after a reconnect): loads them again and subscribes to their events. */
  async resumeThreads(workspace: string, threadIds: string[]): Promise<void> {
    const client = this.client;
    if (!client) return;
    await Promise.all(
      threadIds.map(async (threadId) => {
        try {
          const resumed = await client.threadResume({ threadId, excludeTurns: true });
          await this.report(client, workspace, resumed.thread);
        } catch (error) {
          this.ctx.emit({ type: 'thread/resumeFailed', atMs: this.ctx.now(), workspace, threadId, message: error instanceof Error ? error.message : String(error) });
        }
      }),
    );
  }

  // ---- connection lifecycle ----

  private resetFirstAttempt(): void {
    this.firstAttempt = new Promise<void>((resolve) => (this.markFirstAttempt = resolve));
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    const host = this.spec.name;
    this.ctx.emit({ type: 'connection/starting', atMs: this.ctx.now(), host });
    let opened: HostConnection;
    try {
      opened = await this.ctx.connect(this.spec);
    } catch (error) {
      if (!this.stopping) {
        const message = error instanceof Error ? error.message : String(error);
        const stderrTail = error instanceof HandshakeError || error instanceof TransportOpenError ? error.stderrTail.slice(-10) : [];
        this.ctx.emit({ type: 'connection/startFailed', atMs: this.ctx.now(), host, message, stderrTail });
        this.scheduleRestart(null);
      }
      this.markFirstAttempt();
      return;
    }
    const { connection, transport, notes } = opened;
    if (this.stopping) {
      await connection.stop();
      this.markFirstAttempt();
      return;
    }
    const client = new CodexClient(connection, (threadId) => this.subscribed.add(threadId));
    this.client = client;
    this.transport = transport;
    this.pingKilled = false;
    this.subscribed.clear();
    this.awaitingFirstTurn.clear();
    connection.on((event) => {
      if (this.client === client) this.onConnectionEvent(client, event);
    });
    connection.onServerRequest((request) => this.onServerRequest(request));
    for (const message of notes) this.ctx.emit({ type: 'connection/warning', atMs: this.ctx.now(), host, message });
    if (connection.isClosed) {
      // It went away between the handshake and here; the disconnect event reports it.
      this.markFirstAttempt();
      return;
    }
    this.ctx.emit({
      type: 'connection/ready',
      atMs: this.ctx.now(),
      host,
      pid: connection.pid ?? null,
      codexVersion: connection.serverInfo?.codexVersion ?? null,
      transport,
    });
    // Dispatch may go ahead now; start() still waits for the first health check and the
    // catch-up, so `status` shows them.
    this.markFirstAttempt();
    if (!this.ctx.catchUp) return;
    await this.ping();
    await this.catchUp(client);
  }

  private onConnectionEvent(client: CodexClient, event: ConnectionEvent): void {
    const host = this.spec.name;
    switch (event.type) {
      case 'notification': {
        if (this.awaitingFirstTurn.size > 0) this.retryFollow(client, event.notification.params);
        const workspace = this.route(client, event.notification.method, event.notification.params);
        if (workspace === undefined) return;
        const normalized = normalizeNotification(host, workspace ?? host, event.notification);
        if (normalized) this.ctx.emit(normalized);
        return;
      }
      case 'protocolError':
        this.ctx.emit({ type: 'protocol/error', atMs: event.atMs, host, reason: event.reason, line: event.line });
        return;
      case 'warning':
        this.ctx.emit({ type: 'connection/warning', atMs: event.atMs, host, message: event.message });
        return;
      case 'disconnected':
        this.onDisconnected(event.disconnect);
        return;
    }
  }

  /**
   * The workspace a notification belongs to: by its thread, or a new thread by its directory.
   * `null`: about no thread (host-wide); `undefined`: another client's thread outside our
   * workspaces, not ours to show.
   */
  private route(client: CodexClient, method: string, params: unknown): string | null | undefined {
    const p = params as { threadId?: unknown; thread?: { id?: unknown; cwd?: unknown } } | null | undefined;
    const threadId = p?.threadId;
    if (typeof threadId === 'string') return this.ctx.state().threads[threadId]?.workspace;
    if (method !== 'thread/started') return null;
    const thread = p?.thread;
    if (typeof thread?.id !== 'string' || typeof thread.cwd !== 'string') return null;
    const known = this.ctx.state().threads[thread.id]?.workspace;
    if (known) return known;
    const workspace = workspaceForCwd(this.ctx.state(), this.spec.name, thread.cwd) ?? undefined;
    if (workspace !== undefined && this.transport === 'attached') this.followLater(client, workspace, thread.id);
    return workspace;
  }

  /**
   * Another client started a thread in one of our workspaces: subscribe to its events. Checked
   * after the current I/O callbacks, by when a thread we started ourselves is marked as such
   * (its start's response and this notification can arrive in one read).
   */
  private followLater(client: CodexClient, workspace: string, threadId: string): void {
    setImmediate(() => void this.follow(client, workspace, threadId));
  }

  private async follow(client: CodexClient, workspace: string, threadId: string): Promise<void> {
    if (this.client !== client || this.subscribed.has(threadId)) return;
    try {
      const resumed = await client.threadResume({ threadId, excludeTurns: true });
      await this.report(client, workspace, resumed.thread);
    } catch (error) {
      if (error instanceof RpcRequestError && /no rollout found/.test(error.rpcMessage)) this.awaitingFirstTurn.set(threadId, workspace);
      else this.ctx.emit({ type: 'thread/resumeFailed', atMs: this.ctx.now(), workspace, threadId, message: error instanceof Error ? error.message : String(error) });
    }
  }

  private retryFollow(client: CodexClient, params: unknown): void {
    const threadId = (params as { threadId?: unknown } | null | undefined)?.threadId;
    if (typeof threadId !== 'string') return;
    const workspace = this.awaitingFirstTurn.get(threadId);
    if (workspace === undefined) return;
    this.awaitingFirstTurn.delete(threadId);
    this.followLater(client, workspace, threadId);
  }

  private onDisconnected(d: DisconnectEvent): void {
    const host = this.spec.name;
    this.dropWaiting('the app-server connection closed');
    if (this.stopping || d.reason === 'stopped') {
      this.ctx.emit({ type: 'connection/stopped', atMs: d.atMs, host });
      return;
    }
    const record = this.ctx.state().hosts[host];
    // A failed handshake is reported (and retried) by connect.
    if (record?.status !== 'ready') return;
    const exit = this.pingKilled
      ? `stopped answering (no reply to a ping within ${formatDuration(this.ctx.pingTimeoutMs)}) and was killed`
      : d.signal
        ? `was killed by ${d.signal}`
        : d.reason === 'stdoutClosed'
          ? 'closed its output'
          : d.reason === 'socketClosed'
            ? 'closed the connection'
            : this.spec.kind === 'ssh' && d.code === 255
              ? 'lost its ssh connection'
              : `exited with code ${d.code}`;
    this.ctx.emit({ type: 'connection/disconnected', atMs: d.atMs, host, exit, stderrTail: d.stderrTail.slice(-10) });
    this.scheduleRestart(record.connectedAtMs);
  }

  private scheduleRestart(connectedAtMs: number | null): void {
    if (this.stopping) return;
    const policy = this.ctx.restart;
    if (connectedAtMs !== null && this.ctx.now() - connectedAtMs >= policy.stableAfterMs) this.attempts = 0;
    this.attempts++;
    const host = this.spec.name;
    if (this.attempts > policy.maxAttempts) {
      this.ctx.emit({ type: 'connection/gaveUp', atMs: this.ctx.now(), host, attempts: this.attempts - 1 });
      return;
    }
    const delayMs = backoffDelay(this.attempts - 1, policy.baseDelayMs, policy.maxDelayMs, this.ctx.random);
    this.ctx.emit({ type: 'connection/restarting', atMs: this.ctx.now(), host, attempt: this.attempts, delayMs });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.resetFirstAttempt();
      void this.connect();
    }, delayMs);
  }

  // ---- server requests ----

  private onServerRequest(request: ServerRequestEvent): Promise<unknown> | undefined {
    const threadId = (request.params as { threadId?: unknown } | null | undefined)?.threadId;
    const workspace = typeof threadId === 'string' ? this.ctx.state().threads[threadId]?.workspace : undefined;
    if (workspace === undefined) {
      // Not about a thread we supervise: nobody here can answer it, so the server hears so now.
      this.ctx.emit({ type: 'connection/warning', atMs: this.ctx.now(), host: this.spec.name, message: `answered ${request.method} with an error: it is not about a thread cm-supervisor supervises` });
      return undefined;
    }
    // Every request gets a promise the reducer's effects settle: answered by the user, or at
    // once with a failure for requests we cannot handle. None is left unanswered.
    const answer = new Promise<unknown>((resolve, reject) => this.waiting.set(String(request.id), { resolve, reject }));
    this.ctx.emit(normalizeServerRequest(workspace, request));
    return answer;
  }

  private dropWaiting(reason: string): void {
    for (const deferred of this.waiting.values()) deferred.reject(new Error(reason));
    this.waiting.clear();
  }

  // ---- catching up ----

  /**
   * What happened on the host while we were away: the most recently updated threads in our
   * workspaces' directories, each with its last turn when that may be news; threads running a
   * turn on Codex's daemon are followed from now on.
   */
  private async catchUp(client: CodexClient): Promise<void> {
    const paths = workspacesOnHost(this.ctx.state(), this.spec.name).map((w) => w.path);
    if (paths.length === 0) return;
    try {
      const listed = await client.threadList({ cwd: paths, limit: CATCH_UP_THREADS, sortKey: 'updated_at' }, { timeoutMs: 10_000 });
      await Promise.all(
        listed.data.map(async (thread) => {
          const workspace = this.ctx.state().threads[thread.id]?.workspace ?? workspaceForCwd(this.ctx.state(), this.spec.name, thread.cwd);
          if (workspace === null) return;
          await this.report(client, workspace, thread);
          if (this.transport === 'attached' && thread.status.type === 'active' && !this.subscribed.has(thread.id)) await this.resumeThreads(workspace, [thread.id]);
        }),
      );
    } catch {
      // Catching up is a convenience; the workspaces work without it.
    }
  }

  /** Tells the state how a thread stands now, with its last turn when that may be news. */
  private async report(client: CodexClient, workspace: string, thread: ThreadInfo): Promise<void> {
    const seen = { ...seenThread(thread), updatedAtMs: thread.updatedAt * 1000 };
    const lastTurn = this.mayBeNews(thread) ? await this.lastTurn(client, thread.id) : null;
    this.ctx.emit({ type: 'thread/caughtUp', atMs: this.ctx.now(), workspace, thread: seen, lastTurn });
  }

  /** A turn we saw running, or a thread changed since we left (or, on a first connection, since we connected). */
  private mayBeNews(thread: ThreadInfo): boolean {
    const state = this.ctx.state();
    if ((state.threads[thread.id]?.currentTurnId ?? null) !== null) return true;
    const host = state.hosts[this.spec.name];
    const since = host?.awaySinceMs ?? host?.connectedAtMs ?? null;
    // The server keeps whole seconds.
    return since !== null && thread.updatedAt * 1000 >= since - 1_000;
  }

  private async lastTurn(client: CodexClient, threadId: string): Promise<CaughtUpTurn | null> {
    try {
      const turns = await client.threadTurnsList({ threadId, limit: 1, sortDirection: 'desc' });
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
