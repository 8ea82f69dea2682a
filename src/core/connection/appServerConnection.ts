import { basename } from 'node:path';
import {
  CodexNotFoundError,
  ConnectionClosedError,
  HandshakeError,
  RequestTimeoutError,
  RpcRequestError,
} from '../errors.js';
import { GENERATED_FROM_CODEX_VERSION } from '../protocol/generated/version.js';
import {
  InitializeResponseSchema,
  classifyLine,
  codexVersionFromUserAgent,
  type IncomingMessage,
  type RequestId,
} from '../protocol/wire.js';
import { openStdioTransport } from '../transport/stdioTransport.js';
import type { Transport, TransportClosed, TransportEvent, TransportFactory } from '../transport/transport.js';
import { backoffDelay } from '../util/backoff.js';
import { callEach } from '../util/listeners.js';
import { sleep, within } from '../util/timeout.js';

/** JSON-RPC code the app-server uses for backpressure ("Server overloaded; retry later."). */
export const OVERLOADED_CODE = -32001;
/** Our reply to server requests nobody handles. */
export const UNHANDLED_REQUEST_CODE = -32601;

export interface ConnectionOptions {
  /** How to reach the app-server: a transport to open (see transport/). */
  transport?: TransportFactory;
  /** Shorthand for a JSONL child: a command speaking the protocol on stdio, e.g. `[codexBin, 'app-server']`. */
  argv?: readonly string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
  clientVersion?: string;
  /** Notification methods the server should not send at all (saves parsing deltas we ignore). */
  optOutNotificationMethods?: string[];
  experimentalApi?: boolean;
  requestTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  stopGraceMs?: number;
  stderrTailLines?: number;
  /** How to fix a binary that cannot be started (ENOENT), e.g. which flag or setting names it. */
  notFoundHint?: string;
  overloadRetries?: number;
  overloadBaseDelayMs?: number;
  /** Version the protocol bindings were generated from; a different server gets a warning. */
  expectedCodexVersion?: string;
  random?: () => number;
  now?: () => number;
}

export interface ServerInfo {
  userAgent: string;
  codexVersion: string | null;
  codexHome: string;
  platformOs: string;
}

export interface NotificationEvent {
  method: string;
  params: unknown;
  emittedAtMs: number | undefined;
  receivedAtMs: number;
}

export interface ServerRequestEvent {
  id: RequestId;
  method: string;
  params: unknown;
  receivedAtMs: number;
}

/** How the app-server went away (see TransportClosed). */
export type DisconnectEvent = TransportClosed;

export type ConnectionEvent =
  | { type: 'notification'; notification: NotificationEvent }
  | { type: 'protocolError'; reason: string; line: string; atMs: number }
  | { type: 'warning'; message: string; atMs: number }
  | { type: 'disconnected'; disconnect: DisconnectEvent };

/**
 * Answers a server request (approval, question, tool call). Return a promise of the result,
 * possibly much later (a person answering an approval), or `undefined` to decline handling:
 * the server then gets an explicit error instead of waiting forever.
 */
export type ServerRequestHandler = (request: ServerRequestEvent) => Promise<unknown> | undefined;

interface PendingRequest {
  method: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const MAX_LOGGED_LINE = 500;

type ResolvedOptions = Required<Omit<ConnectionOptions, 'transport' | 'argv' | 'cwd' | 'env' | 'optOutNotificationMethods' | 'notFoundHint'>> &
  Pick<ConnectionOptions, 'optOutNotificationMethods' | 'notFoundHint'>;

/**
 * One app-server connection over any transport (transport/): the initialize handshake,
 * request/response correlation with timeouts, server requests, overload retries and a
 * graceful stop. Never throws from event paths: bad messages become `protocolError` events.
 */
export class AppServerConnection {
  private transport: Transport | null = null;
  private readonly openTransport: TransportFactory;
  private readonly command: readonly string[] | null;
  private nextId = 1;
  private readonly pending = new Map<RequestId, PendingRequest>();
  private readonly listeners = new Set<(event: ConnectionEvent) => void>();
  private requestHandler: ServerRequestHandler | null = null;
  private info: ServerInfo | null = null;
  private readonly opts: ResolvedOptions;

  constructor(options: ConnectionOptions) {
    const { transport, argv, cwd, env, ...rest } = options;
    this.opts = {
      clientVersion: '0.1.0',
      experimentalApi: false,
      requestTimeoutMs: 30_000,
      handshakeTimeoutMs: 20_000,
      stopGraceMs: 2_000,
      stderrTailLines: 50,
      overloadRetries: 5,
      overloadBaseDelayMs: 100,
      expectedCodexVersion: GENERATED_FROM_CODEX_VERSION,
      random: Math.random,
      now: Date.now,
      ...rest,
    };
    this.command = argv ?? null;
    if (transport) this.openTransport = transport;
    else if (argv) {
      this.openTransport = () =>
        openStdioTransport({ argv, cwd, env }, { stderrTailLines: this.opts.stderrTailLines, graceMs: this.opts.stopGraceMs, now: this.opts.now });
    } else throw new Error('AppServerConnection needs a transport or an argv');
  }

  get serverInfo(): ServerInfo | null {
    return this.info;
  }

  /** The local child behind the connection (app-server, ssh, proxy), if any. */
  get pid(): number | undefined {
    return this.transport?.pid ?? undefined;
  }

  get isClosed(): boolean {
    return this.transport?.isClosed ?? false;
  }

  get framing(): Transport['framing'] | null {
    return this.transport?.framing ?? null;
  }

  /** Set once the app-server is gone. */
  get disconnected(): DisconnectEvent | null {
    return this.transport?.closed ?? null;
  }

  stderrTail(): string[] {
    return this.transport?.stderrTail() ?? [];
  }

  /** Subscribe to notifications, protocol errors, warnings and the disconnect. */
  on(listener: (event: ConnectionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onServerRequest(handler: ServerRequestHandler): void {
    this.requestHandler = handler;
  }

  /** Opens the transport and performs `initialize` + `initialized`. */
  async start(): Promise<ServerInfo> {
    if (this.transport) throw new Error('connection already started');
    const transport = await this.openTransport();
    this.transport = transport;
    transport.on((event) => this.onTransportEvent(event));
    try {
      const raw = await this.request(
        'initialize',
        {
          clientInfo: { name: 'cm_supervisor', title: 'cm-supervisor', version: this.opts.clientVersion },
          capabilities: {
            experimentalApi: this.opts.experimentalApi,
            requestAttestation: false,
            optOutNotificationMethods: this.opts.optOutNotificationMethods ?? null,
          },
        },
        { timeoutMs: this.opts.handshakeTimeoutMs, retryOverload: false },
      );
      const parsed = InitializeResponseSchema.safeParse(raw);
      if (!parsed.success) {
        throw new HandshakeError(`${transport.description} answered initialize with an unexpected result: ${JSON.stringify(raw).slice(0, 300)}`);
      }
      this.notify('initialized');
      const codexVersion = codexVersionFromUserAgent(parsed.data.userAgent);
      this.info = {
        userAgent: parsed.data.userAgent,
        codexVersion,
        codexHome: parsed.data.codexHome,
        platformOs: parsed.data.platformOs,
      };
      if (codexVersion !== this.opts.expectedCodexVersion) {
        this.emit({
          type: 'warning',
          message: `codex app-server reports version ${codexVersion ?? `unknown (${parsed.data.userAgent})`}, but cm-supervisor's protocol types come from ${this.opts.expectedCodexVersion}; some events may not be understood`,
          atMs: this.opts.now(),
        });
      }
      return this.info;
    } catch (error) {
      throw await this.handshakeFailure(transport, error);
    }
  }

  /** Sends a request and resolves with its result; retries `-32001` overload errors. */
  async request(
    method: string,
    params?: unknown,
    options: { timeoutMs?: number; retryOverload?: boolean } = {},
  ): Promise<unknown> {
    const retries = options.retryOverload === false ? 0 : this.opts.overloadRetries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.requestOnce(method, params, options.timeoutMs ?? this.opts.requestTimeoutMs);
      } catch (error) {
        if (!(error instanceof RpcRequestError) || error.code !== OVERLOADED_CODE || attempt >= retries) throw error;
        await sleep(backoffDelay(attempt, this.opts.overloadBaseDelayMs, 5_000, this.opts.random));
        if (this.isClosed) throw error;
      }
    }
  }

  notify(method: string, params?: unknown): void {
    this.write(params === undefined ? { method } : { method, params });
  }

  /** Ends the connection gracefully: end of input or a close frame, SIGTERM and SIGKILL last. */
  async stop(): Promise<DisconnectEvent | null> {
    if (!this.transport) return null;
    return this.transport.close(this.opts.stopGraceMs);
  }

  /** Kills the child (or drops the socket) with a signal: tests, and pings that time out. */
  kill(signal: NodeJS.Signals): void {
    this.transport?.kill(signal);
  }

  private requestOnce(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (this.isClosed) return Promise.reject(this.closedError(method));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(`${method} got no answer from ${this.describe()} within ${Math.round(timeoutMs / 100) / 10}s`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      try {
        this.write(params === undefined ? { id, method } : { id, method, params });
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(error as Error);
      }
    });
  }

  private write(message: unknown): void {
    const transport = this.transport;
    if (!transport || transport.isClosed) throw this.closedError('write');
    transport.send(JSON.stringify(message));
  }

  private onTransportEvent(event: TransportEvent): void {
    switch (event.type) {
      case 'message':
        this.handleLine(event.text);
        return;
      case 'oversized':
        this.protocolError(`message longer than the ${Math.round(event.limitBytes / 1024 / 1024)} MiB limit, skipped`, '');
        return;
      case 'closed':
        for (const [id, pending] of this.pending) {
          clearTimeout(pending.timer);
          this.pending.delete(id);
          pending.reject(this.closedError(pending.method));
        }
        this.emit({ type: 'disconnected', disconnect: event.closed });
        return;
    }
  }

  private handleLine(line: string): void {
    const classified = classifyLine(line);
    if (classified.type === 'invalid') {
      this.protocolError(classified.reason, line);
      return;
    }
    this.handleMessage(classified);
  }

  private handleMessage(message: IncomingMessage): void {
    const now = this.opts.now();
    switch (message.type) {
      case 'notification':
        this.emit({
          type: 'notification',
          notification: { method: message.method, params: message.params, emittedAtMs: message.emittedAtMs, receivedAtMs: now },
        });
        return;
      case 'serverRequest':
        this.handleServerRequest({ id: message.id, method: message.method, params: message.params, receivedAtMs: now });
        return;
      case 'response':
      case 'errorResponse': {
        const pending = this.pending.get(message.id);
        if (!pending) {
          this.protocolError(`response to unknown request id ${JSON.stringify(message.id)}`, JSON.stringify(message));
          return;
        }
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.type === 'response') pending.resolve(message.result);
        else pending.reject(new RpcRequestError(pending.method, message.error.code, message.error.message, message.error.data));
        return;
      }
    }
  }

  private handleServerRequest(request: ServerRequestEvent): void {
    let answer: Promise<unknown> | undefined;
    try {
      answer = this.requestHandler?.(request);
    } catch (error) {
      answer = Promise.reject(error);
    }
    if (answer === undefined) {
      this.reply(request.id, {
        error: { code: UNHANDLED_REQUEST_CODE, message: `cm-supervisor cannot answer ${request.method}` },
      });
      return;
    }
    answer.then(
      (result) => this.reply(request.id, { result: result ?? {} }),
      (error: unknown) =>
        this.reply(request.id, {
          error: { code: UNHANDLED_REQUEST_CODE, message: error instanceof Error ? error.message : String(error) },
        }),
    );
  }

  private reply(id: RequestId, body: { result: unknown } | { error: { code: number; message: string } }): void {
    if (this.isClosed) return;
    try {
      this.write({ id, ...body });
    } catch {
      // The app-server went away before we answered; the disconnect event says so.
    }
  }

  private protocolError(reason: string, line: string): void {
    const shown = line.length > MAX_LOGGED_LINE ? `${line.slice(0, MAX_LOGGED_LINE)}… (${line.length} chars)` : line;
    this.emit({ type: 'protocolError', reason, line: shown, atMs: this.opts.now() });
  }

  private emit(event: ConnectionEvent): void {
    callEach(this.listeners, event);
  }

  private closedError(what: string): ConnectionClosedError {
    const d = this.disconnected;
    const how = !d ? 'is not running' : d.signal ? `was killed by ${d.signal}` : d.reason === 'socketClosed' ? 'closed the connection' : `exited with code ${d.code}`;
    return new ConnectionClosedError(`${what}: ${this.describe()} ${how}`);
  }

  private async handshakeFailure(transport: Transport, error: unknown): Promise<Error> {
    const closed = transport.closed ?? (await within(new Promise<TransportClosed>((resolve) => transport.on((e) => e.type === 'closed' && resolve(e.closed))), 1_000));
    if (closed?.spawnError) {
      const missing = closed.spawnError.code === 'ENOENT' || closed.spawnError.code === 'EACCES';
      if (missing) return new CodexNotFoundError(this.notFoundMessage(), 1, { cause: error });
      return new HandshakeError(`could not start ${transport.description}: ${closed.spawnError.message}`, 1, { cause: error });
    }
    if (closed === null) await transport.close(this.opts.stopGraceMs);
    const tail = transport.stderrTail().slice(-15);
    const stderr = tail.length > 0 ? `\nits stderr ended with:\n  ${tail.join('\n  ')}` : transport.pid !== null ? ' (it wrote nothing on stderr)' : '';
    const what =
      closed === null
        ? `did not complete the handshake: ${error instanceof Error ? error.message : String(error)}`
        : closed.spawnError === null && transport.pid !== null
          ? `exited during the handshake (${closed.signal ? `signal ${closed.signal}` : `code ${closed.code}`})`
          : `closed the connection during the handshake`;
    return new HandshakeError(`${transport.description} ${what}${stderr}`, 1, { cause: error, childExitCode: closed?.code ?? null, stderrTail: tail });
  }

  private notFoundMessage(): string {
    const file = this.command?.[0] ?? this.transport?.description ?? '';
    const what = basename(file).startsWith('codex') ? `codex not found at ${file}` : `${file} not found (from the command "${this.command?.join(' ') ?? file}")`;
    return `${what}; ${this.opts.notFoundHint ?? (basename(file).startsWith('codex') ? 'set --codex-bin or CM_SUPERVISOR_CODEX_BIN' : 'fix the workspace command')}`;
  }

  private describe(): string {
    return this.transport?.description ?? (this.command ? `"${this.command.join(' ')}"` : 'the app-server');
  }
}
