import { mkdir } from 'node:fs/promises';
import {
  AppServerConnection,
  type ConnectionEvent,
  type ConnectionOptions,
  type DisconnectEvent,
  type ServerRequestEvent,
} from '../connection/appServerConnection.js';
import type { DispatchOptions, DispatchResult, StateChange, SupervisorApi } from '../api/supervisorApi.js';
import { validatePlanValue, type PlanTarget } from '../contract/validatePlan.js';
import { dispatchPlan, type DispatchTarget } from '../dispatch/dispatchPlan.js';
import type { DispatchLedger } from '../dispatch/ledger.js';
import { PlanValidationError, RequestTimeoutError, SupervisorError } from '../errors.js';
import { ThreadListResponseSchema, ThreadStartResponseSchema } from '../protocol/messages.js';
import type { ApprovalDecision, Effect, SupervisorEvent } from '../state/events.js';
import { initialState, snapshotOf, type ChatMessage, type FeedEntry, type SignalRecord, type SupervisorState } from '../state/model.js';
import { normalizeNotification, normalizeServerRequest, seenThread } from '../state/normalize.js';
import { reduce } from '../state/reducer.js';
import { ackEvent, approvalAnsweredEvent, questionAnsweredEvent } from '../state/userActions.js';
import { selectFeed, type FeedFilter } from '../state/selectors.js';
import type { PersistedState } from '../persistence/stateSchema.js';
import { ChatService, type ChatReply, type SendOptions } from '../chat/chatService.js';
import { Planner } from '../chat/planner.js';
import { backoffDelay } from '../util/backoff.js';
import { formatDuration } from '../util/time.js';

export interface WorkspaceSpec {
  name: string;
  path: string;
  /** Command speaking the app-server protocol on stdio; default `<codexBin> app-server`. */
  command?: string[];
  env?: Record<string, string>;
  stallAfterMs?: number;
}

export interface SupervisorOptions {
  workspaces: WorkspaceSpec[];
  codexBin: string;
  /** Added to every app-server's environment. */
  env?: Record<string, string>;
  pollIntervalMs?: number;
  stallAfterMs?: number;
  pingTimeoutMs?: number;
  restart?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number; stableAfterMs?: number };
  /** Passed to every connection (timeouts, grace periods). */
  connection?: Partial<Omit<ConnectionOptions, 'argv' | 'cwd' | 'env'>>;
  feedLimit?: number;
  /**
   * List each workspace's known threads (from disk) once it is up, so views show them before any
   * new work (default). `dispatch` turns it off: it shows only its own actions, and a listing
   * slows the app-server's answers to the dispatch's first requests.
   */
  listKnownThreads?: boolean;
  /** Where dispatched actions are recorded so a re-run plan skips them. */
  ledger?: DispatchLedger;
  /** Where the chat's planner runs its own app-server (created on demand); none: no planner. */
  plannerDir?: string;
  /** State persisted by a previous daemon: restored, its lost work marked, its threads resumed. */
  restored?: PersistedState;
  now?: () => number;
  random?: () => number;
}

interface Deferred {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface WorkspaceRuntime {
  spec: WorkspaceSpec;
  argv: string[];
  connection: AppServerConnection | null;
  attempts: number;
  restartTimer: NodeJS.Timeout | null;
  stopping: boolean;
  pingInFlight: boolean;
  pingKilled: boolean;
  /** Server requests waiting for an answer, by request id. */
  waiting: Map<string, Deferred>;
  /**
   * Settles once the first start attempt did, up or failed: dispatch waits for it, then fails
   * at once if the app-server is not up (restarts go on in the background).
   */
  firstAttempt: Promise<void>;
  markFirstAttempt: () => void;
}

export const DEFAULTS = {
  pollIntervalMs: 5_000,
  stallAfterMs: 120_000,
  pingTimeoutMs: 10_000,
  restart: { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, stableAfterMs: 60_000 },
};

/**
 * The supervisor loop: owns one app-server per workspace, turns their notifications and
 * requests into events (push), pings and checks for stalls on an interval (pull), restarts
 * crashed servers with backoff, and runs the effects the reducer asks for. It is the only
 * code that does IO on behalf of the state.
 */
export class Supervisor implements SupervisorApi {
  private state: SupervisorState;
  private readonly runtimes = new Map<string, WorkspaceRuntime>();
  private readonly listeners = new Set<(change: StateChange) => void>();
  private tickTimer: NodeJS.Timeout | null = null;
  private chat: ChatService | null = null;
  private stopped = false;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly restart: Required<NonNullable<SupervisorOptions['restart']>>;
  /** The planner's app-server, started on first use (see plannerConnection). */
  private planner: Promise<AppServerConnection> | null = null;

  constructor(private readonly options: SupervisorOptions) {
    this.state = { ...initialState({ feedLimit: options.feedLimit }), ...options.restored };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.restart = { ...DEFAULTS.restart, ...options.restart };
    const names = new Set<string>();
    for (const spec of options.workspaces) {
      if (names.has(spec.name)) throw new SupervisorError(`workspace name "${spec.name}" is used twice; names must be unique`, 2);
      names.add(spec.name);
    }
  }

  /** Starts every workspace's app-server and the health loop; resolves once each start settled. */
  async start(): Promise<void> {
    if (this.options.restored) this.emit({ type: 'supervisor/restored', atMs: this.now() });
    const runtimes = this.options.workspaces.map((spec) => this.register(spec));
    this.tickTimer = setInterval(() => this.tick(), this.options.pollIntervalMs ?? DEFAULTS.pollIntervalMs);
    this.tickTimer.unref();
    await Promise.all(runtimes.map((rt) => this.startWorkspace(rt)));
  }

  private register(spec: WorkspaceSpec): WorkspaceRuntime {
    let markFirstAttempt = () => {};
    const firstAttempt = new Promise<void>((resolve) => (markFirstAttempt = resolve));
    const runtime: WorkspaceRuntime = {
      spec,
      argv: spec.command ?? [this.options.codexBin, 'app-server'],
      connection: null,
      attempts: 0,
      restartTimer: null,
      stopping: false,
      pingInFlight: false,
      pingKilled: false,
      waiting: new Map(),
      firstAttempt,
      markFirstAttempt,
    };
    this.runtimes.set(spec.name, runtime);
    this.emit({
      type: 'workspace/added',
      atMs: this.now(),
      name: spec.name,
      path: spec.path,
      command: runtime.argv,
      stallAfterMs: spec.stallAfterMs ?? this.options.stallAfterMs ?? DEFAULTS.stallAfterMs,
    });
    return runtime;
  }

  /** Stops every app-server gracefully; the state keeps what it knew. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    await Promise.all(
      [...this.runtimes.values()].map(async (rt) => {
        rt.stopping = true;
        if (rt.restartTimer) clearTimeout(rt.restartTimer);
        const connection = rt.connection;
        if (connection && !connection.isClosed) {
          // The exit is reported a moment after the process is gone: wait for it, so the state
          // shows the workspace stopped (and its turns ended) once stop() resolves.
          const reported = new Promise<void>((resolve) => connection.on((e) => e.type === 'disconnected' && resolve()));
          await connection.stop();
          await reported;
        } else this.emit({ type: 'connection/stopped', atMs: this.now(), workspace: rt.spec.name });
        this.dropWaiting(rt, 'cm-supervisor stopped');
      }),
    );
    await this.stopPlanner();
    await this.options.ledger?.settled();
  }

  // ---- SupervisorApi ----

  snapshot(): Promise<SupervisorState> {
    return Promise.resolve(snapshotOf(this.state));
  }

  feed(filter?: FeedFilter): Promise<FeedEntry[]> {
    return Promise.resolve(selectFeed(this.state, filter));
  }

  async dispatch(plan: unknown, options: DispatchOptions = {}): Promise<DispatchResult> {
    const validation = validatePlanValue(plan, {
      workspaces: Object.values(this.state.workspaces).map((w) => ({ name: w.name, path: w.path })),
      baseDir: options.baseDir ?? process.cwd(),
    });
    if (!validation.ok) throw new PlanValidationError(validation.problems);
    return dispatchPlan(this.dispatchTarget(), validation.plan, validation.targets, options);
  }

  /** Supervises one more workspace from now on (a plan may name any directory). */
  async addWorkspace(spec: WorkspaceSpec): Promise<void> {
    if (this.runtimes.has(spec.name)) throw new SupervisorError(`workspace name "${spec.name}" is already in use`, 2);
    const runtime = this.register(spec);
    await this.startWorkspace(runtime);
  }

  // async: a usage error thrown by the check (userActions.ts) becomes the rejection.
  async ackSignal(signalId: string): Promise<void> {
    this.emit(ackEvent(this.state, signalId, this.now()));
  }

  async answerApproval(key: string, decision: ApprovalDecision): Promise<void> {
    this.emit(approvalAnsweredEvent(this.state, key, decision, this.now()));
  }

  async answerQuestion(key: string, answers: Record<string, string[]>): Promise<void> {
    this.emit(questionAnsweredEvent(this.state, key, answers, this.now()));
  }

  async interruptTurn(threadId: string, turnId: string): Promise<void> {
    const thread = this.state.threads[threadId];
    if (!thread) throw new SupervisorError(`no thread "${threadId}"`, 2);
    const connection = this.runtimes.get(thread.workspace)?.connection;
    if (!connection || connection.isClosed) throw new SupervisorError(`workspace "${thread.workspace}" has no running app-server`);
    try {
      await connection.request('turn/interrupt', { threadId, turnId });
    } catch (error) {
      // The turn may have ended on its own meanwhile ("no active turn to interrupt").
      if (this.state.threads[threadId]?.currentTurnId === turnId) throw error;
    }
  }

  /** The live state, to serialize only (no copy; never modify it). */
  liveState(): Readonly<SupervisorState> {
    return this.state;
  }

  /** A problem of the supervisor itself (e.g. the state file), raised as a signal until cleared. */
  reportProblem(key: string, message: string): void {
    this.emit({ type: 'supervisor/problem', atMs: this.now(), key, message });
  }

  clearProblem(key: string): void {
    this.emit({ type: 'supervisor/problemCleared', atMs: this.now(), key });
  }

  subscribe(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when the predicate holds for the current state (checked after every change). */
  waitUntil(predicate: (state: SupervisorState) => boolean, timeoutMs: number): Promise<SupervisorState> {
    if (predicate(this.state)) return Promise.resolve(this.state);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new SupervisorError(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for the supervisor`));
      }, timeoutMs);
      const unsubscribe = this.subscribe(() => {
        if (!predicate(this.state)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(this.state);
      });
    });
  }

  // ---- chat: history and the planner's app-server ----

  /** The chat runs here, next to the planner and the state, whichever client types into it. */
  private chatService(): ChatService {
    if (!this.chat) {
      this.chat = new ChatService({ api: this, planner: new Planner({ connection: () => this.plannerConnection() }), emit: (e) => this.recordChat(e.message) });
      // Results of the chat's jobs flow back into the chat for as long as we run.
      this.chat.follow();
    }
    return this.chat;
  }

  chatSend(line: string, options?: SendOptions): Promise<ChatReply> {
    return this.chatService().send(line, options);
  }

  chatDecide(proposalId: string, decision: 'confirm' | 'reject', editedPlan?: unknown): Promise<ChatReply> {
    return decision === 'confirm' ? this.chatService().confirm(proposalId, editedPlan) : this.chatService().reject(proposalId);
  }

  /** Adds a message to the chat history; the chat service records everything through this. */
  recordChat(message: ChatMessage): void {
    this.emit({ type: 'chat/message', atMs: message.atMs, message });
  }

  /**
   * The planner's own app-server in `plannerDir`, apart from the workspaces so its thread never
   * shows up as work. Started on first use, and again if it exited; calls are chained so
   * concurrent callers share one process.
   */
  plannerConnection(): Promise<AppServerConnection> {
    const dir = this.options.plannerDir;
    if (this.stopped) return Promise.reject(new SupervisorError('the supervisor is stopped; the planner is not available'));
    if (!dir) return Promise.reject(new SupervisorError('this supervisor has no planner directory (plannerDir), so the chat cannot plan'));
    const previous = this.planner;
    const next = (async () => {
      const running = previous ? await previous.catch(() => null) : null;
      if (running && !running.isClosed) return running;
      await mkdir(dir, { recursive: true });
      const connection = new AppServerConnection({
        ...this.options.connection,
        argv: [this.options.codexBin, 'app-server'],
        cwd: dir,
        env: { ...this.options.env },
        now: this.now,
      });
      await connection.start();
      return connection;
    })();
    this.planner = next;
    return next;
  }

  private async stopPlanner(): Promise<void> {
    const connection = await this.planner?.catch(() => null);
    if (connection && !connection.isClosed) await connection.stop();
  }

  // ---- events and effects ----

  private emit(event: SupervisorEvent): void {
    const [state, effects] = reduce(this.state, event);
    this.state = state;
    const raised: SignalRecord[] = [];
    for (const effect of effects) this.runEffect(effect, raised);
    const change: StateChange = { seq: state.seq, atMs: event.atMs, eventType: event.type, raised };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private runEffect(effect: Effect, raised: SignalRecord[]): void {
    switch (effect.type) {
      case 'notify': {
        const signal = this.state.signals[effect.signalId];
        if (signal) raised.push(signal);
        return;
      }
      case 'answerServerRequest':
      case 'rejectServerRequest': {
        const rt = this.runtimes.get(effect.workspace);
        const deferred = rt?.waiting.get(String(effect.requestId));
        if (!rt || !deferred) return;
        rt.waiting.delete(String(effect.requestId));
        if (effect.type === 'answerServerRequest') deferred.resolve(effect.result);
        else deferred.reject(new Error(effect.message));
        return;
      }
      case 'resumeThreads': {
        const rt = this.runtimes.get(effect.workspace);
        if (rt) void this.resumeThreads(rt, effect.threadIds);
        return;
      }
    }
  }

  // ---- workspace lifecycle ----

  private async startWorkspace(rt: WorkspaceRuntime): Promise<void> {
    if (this.stopped || rt.stopping) return;
    const name = rt.spec.name;
    this.emit({ type: 'connection/starting', atMs: this.now(), workspace: name });
    const connection = new AppServerConnection({
      ...this.options.connection,
      argv: rt.argv,
      cwd: rt.spec.path,
      env: { ...this.options.env, ...rt.spec.env },
      now: this.now,
    });
    rt.connection = connection;
    rt.pingKilled = false;
    connection.on((event) => {
      if (rt.connection === connection) this.onConnectionEvent(rt, event);
    });
    connection.onServerRequest((request) => this.onServerRequest(rt, request));
    try {
      const info = await connection.start();
      if (connection.isClosed) throw new Error(`app-server exited right after the handshake`);
      this.emit({ type: 'connection/ready', atMs: this.now(), workspace: name, pid: connection.pid ?? null, codexVersion: info.codexVersion });
      // Dispatch may go ahead now; start() still waits for the listing, so `status` shows the threads.
      rt.markFirstAttempt();
      if (this.options.listKnownThreads !== false) await this.listKnownThreads(rt, connection);
    } catch (error) {
      if (rt.connection === connection && !rt.stopping) {
        const message = error instanceof Error ? error.message : String(error);
        this.emit({ type: 'connection/startFailed', atMs: this.now(), workspace: name, message, stderrTail: connection.stderrTail().slice(-10) });
        this.scheduleRestart(rt, null);
      }
      rt.markFirstAttempt();
    }
  }

  private onConnectionEvent(rt: WorkspaceRuntime, event: ConnectionEvent): void {
    const workspace = rt.spec.name;
    switch (event.type) {
      case 'notification': {
        const normalized = normalizeNotification(workspace, event.notification);
        if (normalized) this.emit(normalized);
        return;
      }
      case 'protocolError':
        this.emit({ type: 'protocol/error', atMs: event.atMs, workspace, reason: event.reason, line: event.line });
        return;
      case 'warning':
        this.emit({ type: 'connection/warning', atMs: event.atMs, workspace, message: event.message });
        return;
      case 'disconnected':
        this.onDisconnected(rt, event.disconnect);
        return;
    }
  }

  private onDisconnected(rt: WorkspaceRuntime, d: DisconnectEvent): void {
    const workspace = rt.spec.name;
    this.dropWaiting(rt, 'the app-server exited');
    if (rt.stopping || d.reason === 'stopped') {
      this.emit({ type: 'connection/stopped', atMs: d.atMs, workspace });
      return;
    }
    // A failed handshake is reported (and retried) by startWorkspace.
    if (this.state.workspaces[workspace]?.status !== 'ready') return;
    const pingTimeout = formatDuration(this.options.pingTimeoutMs ?? DEFAULTS.pingTimeoutMs);
    const exit = rt.pingKilled
      ? `stopped answering (no reply to a ping within ${pingTimeout}) and was killed`
      : d.signal
        ? `was killed by ${d.signal}`
        : d.reason === 'stdoutClosed'
          ? 'closed its output'
          : `exited with code ${d.code}`;
    const connectedAt = this.state.workspaces[workspace]?.connectedAtMs ?? null;
    this.emit({ type: 'connection/disconnected', atMs: d.atMs, workspace, exit, stderrTail: d.stderrTail.slice(-10) });
    this.scheduleRestart(rt, connectedAt);
  }

  private scheduleRestart(rt: WorkspaceRuntime, connectedAtMs: number | null): void {
    if (this.stopped || rt.stopping) return;
    // A server that ran well for a while gets a fresh set of attempts.
    if (connectedAtMs !== null && this.now() - connectedAtMs >= this.restart.stableAfterMs) rt.attempts = 0;
    rt.attempts++;
    const name = rt.spec.name;
    if (rt.attempts > this.restart.maxAttempts) {
      this.emit({ type: 'connection/gaveUp', atMs: this.now(), workspace: name, attempts: rt.attempts - 1 });
      return;
    }
    const delayMs = backoffDelay(rt.attempts - 1, this.restart.baseDelayMs, this.restart.maxDelayMs, this.random);
    this.emit({ type: 'connection/restarting', atMs: this.now(), workspace: name, attempt: rt.attempts, delayMs });
    rt.restartTimer = setTimeout(() => {
      rt.restartTimer = null;
      void this.startWorkspace(rt);
    }, delayMs);
  }

  private onServerRequest(rt: WorkspaceRuntime, request: ServerRequestEvent): Promise<unknown> {
    // Every request gets a promise the reducer's effects settle: answered by the user, or at
    // once with a failure for requests we cannot handle. None is left unanswered.
    const answer = new Promise<unknown>((resolve, reject) => rt.waiting.set(String(request.id), { resolve, reject }));
    this.emit(normalizeServerRequest(rt.spec.name, request));
    return answer;
  }

  private dropWaiting(rt: WorkspaceRuntime, reason: string): void {
    for (const deferred of rt.waiting.values()) deferred.reject(new Error(reason));
    rt.waiting.clear();
  }

  /** Known threads of the workspace (from disk), so status shows them before any new work. */
  private async listKnownThreads(rt: WorkspaceRuntime, connection: AppServerConnection): Promise<void> {
    try {
      const raw = await connection.request('thread/list', { cwd: rt.spec.path, limit: 25, sortKey: 'updated_at' }, { timeoutMs: 10_000 });
      const parsed = ThreadListResponseSchema.safeParse(raw);
      if (!parsed.success) return;
      for (const thread of parsed.data.data) {
        if (this.state.threads[thread.id]) continue;
        this.emit({ type: 'thread/seen', atMs: thread.updatedAt * 1000, workspace: rt.spec.name, thread: seenThread(thread) });
      }
    } catch {
      // Listing is a convenience; the workspace works without it.
    }
  }

  private async resumeThreads(rt: WorkspaceRuntime, threadIds: string[]): Promise<void> {
    const connection = rt.connection;
    if (!connection) return;
    await Promise.all(
      threadIds.map(async (threadId) => {
        try {
          const raw = await connection.request('thread/resume', { threadId, excludeTurns: true });
          const parsed = ThreadStartResponseSchema.safeParse(raw);
          if (parsed.success) this.emit({ type: 'thread/seen', atMs: this.now(), workspace: rt.spec.name, thread: seenThread(parsed.data.thread) });
        } catch (error) {
          this.emit({
            type: 'thread/resumeFailed',
            atMs: this.now(),
            workspace: rt.spec.name,
            threadId,
            message: error instanceof Error ? error.message : String(error),
          });
        }
      }),
    );
  }

  // ---- pull: health ticks ----

  private tick(): void {
    if (this.stopped) return;
    this.emit({ type: 'health/tick', atMs: this.now() });
    for (const rt of this.runtimes.values()) void this.ping(rt);
  }

  private async ping(rt: WorkspaceRuntime): Promise<void> {
    const connection = rt.connection;
    if (!connection || connection.isClosed || rt.pingInFlight) return;
    if (this.state.workspaces[rt.spec.name]?.status !== 'ready') return;
    rt.pingInFlight = true;
    try {
      await connection.request('thread/loaded/list', {}, { timeoutMs: this.options.pingTimeoutMs ?? DEFAULTS.pingTimeoutMs, retryOverload: false });
    } catch (error) {
      if (error instanceof RequestTimeoutError && rt.connection === connection) {
        rt.pingKilled = true;
        connection.kill('SIGKILL');
      }
    } finally {
      rt.pingInFlight = false;
    }
  }

  /** Runs one health check now (tests and `status` use it instead of waiting for the interval). */
  checkHealth(): void {
    this.tick();
  }

  // ---- dispatch ----

  private dispatchTarget(): DispatchTarget {
    return {
      now: this.now,
      state: () => this.state,
      emit: (event) => this.emit(event),
      problem: (key, message) => this.reportProblem(key, message),
      ledger: this.options.ledger ?? null,
      connectionFor: async (target: PlanTarget) => {
        if (target.kind === 'directory' && !this.runtimes.has(target.workspace)) {
          await this.addWorkspace({ name: target.workspace, path: target.path });
        }
        const name = target.workspace;
        const rt = this.runtimes.get(name);
        if (!rt) throw new SupervisorError(`unknown workspace "${name}"`, 2);
        await rt.firstAttempt;
        const connection = rt.connection;
        const workspace = this.state.workspaces[name];
        if (!connection || connection.isClosed || workspace?.status !== 'ready') {
          const status = workspace?.status ?? 'not started';
          throw new SupervisorError(`workspace "${name}" has no running app-server (${status}): ${workspace?.lastError?.message ?? 'not connected'}`);
        }
        return connection;
      },
    };
  }
}
