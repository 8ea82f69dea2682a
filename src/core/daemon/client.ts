import { connect, type Socket } from 'node:net';
import type { DispatchOptions, DispatchResult, StateChange, SupervisorApi } from '../api/supervisorApi.js';
import type { ChatReply, SendOptions } from '../api/supervisorApi.js';
import { ConnectionClosedError, PlanValidationError, RequestTimeoutError, SupervisorError } from '../errors.js';
import { LineDecoder } from '../protocol/lineDecoder.js';
import type { ApprovalDecision } from '../state/events.js';
import type { FeedEntry, SupervisorState } from '../state/model.js';
import type { FeedFilter } from '../state/selectors.js';
import {
  ChangeNotificationSchema,
  DAEMON_PROTOCOL_VERSION,
  DaemonStatusSchema,
  HelloResultSchema,
  ResponseSchema,
  ResyncNotificationSchema,
  type DaemonStatus,
} from './protocol.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The SupervisorApi over the daemon's socket. Subscribers get the daemon's changes; when a
 * sequence number is skipped or the daemon says this client fell behind, they get a `resync`
 * change and must re-read the snapshot (the TUI always does).
 */
export class DaemonClient implements SupervisorApi {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(change: StateChange) => void>();
  private readonly closeListeners = new Set<() => void>();
  private subscribed: Promise<unknown> | null = null;
  private lastSeq: number | null = null;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
    private readonly timeoutMs: number,
  ) {
    const decoder = new LineDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk).lines) this.handleLine(line);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const [, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new ConnectionClosedError('the cm-supervisor daemon closed the connection'));
      }
      this.pending.clear();
      for (const listener of this.closeListeners) listener();
    });
  }

  /** Connects and performs the version handshake; fails fast when no daemon listens. */
  static async connect(socketPath: string, options: { timeoutMs?: number; client?: string } = {}): Promise<DaemonClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(socketPath);
      s.once('connect', () => resolve(s));
      s.once('error', (error: NodeJS.ErrnoException) =>
        reject(new SupervisorError(`no cm-supervisor daemon is listening on ${socketPath} (${error.code ?? error.message}); start one with \`cm-supervisor daemon start\``)),
      );
    });
    const client = new DaemonClient(socket, socketPath, options.timeoutMs ?? 30_000);
    try {
      HelloResultSchema.parse(await client.request('hello', { protocolVersion: DAEMON_PROTOCOL_VERSION, client: options.client ?? 'cm-supervisor' }));
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  async snapshot(): Promise<SupervisorState> {
    return (await this.request('supervisor.snapshot', {})) as SupervisorState;
  }

  async feed(filter?: FeedFilter): Promise<FeedEntry[]> {
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

  async chatSend(line: string, options: SendOptions = {}): Promise<ChatReply> {
    // The planner may take a while: as long as a turn of the model.
    return (await this.request('supervisor.chatSend', { line, options }, 300_000)) as ChatReply;
  }

  async chatDecide(proposalId: string, decision: 'confirm' | 'reject', editedPlan?: unknown): Promise<ChatReply> {
    return (await this.request('supervisor.chatDecide', { proposalId, decision, ...(editedPlan === undefined ? {} : { editedPlan }) }, 300_000)) as ChatReply;
  }

  subscribe(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    this.subscribed ??= this.request('supervisor.subscribe', {}).catch(() => {});
    return () => this.listeners.delete(listener);
  }

  async status(): Promise<DaemonStatus> {
    return DaemonStatusSchema.parse(await this.request('daemon.status', {}));
  }

  async stop(): Promise<void> {
    await this.request('daemon.stop', {});
  }

  private request(method: string, params: unknown, timeoutMs = this.timeoutMs): Promise<unknown> {
    if (this.closed) return Promise.reject(new ConnectionClosedError('the cm-supervisor daemon is not connected'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(`the daemon did not answer ${method} within ${Math.round(timeoutMs / 1000)}s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  private handleLine(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return;
    }
    const change = ChangeNotificationSchema.safeParse(raw);
    if (change.success) return this.deliver(change.data.params as StateChange);
    if (ResyncNotificationSchema.safeParse(raw).success) return this.resync();
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

  private deliver(change: StateChange): void {
    if (this.lastSeq !== null && change.seq !== this.lastSeq + 1) this.resync(change.seq);
    this.lastSeq = change.seq;
    for (const listener of this.listeners) listener(change);
  }

  /** Changes were missed: listeners must re-read the snapshot. */
  private resync(seq = this.lastSeq ?? 0): void {
    this.lastSeq = null;
    for (const listener of this.listeners) listener({ seq, atMs: Date.now(), eventType: 'resync', raised: [] });
  }
}
