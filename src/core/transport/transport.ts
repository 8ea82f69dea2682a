/**
 * A byte pipe to one `codex app-server` that carries one JSON message at a time, whatever the
 * framing below: newline-delimited JSON on a child's stdio, or WebSocket text frames on Codex's
 * control socket (directly, or through a child such as `codex app-server proxy` over ssh).
 * The connection above it (AppServerConnection) never knows which one it talks to.
 */

/** How a transport ended. */
export interface TransportClosed {
  /**
   * What we saw first: the child exiting, its stdout closing, the socket closing, or our own
   * `close()` (then it is `stopped`, whatever else happened).
   */
  reason: 'exit' | 'stdoutClosed' | 'socketClosed' | 'stopped';
  /** The child's exit code, or the WebSocket close code; null when neither is known. */
  code: number | null;
  signal: string | null;
  /** The child never started (e.g. ENOENT): its argv[0] is missing or not executable. */
  spawnError: { code: string | undefined; message: string } | null;
  /** The last lines the child wrote on stderr (empty without a child). */
  stderrTail: string[];
  atMs: number;
}

export type TransportEvent =
  /** The text of one message: a JSONL line or a WebSocket text frame, not yet parsed. */
  | { type: 'message'; text: string }
  /** A message over the size limit was dropped unread. */
  | { type: 'oversized'; limitBytes: number }
  /** Emitted once; nothing is received or sent after it. */
  | { type: 'closed'; closed: TransportClosed };

export interface Transport {
  readonly framing: 'jsonl' | 'websocket';
  /** The local child process behind the transport (app-server, ssh, proxy), if any. */
  readonly pid: number | null;
  /** For error messages: the command, or the socket path, as the user would recognise it. */
  readonly description: string;
  readonly isClosed: boolean;
  /** The closing facts, once closed. */
  readonly closed: TransportClosed | null;
  /** Sends one message's JSON text. Throws ConnectionClosedError once closed. */
  send(text: string): void;
  /** Listeners see every message in order, then `closed` once. */
  on(listener: (event: TransportEvent) => void): () => void;
  stderrTail(): string[];
  /**
   * Ends it gracefully: end of input or a close frame, then SIGTERM and SIGKILL of the child
   * after `graceMs` each. Resolves once `closed` was emitted. Idempotent.
   */
  close(graceMs: number): Promise<TransportClosed>;
  /** Kills the child with a signal, or destroys the socket (tests, and pings that time out). */
  kill(signal: NodeJS.Signals): void;
}

/**
 * Opens a transport; rejects when it cannot be opened (a socket that does not answer, a proxy
 * that exits or fails to start before the WebSocket upgrade). A JSONL child that fails to
 * spawn still resolves, and reports it as `closed` with `spawnError`, so the handshake names
 * the binary.
 */
export type TransportFactory = () => Promise<Transport>;
