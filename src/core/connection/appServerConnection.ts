import { basename } from 'node:path';
import {
  CodexNotFoundError,
  ConnectionClosedError,
  HandshakeError,
  RequestTimeoutError,
  RpcRequestError,
} from '../errors.js';
import { spawnChild, type ChildExit, type ManagedChild } from '../process/spawnChild.js';
import { GENERATED_FROM_CODEX_VERSION } from '../protocol/generated/version.js';
import { LineDecoder, encodeJsonl } from '../protocol/lineDecoder.js';
import {
  InitializeResponseSchema,
  classifyLine,
  codexVersionFromUserAgent,
  type IncomingMessage,
  type RequestId,
} from '../protocol/wire.js';
import { backoffDelay } from '../util/backoff.js';
import { RingBuffer } from '../util/ringBuffer.js';
import { sleep, within } from '../util/timeout.js';

/** JSON-RPC code the app-server uses for backpressure ("Server overloaded; retry later."). */
export const OVERLOADED_CODE = -32001;
/** Our reply to server requests nobody handles. */
export const UNHANDLED_REQUEST_CODE = -32601;

export interface ConnectionOptions {
  /** Command that speaks the app-server protocol on stdio, e.g. `[codexBin, 'app-server']`. */
  argv: readonly string[];
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

export interface DisconnectEvent {
  code: number | null;
  signal: string | null;
  /** What we saw first: the child exiting, or its stdout closing. */
  reason: 'exit' | 'stdoutClosed' | 'stopped';
  stderrTail: string[];
  atMs: number;
}

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

/**
 * One `codex app-server` child: JSONL framing, request/response correlation with timeouts,
 * server requests, the initialize handshake, overload retries and a graceful stop.
 * Never throws from event paths: bad lines become `protocolError` events.
 */
export class AppServerConnection {
  private child: ManagedChild | null = null;
  private nextId = 1;
  private readonly pending = new Map<RequestId, PendingRequest>();
  private readonly listeners = new Set<(event: ConnectionEvent) => void>();
  private requestHandler: ServerRequestHandler | null = null;
  private readonly stderr: RingBuffer<string>;
  private closed = false;
  private stopping = false;
  private info: ServerInfo | null = null;
  private disconnect: DisconnectEvent | null = null;
  private readonly opts: Required<
    Omit<ConnectionOptions, 'cwd' | 'env' | 'optOutNotificationMethods'>
  > &
    Pick<ConnectionOptions, 'cwd' | 'env' | 'optOutNotificationMethods'>;

  constructor(options: ConnectionOptions) {
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
      ...options,
    };
    this.stderr = new RingBuffer(this.opts.stderrTailLines);
  }

  get serverInfo(): ServerInfo | null {
    return this.info;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Set once the child is gone. */
  get disconnected(): DisconnectEvent | null {
    return this.disconnect;
  }

  stderrTail(): string[] {
    return this.stderr.toArray();
  }

  /** Subscribe to notifications, protocol errors, warnings and the disconnect. */
  on(listener: (event: ConnectionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onServerRequest(handler: ServerRequestHandler): void {
    this.requestHandler = handler;
  }

  /** Spawns the child and performs `initialize` + `initialized`. */
  async start(): Promise<ServerInfo> {
    if (this.child) throw new Error('connection already started');
    const child = spawnChild({ argv: this.opts.argv, cwd: this.opts.cwd, env: this.opts.env });
    this.child = child;
    const stderrDone = this.pipeStderr(child);
    const stdoutDone = this.pipeStdout(child);
    void this.watchExit(child, stdoutDone, stderrDone);

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
        throw new HandshakeError(`${this.describeCommand()} answered initialize with an unexpected result: ${JSON.stringify(raw).slice(0, 300)}`);
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
      throw await this.handshakeFailure(child, error);
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
        if (this.closed) throw error;
      }
    }
  }

  notify(method: string, params?: unknown): void {
    this.write(params === undefined ? { method } : { method, params });
  }

  /** Stops the child: end stdin, SIGTERM after a grace period, SIGKILL last. */
  async stop(): Promise<ChildExit | null> {
    if (!this.child) return null;
    this.stopping = true;
    return this.child.stop(this.opts.stopGraceMs);
  }

  /** Kills the child with a signal (tests, and `disconnected` simulations by the user). */
  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  private requestOnce(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closedError(method));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(`${method} got no answer from ${this.describeCommand()} within ${Math.round(timeoutMs / 100) / 10}s`));
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
    const stdin = this.child?.stdin;
    if (!stdin || this.closed || !stdin.writable) throw this.closedError('write');
    stdin.write(encodeJsonl(message));
  }

  private pipeStdout(child: ManagedChild): Promise<void> {
    const decoder = new LineDecoder();
    return new Promise((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const { lines, oversized } = decoder.push(chunk);
        for (const line of lines) this.handleLine(line);
        if (oversized > 0) this.protocolError('line longer than the 64 MiB limit, skipped', '');
      });
      child.stdout.once('close', () => {
        const rest = decoder.flush();
        if (rest !== null) this.handleLine(rest);
        resolve();
      });
    });
  }

  private pipeStderr(child: ManagedChild): Promise<void> {
    const decoder = new LineDecoder(1024 * 1024);
    return new Promise((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        for (const line of decoder.push(chunk).lines) this.stderr.push(line);
      });
      child.stderr.once('close', () => {
        const rest = decoder.flush();
        if (rest !== null) this.stderr.push(rest);
        resolve();
      });
    });
  }

  /** The child is gone when it exits or closes stdout, whichever comes first. */
  private async watchExit(child: ManagedChild, stdoutDone: Promise<void>, stderrDone: Promise<void>): Promise<void> {
    const first = await Promise.race([
      child.exited.then(() => 'exit' as const),
      stdoutDone.then(() => 'stdoutClosed' as const),
    ]);
    let reason: DisconnectEvent['reason'] = 'exit';
    if (first === 'stdoutClosed') {
      // stdout usually closes a moment before the exit is reported; a peer that closed stdout
      // and lives on can no longer answer anything, so it is stopped.
      if ((await within(child.exited, this.opts.stopGraceMs)) === null) {
        reason = 'stdoutClosed';
        await child.stop(this.opts.stopGraceMs);
      }
    }
    const exit = await child.exited;
    // stderr may still hold the crash message; give it a moment to drain.
    await within(stderrDone, 200);
    this.closed = true;
    this.disconnect = { code: exit.code, signal: exit.signal, reason: this.stopping ? 'stopped' : reason, stderrTail: this.stderrTail(), atMs: this.opts.now() };
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(this.closedError(pending.method));
    }
    this.emit({ type: 'disconnected', disconnect: this.disconnect });
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
    if (this.closed) return;
    try {
      this.write({ id, ...body });
    } catch {
      // The child died before we answered; the disconnect event says so.
    }
  }

  private protocolError(reason: string, line: string): void {
    const shown = line.length > MAX_LOGGED_LINE ? `${line.slice(0, MAX_LOGGED_LINE)}… (${line.length} chars)` : line;
    this.emit({ type: 'protocolError', reason, line: shown, atMs: this.opts.now() });
  }

  private emit(event: ConnectionEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // A failing listener must not break the protocol stream for the others.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private closedError(what: string): ConnectionClosedError {
    const d = this.disconnect;
    const how = d ? (d.signal ? `was killed by ${d.signal}` : `exited with code ${d.code}`) : 'is not running';
    return new ConnectionClosedError(`${what}: ${this.describeCommand()} ${how}`);
  }

  private async handshakeFailure(child: ManagedChild, error: unknown): Promise<Error> {
    const exit = await within(child.exited, 1_000);
    if (exit?.spawnError) {
      const file = this.opts.argv[0] ?? '';
      const missing = exit.spawnError.code === 'ENOENT' || exit.spawnError.code === 'EACCES';
      if (missing) {
        const hint = basename(file).startsWith('codex')
          ? `codex not found at ${file}; set --codex-bin or CM_SUPERVISOR_CODEX_BIN`
          : `${file} not found (from the command "${this.opts.argv.join(' ')}"); fix the workspace command`;
        return new CodexNotFoundError(hint, 1, { cause: error });
      }
      return new HandshakeError(`could not start ${this.describeCommand()}: ${exit.spawnError.message}`, 1, { cause: error });
    }
    if (exit === null) await this.stop();
    const tail = this.stderrTail().slice(-15);
    const stderr = tail.length > 0 ? `\nits stderr ended with:\n  ${tail.join('\n  ')}` : ' (it wrote nothing on stderr)';
    const what =
      exit === null
        ? `did not complete the handshake: ${error instanceof Error ? error.message : String(error)}`
        : `exited during the handshake (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`})`;
    return new HandshakeError(`${this.describeCommand()} ${what}${stderr}`, 1, { cause: error });
  }

  private describeCommand(): string {
    return `"${this.opts.argv.join(' ')}"`;
  }
}
