import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { z } from 'zod';
import type { DecideOptions, SupervisorApi } from '../api/supervisorApi.js';
import { PlanValidationError, SupervisorError } from '../errors.js';
import { LineDecoder } from '../protocol/lineDecoder.js';
import type { ApprovalDecision } from '../state/events.js';
import type { FeedFilter } from '../state/selectors.js';
import {
  DAEMON_PROTOCOL_VERSION,
  ERROR_CODES,
  MAX_REQUEST_BYTES,
  METHOD_PARAMS,
  RequestEnvelopeSchema,
  type DaemonMethod,
  type DaemonStatus,
} from './protocol.js';

/** A client that has this much unsent output is behind: it gets a resync instead of events. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface DaemonServerHooks {
  status: () => DaemonStatus;
  /** `daemon.stop` was asked for (with how long running turns may take); the reply is sent first. */
  stop: (graceMs: number | undefined) => void;
  /** `daemon.reloadConfig`: read config.json again and apply it; resolves with what changed. */
  reloadConfig: () => Promise<unknown>;
  version: string;
}

interface Client {
  socket: Socket;
  greeted: boolean;
  unsubscribe: (() => void) | null;
  behind: boolean;
  /** Lines not written yet: what one turn of the event loop produced goes out in one write. */
  outbox: string[];
  outboxBytes: number;
  /** Bytes of snapshots sent and maybe not drained yet: a client reading a big one is not behind. */
  snapshotBytes: number;
}

/**
 * Serves the SupervisorApi on a Unix socket readable by its owner only. Bad input gets an
 * error reply and never reaches the supervisor; a crash in one request does not affect others.
 */
export class DaemonServer {
  private server: Server | null = null;
  private readonly clients = new Set<Client>();

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
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const client of this.clients) client.socket.destroy();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  private accept(socket: Socket): void {
    const client: Client = { socket, greeted: false, unsubscribe: null, behind: false, outbox: [], outboxBytes: 0, snapshotBytes: 0 };
    this.clients.add(client);
    const decoder = new LineDecoder(MAX_REQUEST_BYTES);
    socket.on('data', (chunk: Buffer) => {
      const { lines, oversized } = decoder.push(chunk);
      if (oversized > 0) this.send(client, { id: null, error: { code: ERROR_CODES.invalidRequest, message: `request over ${MAX_REQUEST_BYTES} bytes` } });
      for (const line of lines) {
        // handleLine answers every failure itself; this only guards the daemon against a bug there.
        this.handleLine(client, line).catch((error: unknown) =>
          this.send(client, { id: null, error: { code: ERROR_CODES.supervisor, message: `internal error: ${error instanceof Error ? error.message : String(error)}` } }),
        );
      }
    });
    socket.on('drain', () => {
      client.snapshotBytes = 0;
      if (client.behind && socket.writableLength < MAX_BUFFERED_BYTES / 2) {
        client.behind = false;
        this.send(client, { method: 'supervisor.resync' });
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      client.unsubscribe?.();
      this.clients.delete(client);
    });
  }

  private async handleLine(client: Client, line: string): Promise<void> {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      this.send(client, { id: null, error: { code: ERROR_CODES.parse, message: 'not JSON: send one JSON object per line' } });
      return;
    }
    const envelope = RequestEnvelopeSchema.safeParse(raw);
    if (!envelope.success) {
      this.send(client, { id: null, error: { code: ERROR_CODES.invalidRequest, message: 'a request needs a numeric "id" and a "method"' } });
      return;
    }
    const { id, method } = envelope.data;
    // Own keys only: "toString" or "__proto__" must be unknown methods, not a crash.
    const schema = Object.hasOwn(METHOD_PARAMS, method) ? (METHOD_PARAMS as Record<string, z.ZodType>)[method] : undefined;
    if (!schema) {
      this.send(client, { id, error: { code: ERROR_CODES.unknownMethod, message: `unknown method "${method}"` } });
      return;
    }
    const params = schema.safeParse(envelope.data.params ?? {});
    if (!params.success) {
      this.send(client, { id, error: { code: ERROR_CODES.invalidParams, message: `invalid params for ${method}: ${z.prettifyError(params.error).replace(/\n/g, '; ')}` } });
      return;
    }
    if (!client.greeted && method !== 'hello') {
      this.send(client, { id, error: { code: ERROR_CODES.notHello, message: 'send "hello" with the protocol version first' } });
      return;
    }
    try {
      const result = await this.call(client, method as DaemonMethod, params.data as Record<string, unknown>);
      const bytes = this.send(client, { id, result: result ?? null });
      if (method === 'supervisor.snapshot' || method === 'supervisor.subscribe') client.snapshotBytes += bytes;
      if (method === 'daemon.stop') this.hooks.stop((params.data as { graceMs?: number }).graceMs);
    } catch (error) {
      this.send(client, { id, error: errorReply(error) });
    }
  }

  private async call(client: Client, method: DaemonMethod, p: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case 'hello': {
        if (p.protocolVersion !== DAEMON_PROTOCOL_VERSION) {
          throw new SupervisorError(`the daemon speaks protocol ${DAEMON_PROTOCOL_VERSION}, this client ${String(p.protocolVersion)}; restart the daemon after upgrading`, 2);
        }
        client.greeted = true;
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
      case 'supervisor.chatSend':
        return this.api.chatSend(p.line as string, (p.options as { approvalKey?: string; baseDir?: string } | undefined) ?? {});
      case 'supervisor.chatDecide':
        return this.api.chatDecide(p.proposalId as string, p.decision as 'confirm' | 'reject', p.editedPlan, (p.options as DecideOptions | undefined) ?? {});
      case 'supervisor.subscribe':
        if (!client.unsubscribe) {
          client.unsubscribe = this.api.subscribe((change) => {
            if (client.behind) return;
            // A slow client is not buffered without bound: it re-syncs from a snapshot later.
            if (client.socket.writableLength + client.outboxBytes - client.snapshotBytes > MAX_BUFFERED_BYTES) {
              client.behind = true;
              return;
            }
            // The event itself: the client reduces it into its own copy of the state.
            if (change.event) this.send(client, { method: 'supervisor.event', params: { seq: change.seq, event: change.event } });
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
    if (client.socket.destroyed) return 0;
    const line = `${JSON.stringify(message)}\n`;
    client.outbox.push(line);
    client.outboxBytes += line.length;
    if (client.outbox.length === 1) setImmediate(() => this.flush(client));
    return line.length;
  }

  /** Writes what is waiting, in order: a burst of events costs one write, not one each. */
  private flush(client: Client): void {
    if (client.outbox.length === 0) return;
    const data = client.outbox.length === 1 ? client.outbox[0]! : client.outbox.join('');
    client.outbox = [];
    client.outboxBytes = 0;
    if (!client.socket.destroyed) client.socket.write(data);
  }
}

function errorReply(error: unknown): { code: number; message: string; data?: unknown } {
  if (error instanceof PlanValidationError) {
    return { code: ERROR_CODES.supervisor, message: error.message, data: { exitCode: 2, problems: error.problems } };
  }
  if (error instanceof SupervisorError) return { code: ERROR_CODES.supervisor, message: error.message, data: { exitCode: error.exitCode } };
  return { code: ERROR_CODES.supervisor, message: error instanceof Error ? error.message : String(error), data: { exitCode: 1 } };
}
