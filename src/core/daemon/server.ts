import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { DecideOptions, SupervisorApi } from '../api/supervisorApi.js';
import { PlanValidationError, SupervisorError } from '../errors.js';
import { LineDecoder } from '../protocol/lineDecoder.js';
import type { ApprovalDecision } from '../state/events.js';
import type { FeedFilter } from '../state/selectors.js';
import {
  DAEMON_PROTOCOL_VERSION,
  ERROR_CODES,
  MAX_REQUEST_BYTES,
  parseRequest,
  type DaemonMethod,
  type DaemonStatus,
} from './protocol.js';

// Every connection is bounded, and so is their number: a client that asks without reading, or
// sends garbage, costs the daemon a few MB at most, and the others do not notice it.

/** A subscribed client this many bytes behind (beyond the snapshots it reads) gets a resync instead of events. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/**
 * A client this many bytes of replies behind (beyond the snapshots it reads) is disconnected: it
 * asks without reading. Twice MAX_BUFFERED_BYTES, where events to a slow client stop, so an
 * attached TUI in a burst still gets its replies (a feed of 2,000 entries is about 1 MB); a
 * client pipelining snapshots is cut off after a few MB instead of growing the daemon by gigabytes.
 */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/**
 * Snapshot replies (of a state that can be several MB) that do not count as being behind while
 * they are read: the one a client reads, and one more a resync asks for meanwhile. A third
 * before the first is read counts: only a client asking without reading does that.
 */
const SNAPSHOT_ALLOWANCE = 2;
/**
 * Requests of one client handled at once. More wait, and its socket is not read meanwhile
 * (backpressure, not an error): the TUI's "ack all" sends one request per open signal.
 */
const MAX_REQUESTS_IN_FLIGHT = 32;
/** Connections at once: a user's attached TUIs, commands and scripts fit many times over. */
const MAX_CONNECTIONS = 64;
/** The partial line of a client that has not said hello yet: a hello is a few hundred bytes. */
const MAX_BYTES_BEFORE_HELLO = 64 * 1024;

export interface DaemonServerHooks {
  /** daemon.log: why a client was disconnected or refused. */
  log: (line: string) => void;
  status: () => DaemonStatus;
  /** `daemon.stop` was asked for (with how long running turns may take); the reply is sent first. */
  stop: (graceMs: number | undefined) => void;
  /** `daemon.reloadConfig`: read config.json again and apply it; resolves with what changed. */
  reloadConfig: () => Promise<unknown>;
  version: string;
}

interface Client {
  /** Names it in the log, with what it said in its hello. */
  id: number;
  name: string | null;
  socket: Socket;
  greeted: boolean;
  unsubscribe: (() => void) | null;
  behind: boolean;
  /** Not written yet: what one turn of the event loop produced goes out in one write. */
  outbox: Outgoing[];
  outboxBytes: number;
  /** Snapshot replies queued since its queue was last empty (at most SNAPSHOT_ALLOWANCE), and their bytes. */
  snapshots: number;
  snapshotBytes: number;
  /** Requests being handled, and the ones read but waiting their turn. */
  inFlight: number;
  waiting: string[];
  /** Disconnected by us: nothing more is read or sent. */
  closed: boolean;
}

/** A message as it is, or events in a row, written as one `supervisor.events` message. */
type Outgoing = { line: string } | { seq: number; events: string[] };

/**
 * Serves the SupervisorApi on a Unix socket readable by its owner only. Bad input gets an
 * error reply and never reaches the supervisor; a crash in one request does not affect others.
 */
export class DaemonServer {
  private server: Server | null = null;
  private readonly clients = new Set<Client>();
  private nextClientId = 1;
  /** Connections refused since the daemon reached MAX_CONNECTIONS (logged when it starts and ends). */
  private refused = 0;

  constructor(
    private readonly api: SupervisorApi,
    private readonly hooks: DaemonServerHooks,
  ) {}

  async listen(socketPath: string): Promise<void> {
    if (existsSync(socketPath)) unlinkSync(socketPath);
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    // The socket is created with the umask's permissions: make it owner-only from the start.
    const previous = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(previous);
    }
    chmodSync(socketPath, 0o600);
  }

  /** Closes every connection, telling each client why first. */
  async close(reason = 'the daemon stopped'): Promise<void> {
    for (const client of this.clients) {
      this.send(client, { method: 'daemon.stopping', params: { reason } });
      this.flush(client);
      client.unsubscribe?.();
      client.socket.end();
    }
    const server = this.server;
    if (!server) return;
    // A client that does not read would hold the close (and the daemon's exit) for ever.
    const dropping = setTimeout(() => {
      for (const client of this.clients) client.socket.destroy();
    }, LAST_WORD_MS);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    clearTimeout(dropping);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    if (this.clients.size >= MAX_CONNECTIONS) {
      if (this.refused++ === 0) this.hooks.log(`refusing connections: ${this.clients.size} are open, the most the daemon serves`);
      endWith(socket, { id: null, error: { code: ERROR_CODES.limit, message: `the daemon serves at most ${MAX_CONNECTIONS} connections at once; close some and try again` } });
      return;
    }
    const client: Client = {
      id: this.nextClientId++,
      name: null,
      socket,
      greeted: false,
      unsubscribe: null,
      behind: false,
      outbox: [],
      outboxBytes: 0,
      snapshots: 0,
      snapshotBytes: 0,
      inFlight: 0,
      waiting: [],
      closed: false,
    };
    this.clients.add(client);
    // The partial line is bounded too: a longer one is never buffered.
    const decoder = new LineDecoder(MAX_REQUEST_BYTES);
    socket.on('data', (chunk: Buffer) => {
      if (client.closed) return;
      const { lines, oversized } = decoder.push(chunk);
      if (oversized > 0) {
        this.disconnect(client, `sent a request over ${MAX_REQUEST_BYTES} bytes`, true);
        return;
      }
      if (!client.greeted && decoder.partialBytes > MAX_BYTES_BEFORE_HELLO) {
        this.disconnect(client, `sent more than ${MAX_BYTES_BEFORE_HELLO} bytes of a line before its hello`, true);
        return;
      }
      for (const line of lines) client.waiting.push(line);
      this.pump(client);
    });
    socket.on('drain', () => {
      client.snapshots = 0;
      client.snapshotBytes = 0;
      if (client.behind && socket.writableLength < MAX_BUFFERED_BYTES / 2) {
        client.behind = false;
        this.send(client, { method: 'supervisor.resync' });
      }
    });
    socket.on('close', () => {
      client.closed = true;
      client.unsubscribe?.();
      this.clients.delete(client);
      if (this.refused > 0 && this.clients.size < MAX_CONNECTIONS) {
        this.hooks.log(`accepting connections again (${this.refused} refused meanwhile)`);
        this.refused = 0;
      }
    });
  }

  /** Handles waiting requests, up to MAX_REQUESTS_IN_FLIGHT at once; the socket is read again once none waits. */
  private pump(client: Client): void {
    while (!client.closed && client.waiting.length > 0 && client.inFlight < MAX_REQUESTS_IN_FLIGHT) {
      const line = client.waiting.shift()!;
      client.inFlight++;
      // handleLine answers every failure itself; this only guards the daemon against a bug there.
      this.handleLine(client, line)
        .catch((error: unknown) => this.reply(client, { id: null, error: { code: ERROR_CODES.supervisor, message: `internal error: ${error instanceof Error ? error.message : String(error)}` } }))
        .finally(() => {
          client.inFlight--;
          this.pump(client);
        });
    }
    if (client.closed) return;
    if (client.waiting.length > 0) client.socket.pause();
    else client.socket.resume();
  }

  /** Bytes queued for the client and not read yet, beyond the snapshots it is allowed to be reading. */
  private unread(client: Client): number {
    const queued = client.socket.writableLength + client.outboxBytes;
    if (queued === 0) {
      client.snapshots = 0;
      client.snapshotBytes = 0;
    }
    return Math.max(0, queued - client.snapshotBytes);
  }

  /** Queues a reply; a client that lets replies pile up unread is disconnected. */
  private reply(client: Client, message: unknown, snapshot = false): void {
    this.unread(client);
    const bytes = this.send(client, message);
    if (snapshot && client.snapshots < SNAPSHOT_ALLOWANCE) {
      client.snapshots++;
      client.snapshotBytes += bytes;
    }
    const unread = this.unread(client);
    if (unread > MAX_QUEUED_BYTES) this.disconnect(client, `did not read its replies (${unread} bytes waiting, over the limit of ${MAX_QUEUED_BYTES})`);
  }

  /** Drops the connection and logs why; `tell`: the client is sent the reason first (it is reading). */
  private disconnect(client: Client, reason: string, tell = false): void {
    if (client.closed) return;
    client.closed = true;
    this.hooks.log(`client #${client.id}${client.name === null ? '' : ` (${client.name})`} disconnected: ${reason}`);
    client.unsubscribe?.();
    client.unsubscribe = null;
    client.waiting = [];
    client.outbox = [];
    client.outboxBytes = 0;
    if (tell) endWith(client.socket, { id: null, error: { code: ERROR_CODES.limit, message: `${reason}; disconnected` } });
    else client.socket.destroy();
  }

  private async handleLine(client: Client, line: string): Promise<void> {
    const request = parseRequest(line);
    if (!request.ok) {
      this.reply(client, { id: request.id, error: request.error });
      return;
    }
    const { id, method, params } = request;
    if (!client.greeted && method !== 'hello') {
      this.reply(client, { id, error: { code: ERROR_CODES.notHello, message: 'send "hello" with the protocol version first' } });
      return;
    }
    try {
      const result = await this.call(client, method, params);
      this.reply(client, { id, result: result ?? null }, method === 'supervisor.snapshot' || method === 'supervisor.subscribe');
      if (method === 'daemon.stop') this.hooks.stop(params.graceMs as number | undefined);
    } catch (error) {
      this.reply(client, { id, error: errorReply(error) });
    }
  }

  private async call(client: Client, method: DaemonMethod, p: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case 'hello': {
        if (p.protocolVersion !== DAEMON_PROTOCOL_VERSION) {
          throw new SupervisorError(`the daemon speaks protocol ${DAEMON_PROTOCOL_VERSION}, this client ${String(p.protocolVersion)}; restart the daemon after upgrading`, 2);
        }
        client.greeted = true;
        // Shown in daemon.log: one line per entry, whatever the client calls itself.
        client.name = (p.client as string).replace(/[\u0000-\u001f\u007f]/g, '?');
        return { protocolVersion: DAEMON_PROTOCOL_VERSION, version: this.hooks.version, pid: process.pid };
      }
      case 'supervisor.snapshot':
        return this.api.snapshot();
      case 'supervisor.feed':
        return this.api.feed(p.filter as FeedFilter | undefined);
      case 'supervisor.dispatch':
        return this.api.dispatch(p.plan, (p.options as Record<string, never> | undefined) ?? {});
      case 'supervisor.ackSignal':
        return this.api.ackSignal(p.signalId as string);
      case 'supervisor.answerApproval':
        return this.api.answerApproval(p.key as string, p.decision as ApprovalDecision);
      case 'supervisor.answerQuestion':
        return this.api.answerQuestion(p.key as string, p.answers as Record<string, string[]>);
      case 'supervisor.interruptTurn':
        return this.api.interruptTurn(p.threadId as string, p.turnId as string);
      case 'supervisor.reply':
        return this.api.reply(p.threadId as string, p.text as string);
      case 'supervisor.retryTurn':
        return this.api.retryTurn(p.threadId as string);
      case 'supervisor.transcript':
        return this.api.transcript(p.threadId as string);
      case 'supervisor.threadDiff':
        return this.api.threadDiff(p.threadId as string);
      case 'supervisor.archiveThread':
        return this.api.archiveThread(p.threadId as string);
      case 'supervisor.chatSend':
        return this.api.chatSend(p.line as string, (p.options as { approvalKey?: string; baseDir?: string } | undefined) ?? {});
      case 'supervisor.chatDecide':
        return this.api.chatDecide(p.proposalId as string, p.decision as 'confirm' | 'reject', p.editedPlan, (p.options as DecideOptions | undefined) ?? {});
      case 'supervisor.subscribe':
        if (!client.unsubscribe) {
          client.unsubscribe = this.api.subscribe((change) => {
            if (client.behind) return;
            // A slow client is not buffered without bound: it re-syncs from a snapshot later.
            if (this.unread(client) > MAX_BUFFERED_BYTES) {
              client.behind = true;
              return;
            }
            // The event itself: the client reduces it into its own copy of the state.
            if (change.event) this.sendEvent(client, change.seq, change.event);
          });
        }
        // Taken as the listener starts, before any later event: the client's copy starts here.
        return { subscribed: true, snapshot: await this.api.snapshot() };
      case 'daemon.status':
        return this.hooks.status();
      case 'daemon.stop':
        return { stopping: true };
      case 'daemon.reloadConfig':
        return this.hooks.reloadConfig();
    }
  }

  /** Queues one message for the client; returns its size. */
  private send(client: Client, message: unknown): number {
    if (client.closed || client.socket.destroyed) return 0;
    const line = `${JSON.stringify(message)}\n`;
    this.queue(client, { line }, line.length);
    return line.length;
  }

  /** Queues an event, in the same message as the events queued just before it. */
  private sendEvent(client: Client, seq: number, event: unknown): void {
    if (client.socket.destroyed) return;
    const json = JSON.stringify(event);
    const last = client.outbox.at(-1);
    if (last && 'events' in last && last.seq + last.events.length === seq) {
      last.events.push(json);
      client.outboxBytes += json.length + 1;
    } else {
      this.queue(client, { seq, events: [json] }, json.length + 60);
    }
  }

  private queue(client: Client, outgoing: Outgoing, bytes: number): void {
    client.outbox.push(outgoing);
    client.outboxBytes += bytes;
    if (client.outbox.length === 1) setImmediate(() => this.flush(client));
  }

  /** Writes what is waiting, in order: a burst of events costs one write, not one each. */
  private flush(client: Client): void {
    if (client.outbox.length === 0) return;
    const data = client.outbox.map(lineOf).join('');
    client.outbox = [];
    client.outboxBytes = 0;
    if (!client.socket.destroyed) client.socket.write(data);
  }
}

function lineOf(outgoing: Outgoing): string {
  if ('line' in outgoing) return outgoing.line;
  return `{"method":"supervisor.events","params":{"seq":${outgoing.seq},"events":[${outgoing.events.join(',')}]}}\n`;
}

/** How long a closing connection may take to deliver its last line before it is dropped. */
const LAST_WORD_MS = 1_000;

/** Sends a last message and closes; a peer that does not read it within LAST_WORD_MS is dropped. */
function endWith(socket: Socket, message: unknown): void {
  socket.end(`${JSON.stringify(message)}\n`);
  setTimeout(() => socket.destroy(), LAST_WORD_MS).unref();
}

function errorReply(error: unknown): { code: number; message: string; data?: unknown } {
  if (error instanceof PlanValidationError) {
    return { code: ERROR_CODES.supervisor, message: error.message, data: { exitCode: 2, problems: error.problems } };
  }
  if (error instanceof SupervisorError) return { code: ERROR_CODES.supervisor, message: error.message, data: { exitCode: error.exitCode } };
  return { code: ERROR_CODES.supervisor, message: error instanceof Error ? error.message : String(error), data: { exitCode: 1 } };
}
