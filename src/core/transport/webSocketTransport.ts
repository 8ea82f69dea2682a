import type { Duplex, Readable } from 'node:stream';
import WebSocket from 'ws';
import { ConnectionClosedError, SupervisorError } from '../errors.js';
import { spawnChild, type ChildExit, type ChildSpec, type ManagedChild } from '../process/spawnChild.js';
import { LineDecoder } from '../protocol/lineDecoder.js';
import { callEach } from '../util/listeners.js';
import { RingBuffer } from '../util/ringBuffer.js';
import { within } from '../util/timeout.js';
import { childDuplex } from './childDuplex.js';
import type { Transport, TransportClosed, TransportEvent } from './transport.js';

// WebSocket to Codex's daemon (`codex app-server daemon start`): its control socket
// `$CODEX_HOME/app-server-control/app-server-control.sock` speaks WebSocket over a Unix socket,
// one JSON-RPC message per text frame. We reach it directly, or through a child whose stdio
// carries the same bytes (`codex app-server proxy`, `ssh -T host codex app-server proxy`).

/** A bigger incoming message closes the connection (close code 1009) after an `oversized` event. */
export const MAX_WEBSOCKET_PAYLOAD_BYTES = 64 * 1024 * 1024;
const MESSAGE_TOO_BIG = 1009;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/**
 * Sent by Codex on the 101 reply (16 MiB in 0.171). A bigger unfragmented message makes the
 * daemon drop the connection without a close frame; the same message in fragments is accepted
 * [measured], so bigger messages are sent in fragments of at most this size.
 */
const MAX_UNFRAGMENTED_HEADER = 'x-codex-websocket-max-unfragmented-message-bytes';
/** How long a child may live on after its WebSocket closed, or take to exit after a failed open. */
const DEFAULT_CHILD_GRACE_MS = 2_000;
/** After the child exited, its stdout still delivers what it wrote before; then the socket closes. */
const STDOUT_DRAIN_MS = 1_000;
const STDERR_DRAIN_MS = 200;

export interface SocketTransportOptions {
  /** Until the WebSocket upgrade completes. */
  connectTimeoutMs?: number;
  now?: () => number;
}

export interface ChildWebSocketTransportOptions extends SocketTransportOptions {
  stderrTailLines?: number;
  /** How long the child may live on after its WebSocket closed before it is stopped. */
  graceMs?: number;
  description?: string;
}

/**
 * A WebSocket transport could not be opened. `exit` is set when a child was involved: how it
 * ended (it exited on its own before the upgrade, or we stopped it); `stderrTail` is its last
 * stderr lines (for `codex app-server proxy`: why it could not reach the daemon).
 */
export class TransportOpenError extends SupervisorError {
  constructor(
    message: string,
    readonly exit: ChildExit | null,
    readonly stderrTail: string[],
    options?: { cause?: unknown },
  ) {
    super(message, 1, options);
  }
}

/** WebSocket straight to a Unix socket (Codex's control socket). Rejects when it cannot open. */
export async function openSocketTransport(socketPath: string, options: SocketTransportOptions = {}): Promise<Transport> {
  const description = `Codex's daemon at ${socketPath}`;
  const ws = new WebSocket(`ws+unix://${socketPath}:/`, { maxPayload: MAX_WEBSOCKET_PAYLOAD_BYTES });
  const transport = new WebSocketTransport(ws, description, options.now ?? Date.now, null);
  const upgrade = await awaitUpgrade(ws, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, null);
  if (!upgrade.ok) {
    ws.terminate();
    throw new TransportOpenError(`cannot open ${description}: ${upgrade.problem}`, null, [], { cause: upgrade.cause });
  }
  transport.begin(upgrade.maxUnfragmentedBytes);
  return transport;
}

/**
 * WebSocket over a child's stdio (`codex app-server proxy`, possibly through ssh). Rejects, with
 * the child's exit and stderr tail, when the child fails to start or exits before the upgrade,
 * or the upgrade fails or times out; the child is always gone by then.
 */
export async function openChildWebSocketTransport(spec: ChildSpec, options: ChildWebSocketTransportOptions = {}): Promise<Transport> {
  const description = options.description ?? `"${spec.argv.join(' ')}"`;
  const graceMs = options.graceMs ?? DEFAULT_CHILD_GRACE_MS;
  const child = spawnChild(spec);
  const stderr = collectStderr(child.stderr, options.stderrTailLines ?? 50);
  const socket = childDuplex(child.stdin, child.stdout);
  const ws = new WebSocket('ws://localhost/', {
    maxPayload: MAX_WEBSOCKET_PAYLOAD_BYTES,
    // ws (through node:http) accepts any Duplex here; its type says net.Socket.
    createConnection: (() => socket) as unknown as WebSocket.ClientOptions['createConnection'],
  });
  const transport = new WebSocketTransport(ws, description, options.now ?? Date.now, { child, socket, stderr, graceMs });
  const upgrade = await awaitUpgrade(ws, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, child.exited);
  if (!upgrade.ok) {
    ws.terminate();
    // Its stdout closing usually beats the exit code to us: give the child a moment to report.
    const ownExit = upgrade.exit ?? (upgrade.timedOut ? null : await within(child.exited, graceMs));
    const exit = ownExit ?? (await child.stop(graceMs));
    await within(stderr.done, STDERR_DRAIN_MS);
    const tail = stderr.tail();
    const what = ownExit ? `it ${describeExit(ownExit)} before the WebSocket upgrade` : `${upgrade.problem}; the child was stopped`;
    const stderrText = tail.length > 0 ? `; its stderr ended with:\n  ${tail.slice(-15).join('\n  ')}` : ' (it wrote nothing on stderr)';
    throw new TransportOpenError(`cannot open a WebSocket through ${description}: ${what}${stderrText}`, exit, tail, {
      cause: upgrade.cause,
    });
  }
  transport.begin(upgrade.maxUnfragmentedBytes);
  return transport;
}

interface ChildSide {
  child: ManagedChild;
  /** The WebSocket's connection: the child's stdio. */
  socket: Duplex;
  stderr: StderrTail;
  graceMs: number;
}

class WebSocketTransport implements Transport {
  readonly framing = 'websocket';
  private readonly listeners = new Set<(event: TransportEvent) => void>();
  /** Events before the first listener subscribed (the open promise resolves a tick after the upgrade). */
  private backlog: TransportEvent[] | null = [];
  private closedInfo: TransportClosed | null = null;
  private stopping = false;
  private maxUnfragmentedBytes: number | null = null;
  /** We closed for a message over the limit (1009); the peer, busy sending it, rarely answers. */
  private oversized = false;
  private readonly socketClosed: Promise<number>;
  private done: Promise<TransportClosed> | null = null;

  /** Listens from the first frame on; `begin()` once the upgrade succeeded. */
  constructor(
    private readonly ws: WebSocket,
    readonly description: string,
    private readonly now: () => number,
    private readonly childSide: ChildSide | null,
  ) {
    ws.on('message', (data) => this.emit({ type: 'message', text: rawDataText(data) }));
    ws.on('error', (error: Error & { code?: string }) => {
      // ws answers a bad or oversized frame with a close frame (1002, 1009, …) and waits for the
      // peer's; through Codex's proxy none comes (see shutdown), so the child gets end of input.
      childSide?.socket.end();
      if (error.code !== 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return;
      this.oversized = true;
      this.emit({ type: 'oversized', limitBytes: MAX_WEBSOCKET_PAYLOAD_BYTES });
    });
    this.socketClosed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }

  begin(maxUnfragmentedBytes: number | null): void {
    this.maxUnfragmentedBytes = maxUnfragmentedBytes;
    this.done = this.watch();
  }

  get pid(): number | null {
    return this.childSide?.child.pid ?? null;
  }

  get isClosed(): boolean {
    return this.closedInfo !== null;
  }

  get closed(): TransportClosed | null {
    return this.closedInfo;
  }

  send(text: string): void {
    if (this.closedInfo || this.ws.readyState !== WebSocket.OPEN) {
      throw new ConnectionClosedError(`cannot send to ${this.description}: the connection is closed`);
    }
    const limit = this.maxUnfragmentedBytes;
    if (limit === null || text.length * 3 <= limit || Buffer.byteLength(text) <= limit) {
      this.ws.send(text);
      return;
    }
    // One message as several frames; ws queues them in order, so nothing interleaves. A UTF-8
    // character may straddle two fragments: text is validated per message, not per frame.
    const bytes = Buffer.from(text, 'utf8');
    for (let offset = 0; offset < bytes.length; offset += limit) {
      const end = Math.min(offset + limit, bytes.length);
      this.ws.send(bytes.subarray(offset, end), { binary: false, fin: end === bytes.length });
    }
  }

  on(listener: (event: TransportEvent) => void): () => void {
    this.listeners.add(listener);
    const backlog = this.backlog;
    this.backlog = null;
    if (backlog && backlog.length > 0) queueMicrotask(() => backlog.forEach((event) => callEach([listener], event)));
    return () => this.listeners.delete(listener);
  }

  stderrTail(): string[] {
    return this.childSide?.stderr.tail() ?? [];
  }

  close(graceMs: number): Promise<TransportClosed> {
    if (!this.closedInfo && !this.stopping) {
      this.stopping = true;
      void this.shutdown(graceMs);
    }
    return this.done ?? Promise.reject(new Error('transport was never opened'));
  }

  kill(signal: NodeJS.Signals): void {
    if (this.childSide) this.childSide.child.kill(signal);
    else this.ws.terminate();
  }

  /** A close frame; then the socket goes, or the child gets end of input, SIGTERM, SIGKILL. */
  private async shutdown(graceMs: number): Promise<void> {
    this.ws.close(1000);
    if (!this.childSide) {
      if ((await within(this.socketClosed, graceMs)) === null) this.ws.terminate();
      return;
    }
    // Codex's daemon answers a close frame by dropping the connection, and `codex app-server
    // proxy` does not notice a dropped connection until it writes to it [measured, 0.171]; it
    // exits (code 0) on end of its input, which follows the close frame out of the pipe.
    this.childSide.socket.end();
    await this.childSide.child.stop(graceMs);
  }

  private async watch(): Promise<TransportClosed> {
    const closed = this.childSide ? await this.watchChild(this.childSide) : await this.watchSocket();
    if (this.stopping) closed.reason = 'stopped';
    this.closedInfo = closed;
    this.emit({ type: 'closed', closed });
    return closed;
  }

  private async watchSocket(): Promise<TransportClosed> {
    const peerCode = await this.socketClosed;
    const code = this.oversized ? MESSAGE_TOO_BIG : peerCode;
    return { reason: 'socketClosed', code, signal: null, spawnError: null, stderrTail: [], atMs: this.now() };
  }

  /** The child is gone when it exits or its WebSocket closes, whichever comes first. */
  private async watchChild({ child, stderr, graceMs }: ChildSide): Promise<TransportClosed> {
    const first = await Promise.race([child.exited.then(() => 'exit' as const), this.socketClosed.then(() => 'stdoutClosed' as const)]);
    let reason: TransportClosed['reason'] = 'exit';
    if (first === 'exit') {
      if ((await within(this.socketClosed, STDOUT_DRAIN_MS)) === null) this.ws.terminate();
    } else if ((await within(child.exited, graceMs)) === null) {
      // A proxy usually exits right after its WebSocket closed; one that lives on is stopped.
      reason = 'stdoutClosed';
      await child.stop(graceMs);
    }
    const exit = await child.exited;
    // stderr may still hold the reason it went; give it a moment to drain.
    await within(stderr.done, STDERR_DRAIN_MS);
    return { reason, code: exit.code, signal: exit.signal, spawnError: exit.spawnError, stderrTail: stderr.tail(), atMs: this.now() };
  }

  private emit(event: TransportEvent): void {
    if (this.closedInfo && event.type !== 'closed') return;
    if (this.backlog) {
      this.backlog.push(event);
      return;
    }
    callEach(this.listeners, event);
  }
}

type UpgradeOutcome =
  | { ok: true; maxUnfragmentedBytes: number | null }
  | { ok: false; problem: string; cause: unknown; timedOut: boolean; exit: ChildExit | null };

/** Waits for the 101 reply; says in words what went wrong otherwise. */
function awaitUpgrade(ws: WebSocket, timeoutMs: number, childExited: Promise<ChildExit> | null): Promise<UpgradeOutcome> {
  return new Promise((resolve) => {
    let maxUnfragmentedBytes: number | null = null;
    let settled = false;
    const settle = (outcome: UpgradeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const fail = (problem: string, cause: unknown, extra: { timedOut?: boolean; exit?: ChildExit } = {}): void =>
      settle({ ok: false, problem, cause, timedOut: extra.timedOut ?? false, exit: extra.exit ?? null });
    const timer = setTimeout(
      () => fail(`no WebSocket upgrade within ${timeoutMs / 1000}s`, undefined, { timedOut: true }),
      timeoutMs,
    );
    ws.once('upgrade', (response) => {
      const header = Number(response.headers[MAX_UNFRAGMENTED_HEADER]);
      if (Number.isInteger(header) && header > 0) maxUnfragmentedBytes = header;
    });
    ws.once('open', () => settle({ ok: true, maxUnfragmentedBytes }));
    // Listening here means ws leaves aborting to us (the caller terminates on failure).
    ws.once('unexpected-response', (_request, response) => {
      response.resume();
      fail(`it is not a WebSocket server (it answered HTTP ${response.statusCode ?? '?'} instead of 101 Switching Protocols)`, undefined);
    });
    ws.on('error', (error: Error & { code?: string }) => fail(describeConnectError(error), error));
    ws.once('close', () => fail('the connection closed during the WebSocket upgrade', undefined));
    childExited?.then((exit) => fail(describeExit(exit), undefined, { exit }));
  });
}

function describeConnectError(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'ENOENT':
      return 'the socket does not exist (ENOENT): is the daemon running?';
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED): nothing listens on it';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${error.code})`;
    case 'ENOTSOCK':
      return 'it is not a socket (ENOTSOCK)';
    default:
      return error.message;
  }
}

function describeExit(exit: ChildExit): string {
  if (exit.spawnError) return `could not be started (${exit.spawnError.code ?? 'error'}: ${exit.spawnError.message})`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? 'unknown'}`;
}

/** Text frames were validated as UTF-8 by ws; binary ones are decoded the same way. */
function rawDataText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

interface StderrTail {
  tail(): string[];
  /** Resolves when stderr closed. */
  done: Promise<void>;
}

function collectStderr(stream: Readable, lines: number): StderrTail {
  const ring = new RingBuffer<string>(lines);
  const decoder = new LineDecoder(1024 * 1024);
  const done = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk).lines) ring.push(line);
    });
    stream.once('close', () => {
      const rest = decoder.flush();
      if (rest !== null) ring.push(rest);
      resolve();
    });
  });
  return { tail: () => ring.toArray(), done };
}
