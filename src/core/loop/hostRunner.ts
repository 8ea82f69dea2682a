import type { ConnectionEvent, DisconnectEvent, ServerRequestEvent } from '../connection/appServerConnection.js';
import { CodexClient } from '../connection/codexClient.js';
import { HandshakeError, RequestTimeoutError, SupervisorError } from '../errors.js';
import type { HostConnection } from '../hosts/connectHost.js';
import type { HostSpec } from '../hosts/hostSpec.js';
import { residentBytes } from '../process/residentMemory.js';
import type { SupervisorEvent } from '../state/events.js';
import type { HostTransport, SupervisorState } from '../state/model.js';
import { normalizeNotification, normalizeServerRequest } from '../state/normalize.js';
import { TransportOpenError } from '../transport/webSocketTransport.js';
import { backoffDelay } from '../util/backoff.js';
import { formatDuration } from '../util/time.js';
import { HostThreads } from './hostThreads.js';

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
  /** Opens a connection to the host's app-server (connectHost, or a test's fake); `signal` ends an attempt still in progress. */
  connect: (spec: HostSpec, signal: AbortSignal) => Promise<HostConnection>;
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

/**
 * One host's connection to its app-server, serving every workspace on the host: connects
 * (attached or private, see connectHost) and reconnects with backoff, turns notifications and
 * server requests into events for the workspace of their thread (HostThreads routes them and
 * catches up), holds server requests until the reducer settles them, and pings.
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
  /** The current connection's threads (routing, following, catching up). */
  private threads: HostThreads | null = null;
  private startedOnce = false;
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
  /** Aborted by stop(): a connection attempt waiting for its handshake ends then, not at its timeout. */
  private readonly connecting = new AbortController();

  start(): Promise<void> {
    this.startedOnce = true;
    return this.connect();
  }

  /** Whether start() was called (a host without workspaces is not connected to). */
  get started(): boolean {
    return this.startedOnce;
  }

  /** Catches up with the threads of this host's workspaces now (a workspace was added). */
  async catchUp(): Promise<void> {
    await this.firstAttempt;
    await this.threads?.catchUp();
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

  /** The host's client with the thread loaded on it (see HostThreads.ensureLoaded), to start or steer its turns. */
  async clientWithThread(workspace: string, threadId: string): Promise<CodexClient> {
    const client = await this.ready(workspace);
    await this.threads?.ensureLoaded(workspace, threadId);
    return client;
  }

  /** Closes the connection. A private app-server ends with it; Codex's daemon runs on. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.connecting.abort();
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
  resumeThreads(workspace: string, threadIds: string[]): Promise<void> {
    return this.threads?.resume(workspace, threadIds) ?? Promise.resolve();
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
      opened = await this.ctx.connect(this.spec, this.connecting.signal);
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
    const client = new CodexClient(connection, (threadId) => threads.loaded(threadId));
    const threads = new HostThreads({ host, state: this.ctx.state, emit: this.ctx.emit, now: this.ctx.now }, client, transport);
    this.client = client;
    this.threads = threads;
    this.transport = transport;
    this.pingKilled = false;
    connection.on((event) => {
      if (this.client === client) this.onConnectionEvent(threads, event);
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
    await threads.catchUp();
  }

  private onConnectionEvent(threads: HostThreads, event: ConnectionEvent): void {
    const host = this.spec.name;
    switch (event.type) {
      case 'notification': {
        const workspace = threads.route(event.notification.method, event.notification.params);
        if (workspace === undefined) return;
        const normalized = normalizeNotification(host, workspace ?? host, event.notification);
        if (normalized) this.ctx.emit(normalized);
        if (normalized?.type === 'turn/completed' && workspace) threads.turnCompleted(workspace, normalized.threadId);
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
}
