import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { z } from 'zod';
import type { SupervisorApi } from '../api/supervisorApi.js';
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
    for (const client of this.clients) this.send(client, { method: 'daemon.stopping', params: { reason } });
    for (const client of this.clients) {
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
    const client: Client = { socket, greeted: false, unsubscribe: null, behind: false };
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
      return this.send(client, { id: null, error: { code: ERROR_CODES.parse, message: 'not JSON: send one JSON object per line' } });
    }
    const envelope = RequestEnvelopeSchema.safeParse(raw);
    if (!envelope.success) {
      return this.send(client, { id: null, error: { code: ERROR_CODES.invalidRequest, message: 'a request needs a numeric "id" and a "method"' } });
    }
    const { id, method } = envelope.data;
    // Own keys only: "toString" or "__proto__" must be unknown methods, not a crash.
    const schema = Object.hasOwn(METHOD_PARAMS, method) ? (METHOD_PARAMS as Record<string, z.ZodType>)[method] : undefined;
    if (!schema) return this.send(client, { id, error: { code: ERROR_CODES.unknownMethod, message: `unknown method "${method}"` } });
    const params = schema.safeParse(envelope.data.params ?? {});
    if (!params.success) {
      return this.send(client, { id, error: { code: ERROR_CODES.invalidParams, message: `invalid params for ${method}: ${z.prettifyError(params.error).replace(/\n/g, '; ')}` } });
    }
    if (!client.greeted && method !== 'hello') {
      return this.send(client, { id, error: { code: ERROR_CODES.notHello, message: 'send "hello" with the protocol version first' } });
    }
    try {
      const result = await this.call(client, method as DaemonMethod, params.data as Record<string, unknown>);
      this.send(client, { id, result: result ?? null });
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
        return this.api.chatDecide(p.proposalId as string, p.decision as 'confirm' | 'reject', p.editedPlan);
      case 'supervisor.subscribe':
        if (!client.unsubscribe) {
          client.unsubscribe = this.api.subscribe((change) => {
            if (client.behind) return;
            // A slow client is not buffered without bound: it re-syncs from a snapshot later.
            if (client.socket.writableLength > MAX_BUFFERED_BYTES) {
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

  private send(client: Client, message: unknown): void {
    if (client.socket.destroyed) return;
    client.socket.write(`${JSON.stringify(message)}\n`);
  }
}

function errorReply(error: unknown): { code: number; message: string; data?: unknown } {
  if (error instanceof PlanValidationError) {
    return { code: ERROR_CODES.supervisor, message: error.message, data: { exitCode: 2, problems: error.problems } };
  }
  if (error instanceof SupervisorError) return { code: ERROR_CODES.supervisor, message: error.message, data: { exitCode: error.exitCode } };
  return { code: ERROR_CODES.supervisor, message: error instanceof Error ? error.message : String(error), data: { exitCode: 1 } };
}
