import type { AppServerConnection, ConnectionOptions } from '../connection/appServerConnection.js';
import type { CodexClient } from '../connection/codexClient.js';
import type {
  ChatReply,
  DecideOptions,
  DispatchOptions,
  DispatchResult,
  SendOptions,
  StateChange,
  SupervisorApi,
  ThreadDiff,
  ThreadTurnResult,
  Transcript,
} from '../api/supervisorApi.js';
import { validatePlanValue, type PlanTarget } from '../contract/validatePlan.js';
import { dispatchPlan, type DispatchTarget } from '../dispatch/dispatchPlan.js';
import { PlanScheduler } from '../dispatch/planScheduler.js';
import { startPlanRun } from '../dispatch/startPlanRun.js';
import type { DispatchLedger } from '../dispatch/ledger.js';
import type { WorktreeManager } from '../git/worktrees.js';
import { PlanValidationError, SupervisorError } from '../errors.js';
import { connectHost } from '../hosts/connectHost.js';
import { LOCAL_HOST, localHost, sshUrl, type HostSpec, type WorkspaceSpec } from '../hosts/hostSpec.js';
import type { ApprovalDecision, Effect, SupervisorEvent } from '../state/events.js';
import { initialState, snapshotOf, type ChatMessage, type FeedEntry, type NotificationSettings, type SignalRecord, type SupervisorState } from '../state/model.js';
import { reduce } from '../state/reducer.js';
import { ackEvent, approvalAnsweredEvent, questionAnsweredEvent } from '../state/userActions.js';
import { planWorkspaces, selectFeed, type FeedFilter } from '../state/selectors.js';
import type { PersistedState } from '../persistence/stateSchema.js';
import { ChatService } from '../chat/chatService.js';
import { Planner } from '../chat/planner.js';
import { callEach } from '../util/listeners.js';
import { HostRunner, type HostRunnerContext, type RestartPolicy } from './hostRunner.js';
import { PlannerConnection } from './plannerConnection.js';
import * as threadActions from './threadActions.js';

/** A workspace as callers give it: on `local` unless it names a host. */
export type WorkspaceInput = Omit<WorkspaceSpec, 'host'> & { host?: string };

export interface StopOptions {
  /** How long running turns on private app-servers may take to finish before they are interrupted. */
  graceMs?: number;
  /** Why, in the words the feed and the signal use: `stopped by daemon stop`. */
  reason?: string;
}

export interface SupervisorOptions {
  /** Hosts besides `local`, and `local`'s own settings; `local` always exists. */
  hosts?: HostSpec[];
  workspaces: WorkspaceInput[];
  /** The codex binary of local hosts that name none (and of the planner). */
  codexBin: string;
  /** Added to the environment of every local app-server (tests point CODEX_HOME at a mock). */
  env?: Record<string, string>;
  pollIntervalMs?: number;
  stallAfterMs?: number;
  pingTimeoutMs?: number;
  restart?: Partial<RestartPolicy>;
  /** Passed to every connection (timeouts, grace periods). */
  connection?: Partial<Omit<ConnectionOptions, 'transport' | 'argv' | 'cwd' | 'env'>>;
  feedLimit?: number;
  /**
   * Catch up with each host's threads once it is up (what happened while we were away, threads
   * already on disk), so views show them before any new work (default). `dispatch` turns it
   * off: it shows only its own actions, and a listing slows the first requests it makes.
   */
  listKnownThreads?: boolean;
  /** Where dispatched actions are recorded so a re-run plan skips them. */
  ledger?: DispatchLedger;
  /** Makes the worktrees of plan actions with `worktree` (the home's); none: such actions fail, saying so. */
  worktrees?: WorktreeManager;
  /** Where the chat's planner runs its own app-server (created on demand); none: no planner. */
  plannerDir?: string;
  /** State persisted by a previous run: restored, its lost work marked, its threads resumed. */
  restored?: PersistedState;
  /** Opens a host's connection (tests replace it); default: connectHost. */
  connect?: HostRunnerContext['connect'];
  now?: () => number;
  random?: () => number;
}

export const DEFAULTS = {
  pollIntervalMs: 5_000,
  stallAfterMs: 120_000,
  pingTimeoutMs: 10_000,
  restart: { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, stableAfterMs: 60_000 } satisfies RestartPolicy,
};

/**
 * The supervisor loop: owns the state, the only place it changes (events → reduce → effects),
 * and one HostRunner per host, which connects to that host's app-server and turns what it
 * hears into events (push). Pings and stall checks run on an interval (pull).
 */
export class Supervisor implements SupervisorApi {
  private state: SupervisorState;
  private readonly hosts = new Map<string, HostRunner>();
  private readonly listeners = new Set<(change: StateChange) => void>();
  private tickTimer: NodeJS.Timeout | null = null;
  private chat: ChatService | null = null;
  private stopped = false;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly runnerContext: HostRunnerContext;
  private readonly planner: PlannerConnection;
  /** Runs v2 plans (state.planRuns): looks after every change, started with the loop. */
  private readonly scheduler: PlanScheduler;

  constructor(private readonly options: SupervisorOptions) {
    this.state = { ...initialState({ feedLimit: options.feedLimit }), ...options.restored };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    const env = options.env ?? {};
    this.runnerContext = {
      state: () => this.state,
      emit: (event) => this.emit(event),
      connect: options.connect ?? ((spec, signal) => connectHost(spec, { codexBin: options.codexBin, env, connection: options.connection, now: this.now, signal })),
      now: this.now,
      random: this.random,
      restart: { ...DEFAULTS.restart, ...options.restart },
      pingTimeoutMs: options.pingTimeoutMs ?? DEFAULTS.pingTimeoutMs,
      catchUp: options.listKnownThreads !== false,
    };
    this.planner = new PlannerConnection({ dir: options.plannerDir, codexBin: options.codexBin, env, connection: options.connection, now: this.now });
    this.scheduler = new PlanScheduler({ ...this.dispatchTarget(), interrupt: (threadId, turnId) => this.interruptTurn(threadId, turnId), worktrees: options.worktrees ?? null });
    const names = new Set<string>();
    for (const spec of options.workspaces) {
      if (names.has(spec.name)) throw new SupervisorError(`workspace name "${spec.name}" is used twice; names must be unique`, 2);
      names.add(spec.name);
    }
  }

  /** Connects to every host that serves a workspace, and starts the health loop; resolves once each first attempt settled. */
  async start(): Promise<void> {
    if (this.options.restored) this.emit({ type: 'supervisor/restored', atMs: this.now() });
    const specs = new Map<string, HostSpec>([[LOCAL_HOST, localHost()]]);
    for (const host of this.options.hosts ?? []) specs.set(host.name, host);
    for (const ws of this.options.workspaces) {
      const host = ws.host ?? LOCAL_HOST;
      if (!specs.has(host)) throw new SupervisorError(`workspace "${ws.name}" is on host "${host}", which is not configured; known hosts: ${[...specs.keys()].join(', ')}`, 2);
    }
    for (const spec of specs.values()) this.registerHost(spec);
    for (const ws of this.options.workspaces) this.registerWorkspace(ws);
    // Plan runs go on (a restored one too) once every workspace they may name is known.
    this.scheduler.begin();
    this.tickTimer = setInterval(() => this.tick(), this.options.pollIntervalMs ?? DEFAULTS.pollIntervalMs);
    this.tickTimer.unref();
    // A host without workspaces is not connected to until one needs it.
    const used = [...this.hosts.values()].filter((runner) => this.workspacesOn(runner.name).length > 0);
    await Promise.all(used.map((runner) => runner.start()));
  }

  private registerHost(spec: HostSpec): HostRunner {
    const runner = new HostRunner(spec, this.runnerContext);
    this.hosts.set(spec.name, runner);
    this.emit({ type: 'host/added', atMs: this.now(), name: spec.name, kind: spec.kind, target: hostTarget(spec) });
    return runner;
  }

  private registerWorkspace(ws: WorkspaceInput): void {
    this.emit({
      type: 'workspace/added',
      atMs: this.now(),
      name: ws.name,
      host: ws.host ?? LOCAL_HOST,
      path: ws.path,
      stallAfterMs: ws.stallAfterMs ?? this.options.stallAfterMs ?? DEFAULTS.stallAfterMs,
    });
  }

  private workspacesOn(host: string): string[] {
    return Object.values(this.state.workspaces).flatMap((w) => (w.host === host ? [w.name] : []));
  }

  /** The TUIs' notification settings (config.json's `notifications`), for every client alike. */
  setNotifications(settings: NotificationSettings): void {
    if (JSON.stringify(settings) === JSON.stringify(this.state.notifications)) return;
    this.emit({ type: 'settings/notifications', atMs: this.now(), settings });
  }

  /**
   * Closes every host's connection. Codex's daemon keeps its turns (they are caught up with on
   * the next start); a private app-server ends with us, so its running turns get up to
   * `graceMs` to finish, then are interrupted, each with a feed line and a signal that say why.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.scheduler.stop();
    if (this.tickTimer) clearInterval(this.tickTimer);
    await this.endPrivateTurns(options.graceMs ?? 0, options.reason ?? 'cm-supervisor stopped');
    await Promise.all([...this.hosts.values()].map((runner) => runner.stop()));
    await this.planner.stop();
    await this.options.ledger?.settled();
  }

  /** Turns running on an app-server that ends with us. */
  private privateTurns(state: SupervisorState): { workspace: string; threadId: string; turnId: string }[] {
    return Object.values(state.threads).flatMap((t) => {
      const host = state.hosts[state.workspaces[t.workspace]?.host ?? ''];
      return t.currentTurnId !== null && host?.transport === 'private' && host.status === 'ready' ? [{ workspace: t.workspace, threadId: t.id, turnId: t.currentTurnId }] : [];
    });
  }

  private async endPrivateTurns(graceMs: number, reason: string): Promise<void> {
    if (this.privateTurns(this.state).length === 0) return;
    if (graceMs > 0) await this.waitUntil((s) => this.privateTurns(s).length === 0, graceMs).catch(() => {});
    const left = this.privateTurns(this.state);
    await Promise.all(
      left.map(async ({ workspace, threadId, turnId }) => {
        this.emit({ type: 'turn/interruptedByStop', atMs: this.now(), workspace, threadId, turnId, reason });
        const client = await this.clientOf(workspace).catch(() => null);
        await client?.turnInterrupt({ threadId, turnId }).catch(() => {});
      }),
    );
  }

  /**
   * Takes a new configuration while running: hosts and workspaces that appeared are added (and
   * connected), those that went are dropped, those whose settings changed are reconnected.
   * Returns what changed, in words.
   */
  async applyConfig(hosts: HostSpec[], workspaces: WorkspaceInput[]): Promise<string[]> {
    const changes: string[] = [];
    const specs = new Map<string, HostSpec>([[LOCAL_HOST, localHost()]]);
    for (const host of hosts) specs.set(host.name, host);
    const wanted = new Map(workspaces.map((w) => [w.name, { ...w, host: w.host ?? LOCAL_HOST }]));
    // Workspaces that went, or moved to another host or directory.
    for (const ws of Object.values(this.state.workspaces)) {
      const next = wanted.get(ws.name);
      if (next && next.host === ws.host && next.path === ws.path) continue;
      this.emit({ type: 'workspace/removed', atMs: this.now(), name: ws.name });
      changes.push(`workspace ${ws.name} removed`);
    }
    // Hosts that went or changed: their connection ends (a changed one reconnects below).
    for (const [name, runner] of this.hosts) {
      const spec = specs.get(name);
      if (spec && JSON.stringify(spec) === JSON.stringify(runner.spec)) continue;
      this.hosts.delete(name);
      await runner.stop();
      if (!spec) {
        for (const ws of Object.values(this.state.workspaces)) if (ws.host === name) this.emit({ type: 'workspace/removed', atMs: this.now(), name: ws.name });
        this.emit({ type: 'host/removed', atMs: this.now(), name });
        changes.push(`host ${name} removed`);
      } else changes.push(`host ${name} changed`);
    }
    for (const spec of specs.values()) if (!this.hosts.has(spec.name)) this.registerHost(spec);
    const caughtUp = new Set<HostRunner>();
    for (const ws of wanted.values()) {
      if (this.state.workspaces[ws.name]) continue;
      const runner = this.hosts.get(ws.host);
      if (!runner) continue;
      this.registerWorkspace(ws);
      changes.push(`workspace ${ws.name} added`);
      if (runner.started) caughtUp.add(runner);
    }
    // Hosts that serve workspaces now are connected (new, changed, or idle until now); hosts
    // already up catch up with their new workspaces' threads.
    const idle = [...this.hosts.values()].filter((r) => !r.started && this.workspacesOn(r.name).length > 0);
    await Promise.all([...idle.map((r) => r.start()), ...[...caughtUp].map((r) => r.catchUp())]);
    return changes;
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
      workspaces: planWorkspaces(this.state),
      hosts: Object.keys(this.state.hosts),
      baseDir: options.baseDir ?? process.cwd(),
      // Checked here too: a plan reaches the daemon from any client, with that client's opt-in.
      allowUnsafe: options.allowUnsafe === true,
    });
    if (!validation.ok) throw new PlanValidationError(validation.problems);
    if (validation.plan.version === 2 && !options.dryRun) return startPlanRun(this.dispatchTarget(), validation.plan, validation.targets, options);
    return dispatchPlan(this.dispatchTarget(), validation.plan, validation.targets, options);
  }

  /** Supervises one more workspace from now on (a plan may name any local directory). */
  async addWorkspace(ws: WorkspaceInput): Promise<void> {
    if (this.state.workspaces[ws.name]) throw new SupervisorError(`workspace name "${ws.name}" is already in use`, 2);
    const runner = this.hosts.get(ws.host ?? LOCAL_HOST);
    if (!runner) throw new SupervisorError(`unknown host "${ws.host}"; known hosts: ${[...this.hosts.keys()].join(', ')}`, 2);
    this.registerWorkspace(ws);
    if (!runner.started) await runner.start();
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
    const client = await this.clientOf(thread.workspace);
    try {
      await client.turnInterrupt({ threadId, turnId });
    } catch (error) {
      // The turn may have ended on its own meanwhile ("no active turn to interrupt").
      if (this.state.threads[threadId]?.currentTurnId === turnId) throw error;
    }
  }

  reply(threadId: string, text: string): Promise<ThreadTurnResult> {
    return threadActions.reply(this.threadActionTarget(), threadId, text);
  }

  retryTurn(threadId: string): Promise<ThreadTurnResult> {
    return threadActions.retryTurn(this.threadActionTarget(), threadId);
  }

  transcript(threadId: string): Promise<Transcript> {
    return threadActions.transcript(this.threadActionTarget(), threadId);
  }

  async threadDiff(threadId: string): Promise<ThreadDiff> {
    return threadActions.threadDiff(this.state, threadId);
  }

  archiveThread(threadId: string): Promise<void> {
    return threadActions.archiveThread(this.threadActionTarget(), threadId);
  }

  private threadActionTarget(): threadActions.ThreadActionTarget {
    return {
      state: () => this.state,
      emit: (event) => this.emit(event),
      now: this.now,
      client: (workspace) => this.clientOf(workspace),
      clientWithThread: (workspace, threadId) => {
        const runner = this.runnerOf(workspace);
        return runner ? runner.clientWithThread(workspace, threadId) : Promise.reject(new SupervisorError(`unknown workspace "${workspace}"`, 2));
      },
    };
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

  /** Kills a host's connection with a signal (tests, and simulating a crash). */
  killHost(host: string, signal: NodeJS.Signals): void {
    this.hosts.get(host)?.kill(signal);
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

  chatDecide(proposalId: string, decision: 'confirm' | 'reject', editedPlan?: unknown, options?: DecideOptions): Promise<ChatReply> {
    return decision === 'confirm' ? this.chatService().confirm(proposalId, editedPlan, options) : this.chatService().reject(proposalId);
  }

  /** Adds a message to the chat history; the chat service records everything through this. */
  recordChat(message: ChatMessage): void {
    this.emit({ type: 'chat/message', atMs: message.atMs, message });
  }

  /** The planner's own app-server (see PlannerConnection). */
  plannerConnection(): Promise<AppServerConnection> {
    return this.stopped ? Promise.reject(new SupervisorError('the supervisor is stopped; the planner is not available')) : this.planner.get();
  }

  // ---- events and effects ----

  private emit(event: SupervisorEvent): void {
    const [state, effects] = reduce(this.state, event);
    this.state = state;
    const raised: SignalRecord[] = [];
    for (const effect of effects) this.runEffect(effect, raised);
    this.scheduler.poke();
    const change: StateChange = { seq: state.seq, atMs: event.atMs, eventType: event.type, raised, event };
    callEach(this.listeners, change);
  }

  private runEffect(effect: Effect, raised: SignalRecord[]): void {
    switch (effect.type) {
      case 'notify': {
        const signal = this.state.signals[effect.signalId];
        if (signal) raised.push(signal);
        return;
      }
      case 'answerServerRequest':
        this.runnerOf(effect.workspace)?.settle(effect.requestId, { result: effect.result });
        return;
      case 'rejectServerRequest':
        this.runnerOf(effect.workspace)?.settle(effect.requestId, { error: effect.message });
        return;
      case 'resumeThreads':
        void this.runnerOf(effect.workspace)?.resumeThreads(effect.workspace, effect.threadIds);
        return;
    }
  }

  private runnerOf(workspace: string): HostRunner | undefined {
    const host = this.state.workspaces[workspace]?.host;
    return host === undefined ? undefined : this.hosts.get(host);
  }

  /** The client of the host serving `workspace`, once its first connection attempt settled. */
  private clientOf(workspace: string): Promise<CodexClient> {
    const runner = this.runnerOf(workspace);
    if (!runner) return Promise.reject(new SupervisorError(`unknown workspace "${workspace}"`, 2));
    return runner.ready(workspace);
  }

  // ---- pull: health ticks ----

  private tick(): void {
    if (this.stopped) return;
    this.emit({ type: 'health/tick', atMs: this.now() });
    for (const runner of this.hosts.values()) void runner.ping();
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
      clientFor: async (target: PlanTarget) => {
        if (target.kind === 'directory' && !this.state.workspaces[target.workspace]) {
          await this.addWorkspace({ name: target.workspace, path: target.path });
        }
        return this.clientOf(target.workspace);
      },
    };
  }
}

/** How a host is shown: its ssh URL, its command, or this machine. */
function hostTarget(spec: HostSpec): string {
  if (spec.kind === 'ssh' && spec.ssh) return sshUrl(spec.ssh);
  if (spec.kind === 'command') return (spec.command ?? []).join(' ');
  return 'this machine';
}
