import { connect, type Socket } from 'node:net';
import type { DispatchOptions, DispatchResult, StateChange, SupervisorApi } from '../api/supervisorApi.js';
import type { ChatReply, DecideOptions, SendOptions, ThreadDiff, ThreadTurnResult, Transcript } from '../api/supervisorApi.js';
import { ConnectionClosedError, PlanValidationError, RequestTimeoutError, SupervisorError } from '../errors.js';
import { LineDecoder } from '../protocol/lineDecoder.js';
import type { ApprovalDecision, SupervisorEvent } from '../state/events.js';
import type { FeedEntry, SupervisorState } from '../state/model.js';
import { selectFeed, type FeedFilter } from '../state/selectors.js';
import { callEach } from '../util/listeners.js';
import { sleep } from '../util/timeout.js';
import {
  DAEMON_PROTOCOL_VERSION,
  DaemonStatusSchema,
  EventsNotificationSchema,
  HelloResultSchema,
  MAX_REQUEST_BYTES,
  ResponseSchema,
  ResyncNotificationSchema,
  StoppingNotificationSchema,
  type DaemonStatus,
} from './protocol.js';
import { checkSocketPath } from './home.js';
import { StateMirror } from './stateMirror.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export interface DaemonClientOptions {
  timeoutMs?: number;
  /** Named in the daemon's hello (its log). */
  client?: string;
  /** Connect again when the daemon goes away (an attached TUI waits for it to come back). */
  reconnect?: boolean;
}

/** Whether the client talks to its daemon right now, and if not, why. */
export interface LinkStatus {
  connected: boolean;
  /** Why not (the daemon stopped, the connection dropped); null while connected. */
  reason: string | null;
}

const RECONNECT_DELAYS_MS = [200, 500, 1_000, 2_000];

/**
 * The SupervisorApi over the daemon's socket. Subscribers get the daemon's changes from a copy
 * of its state kept here (StateMirror: one snapshot, then every event reduced locally), so
 * `snapshot` and `feed` are answered without asking the daemon. A gap in the events, or the
 * daemon saying this client fell behind, drops the copy: subscribers get a `resync` change and
 * a new snapshot is read. With `reconnect`, a lost daemon is waited for and joined again.
 */
export class DaemonClient implements SupervisorApi {
  private socket: Socket;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(change: StateChange) => void>();
  private readonly closeListeners = new Set<() => void>();
  private readonly linkListeners = new Set<(status: LinkStatus) => void>();
  private readonly mirror = new StateMirror();
  private subscribing: Promise<void> | null = null;
  /** The snapshot being read for the copy (at subscribe, after a gap): readers wait for it rather than ask again. */
  private catchingUp: Promise<void> | null = null;
  private closed = false;
  private closedByUs = false;
  private stoppingReason: string | null = null;

  private constructor(
    socket: Socket,
    readonly socketPath: string,
    private readonly options: Required<Omit<DaemonClientOptions, 'client'>> & Pick<DaemonClientOptions, 'client'>,
  ) {
    this.socket = socket;
    this.watch(socket);
  }

  /** Connects and performs the version handshake; fails fast when no daemon listens. */
  static async connect(socketPath: string, options: DaemonClientOptions = {}): Promise<DaemonClient> {
    checkSocketPath(socketPath);
    const socket = await openSocket(socketPath);
    const client = new DaemonClient(socket, socketPath, { timeoutMs: options.timeoutMs ?? 30_000, reconnect: options.reconnect ?? false, client: options.client });
    try {
      await client.hello();
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Called once the connection is gone for good (without `reconnect`: when it closes). */
  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Told when the link to the daemon drops and when it is back (with `reconnect`). */
  onLink(listener: (status: LinkStatus) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  close(): void {
    this.closedByUs = true;
    this.socket.end();
    this.socket.destroy();
  }

  async snapshot(): Promise<SupervisorState> {
    await this.caughtUp();
    return this.mirror.copy() ?? ((await this.request('supervisor.snapshot', {})) as SupervisorState);
  }

  async feed(filter?: FeedFilter): Promise<FeedEntry[]> {
    await this.caughtUp();
    const state = this.mirror.current();
    if (state) return selectFeed(state, filter);
    return (await this.request('supervisor.feed', filter ? { filter } : {})) as FeedEntry[];
  }

  async dispatch(plan: unknown, options: DispatchOptions = {}): Promise<DispatchResult> {
    return (await this.request('supervisor.dispatch', { plan, options }, 120_000)) as DispatchResult;
  }

  async ackSignal(signalId: string): Promise<void> {
    await this.request('supervisor.ackSignal', { signalId });
  }

  async answerApproval(key: string, decision: ApprovalDecision): Promise<void> {
    await this.request('supervisor.answerApproval', { key, decision });
  }

  async answerQuestion(key: string, answers: Record<string, string[]>): Promise<void> {
    await this.request('supervisor.answerQuestion', { key, answers });
  }

  async interruptTurn(threadId: string, turnId: string): Promise<void> {
    await this.request('supervisor.interruptTurn', { threadId, turnId });
  }

  async reply(threadId: string, text: string): Promise<ThreadTurnResult> {
    return (await this.request('supervisor.reply', { threadId, text })) as ThreadTurnResult;
  }

  async retryTurn(threadId: string): Promise<ThreadTurnResult> {
    return (await this.request('supervisor.retryTurn', { threadId })) as ThreadTurnResult;
  }

  async transcript(threadId: string): Promise<Transcript> {
    return (await this.request('supervisor.transcript', { threadId })) as Transcript;
  }

  async threadDiff(threadId: string): Promise<ThreadDiff> {
    return (await this.request('supervisor.threadDiff', { threadId })) as ThreadDiff;
  }

  async archiveThread(threadId: string): Promise<void> {
    await this.request('supervisor.archiveThread', { threadId });
  }

  async chatSend(line: string, options: SendOptions = {}): Promise<ChatReply> {
    // The planner may take a while: as long as a turn of the model.
    return (await this.request('supervisor.chatSend', { line, options }, 300_000)) as ChatReply;
  }

  async chatDecide(proposalId: string, decision: 'confirm' | 'reject', editedPlan?: unknown, options: DecideOptions = {}): Promise<ChatReply> {
    const params = { proposalId, decision, ...(editedPlan === undefined ? {} : { editedPlan }), ...(options.allowUnsafe ? { options } : {}) };
    return (await this.request('supervisor.chatDecide', params, 300_000)) as ChatReply;
  }

  subscribe(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    this.subscribing ??= this.follow().catch(() => {});
    return () => this.listeners.delete(listener);
  }

  async status(): Promise<DaemonStatus> {
    return DaemonStatusSchema.parse(await this.request('daemon.status', {}));
  }

  /** Stops the daemon; turns of private app-servers get `graceMs` to finish first. */
  async stop(graceMs?: number): Promise<void> {
    await this.request('daemon.stop', graceMs === undefined ? {} : { graceMs });
  }

  /** Asks the daemon to read config.json again now (after `workspace add` and the like). */
  async reloadConfig(): Promise<unknown> {
    return this.request('daemon.reloadConfig', {});
  }

  // ---- the connection ----

  private async hello(): Promise<void> {
    HelloResultSchema.parse(await this.request('hello', { protocolVersion: DAEMON_PROTOCOL_VERSION, client: this.options.client ?? 'cm-supervisor' }));
  }

  /** The daemon's events from now on, and the snapshot they follow (taken as the subscription starts). */
  private follow(): Promise<void> {
    return this.catchUp(async () => ((await this.request('supervisor.subscribe', {})) as { snapshot: SupervisorState }).snapshot);
  }

  /** Reads a snapshot and restarts the copy from it; one at a time. */
  private catchUp(read: () => Promise<SupervisorState>): Promise<void> {
    const run: Promise<void> = read().then(
      (snapshot) => {
        if (this.catchingUp === run) this.catchingUp = null;
        this.restart(snapshot);
      },
      (error: unknown) => {
        if (this.catchingUp === run) this.catchingUp = null;
        throw error;
      },
    );
    this.catchingUp = run;
    return run;
  }

  /** Waits for a snapshot already on its way, if any (its failure is the caller's fallback, not an error). */
  private async caughtUp(): Promise<void> {
    if (this.catchingUp && !this.mirror.ready) await this.catchingUp.catch(() => {});
  }

  private restart(snapshot: SupervisorState): void {
    for (const change of this.mirror.reset(snapshot)) this.deliver(change);
    if (!this.mirror.ready) void this.resync();
  }

  /** Changes were missed: listeners are told to re-read, and the copy starts again from a new snapshot. */
  private resync(): Promise<void> {
    // A snapshot already on its way covers this gap too (events after it are held; a gap left shows as one).
    if (this.catchingUp) return this.catchingUp;
    this.mirror.invalidate();
    callEach(this.listeners, { seq: 0, atMs: Date.now(), eventType: 'resync', raised: [] });
    return this.catchUp(async () => (await this.request('supervisor.snapshot', {})) as SupervisorState);
  }

  private watch(socket: Socket): void {
    const decoder = new LineDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk).lines) this.handleLine(line);
    });
    socket.on('error', () => {});
    socket.on('close', () => void this.onSocketClosed(socket));
  }

  private async onSocketClosed(socket: Socket): Promise<void> {
    if (socket !== this.socket) return;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ConnectionClosedError('the connection to the cm-supervisor daemon was lost'));
    }
    this.pending.clear();
    this.mirror.invalidate();
    if (this.closedByUs || !this.options.reconnect) {
      this.closed = true;
      callEach(this.closeListeners, undefined);
      return;
    }
    callEach(this.linkListeners, { connected: false, reason: this.stoppingReason ?? 'the connection to the daemon was lost' });
    this.stoppingReason = null;
    await this.reconnect();
  }

  /** Waits for a daemon on the same socket and joins it again, for as long as we are not closed. */
  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.closedByUs; attempt++) {
      await sleep(RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)]!);
      if (this.closedByUs) break;
      let socket: Socket;
      try {
        socket = await openSocket(this.socketPath);
      } catch {
        continue;
      }
      this.socket = socket;
      this.watch(socket);
      try {
        await this.hello();
        if (this.listeners.size > 0) {
          callEach(this.listeners, { seq: 0, atMs: Date.now(), eventType: 'resync', raised: [] });
          await this.follow();
        }
        callEach(this.linkListeners, { connected: true, reason: null });
        return;
      } catch {
        socket.destroy();
        return; // the close of this socket starts the next round
      }
    }
    this.closed = true;
    callEach(this.closeListeners, undefined);
  }

  private request(method: string, params: unknown, timeoutMs = this.options.timeoutMs): Promise<unknown> {
    if (this.closed) return Promise.reject(new ConnectionClosedError('the cm-supervisor daemon is not connected'));
    const id = this.nextId++;
    const line = `${JSON.stringify({ id, method, params })}\n`;
    // The daemon would drop the connection for it: say so here, where the caller can act on it.
    const bytes = Buffer.byteLength(line);
    if (bytes > MAX_REQUEST_BYTES) return Promise.reject(new SupervisorError(`the ${method} request is ${bytes} bytes, over the daemon's limit of ${MAX_REQUEST_BYTES}; send less at once`, 2));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(`the daemon did not answer ${method} within ${Math.round(timeoutMs / 1000)}s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(line);
    });
  }

  private handleLine(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return;
    }
    const batch = EventsNotificationSchema.safeParse(raw);
    if (batch.success) {
      const { seq, events } = batch.data.params;
      // A gap drops the copy: the rest of the batch is held for the snapshot that follows.
      events.forEach((event, i) => this.onEvent(seq + i, event as unknown as SupervisorEvent));
      return;
    }
    if (ResyncNotificationSchema.safeParse(raw).success) {
      void this.resync().catch(() => {});
      return;
    }
    const stopping = StoppingNotificationSchema.safeParse(raw);
    if (stopping.success) {
      this.stoppingReason = stopping.data.params.reason;
      return;
    }
    const response = ResponseSchema.safeParse(raw);
    if (!response.success) return;
    const pending = this.pending.get(response.data.id);
    if (!pending) return;
    this.pending.delete(response.data.id);
    clearTimeout(pending.timer);
    if ('result' in response.data) pending.resolve(response.data.result);
    else {
      const { message, data } = response.data.error;
      pending.reject(data?.problems ? new PlanValidationError(data.problems) : new SupervisorError(message, data?.exitCode ?? 1));
    }
  }

  private onEvent(seq: number, event: SupervisorEvent): void {
    const change = this.mirror.apply(seq, event);
    if (change === 'gap') void this.resync().catch(() => {});
    else if (typeof change !== 'string') this.deliver(change);
  }

  private deliver(change: StateChange): void {
    callEach(this.listeners, change);
  }
}

function openSocket(socketPath: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s = connect(socketPath);
    s.once('connect', () => resolve(s));
    s.once('error', (error: NodeJS.ErrnoException) =>
      reject(new SupervisorError(`no cm-supervisor daemon is listening on ${socketPath} (${error.code ?? error.message}); start one with \`cm-supervisor daemon start\``)),
    );
  });
}
