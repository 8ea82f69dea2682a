import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { ConnectionClosedError } from '../../src/core/errors.js';
import type { Transport, TransportEvent } from '../../src/core/transport/transport.js';
import {
  MAX_WEBSOCKET_PAYLOAD_BYTES,
  TransportOpenError,
  openChildWebSocketTransport,
  openSocketTransport,
} from '../../src/core/transport/webSocketTransport.js';
import { isAlive } from '../support/processes.js';

const WAIT = { timeout: 10_000, interval: 10 };

// What `codex app-server proxy` does: pipe stdin/stdout to the Unix socket, exit when it closes.
// With `linger`, it closes stdout but lives on (a peer that can no longer answer).
const BRIDGE = `
import { connect } from 'node:net';
const [socketPath, mode] = process.argv.slice(2);
const socket = connect(socketPath);
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on('error', (error) => { process.stderr.write('bridge: ' + error.message + '\\n'); process.exit(1); });
socket.on('close', () => {
  if (mode === 'linger') { process.stdout.end(); setInterval(() => {}, 1000); }
  else process.exit(0);
});
`;
// What the proxy does when no daemon runs: one stderr line, exit code 1, at once.
const FAILING = `
process.stderr.write('Error: failed to connect to socket at /nowhere/app-server-control.sock: No such file or directory (os error 2)\\n');
process.exit(1);
`;
// Never answers the upgrade and ignores end of input; tells its pid on stderr.
const SILENT = `
process.stderr.write(process.pid + '\\n');
process.stdin.resume();
setInterval(() => {}, 1000);
`;

interface TestServer {
  socketPath: string;
  /** Server-side sockets, in connection order. */
  peers: WebSocket[];
  /** Messages each peer received, by connection index. */
  received: string[][];
  close(): Promise<void>;
}

let dir: string;
let servers: { close(): Promise<void> }[];
let transports: Transport[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-ws-'));
  servers = [];
  transports = [];
});

afterEach(async () => {
  await Promise.all(transports.map((t) => t.close(200)));
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function startServer(options: { maxUnfragmentedBytes?: number } = {}): Promise<TestServer> {
  const socketPath = join(dir, `ws-${servers.length}.sock`);
  const http: HttpServer = createHttpServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, maxPayload: 200 * 1024 * 1024 });
  const peers: WebSocket[] = [];
  const received: string[][] = [];
  if (options.maxUnfragmentedBytes !== undefined) {
    wss.on('headers', (headers) => headers.push(`x-codex-websocket-max-unfragmented-message-bytes: ${options.maxUnfragmentedBytes}`));
  }
  wss.on('connection', (ws) => {
    const log: string[] = [];
    peers.push(ws);
    received.push(log);
    ws.on('message', (data) => log.push(String(data)));
    ws.on('error', () => {});
  });
  await new Promise<void>((resolve) => http.listen(socketPath, resolve));
  const server: TestServer = {
    socketPath,
    peers,
    received,
    close: async () => {
      for (const peer of peers) peer.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => http.close(resolve));
    },
  };
  servers.push(server);
  return server;
}

async function listenNet(server: NetServer): Promise<string> {
  const socketPath = join(dir, `net-${servers.length}.sock`);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  servers.push({ close: () => new Promise((resolve) => server.close(() => resolve())) });
  return socketPath;
}

async function script(name: string, text: string): Promise<string> {
  const path = join(dir, `${name}.mjs`);
  await writeFile(path, text, 'utf8');
  return path;
}

function record(transport: Transport): TransportEvent[] {
  transports.push(transport);
  const events: TransportEvent[] = [];
  transport.on((e) => events.push(e));
  return events;
}

const texts = (events: TransportEvent[]) => events.flatMap((e) => (e.type === 'message' ? [e.text] : []));
const closes = (events: TransportEvent[]) => events.filter((e) => e.type === 'closed');

async function rejection(promise: Promise<unknown>): Promise<TransportOpenError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransportOpenError);
  return error as TransportOpenError;
}

/** A big message with multi-byte characters, so byte and character counts differ. */
function bigText(megabytes: number): string {
  return JSON.stringify({ id: 1, method: 'x', params: { blob: 'é€'.repeat(Math.floor((megabytes * 1024 * 1024) / 5)) } });
}

// Both transports face the same server: direct, and through a child bridging stdio to it.
const kinds = {
  direct: (server: TestServer) => openSocketTransport(server.socketPath),
  child: async (server: TestServer) =>
    openChildWebSocketTransport({ argv: [process.execPath, await script('bridge', BRIDGE), server.socketPath] }, { graceMs: 500 }),
};

describe.each(Object.entries(kinds))('WebSocket transport (%s)', (kind, open) => {
  it('carries messages in order both ways', async () => {
    const server = await startServer();
    const transport = await open(server);
    const events = record(transport);
    expect(transport.framing).toBe('websocket');
    expect(transport.isClosed).toBe(false);
    const sent = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: i, method: 'm' }));
    for (const text of sent) transport.send(text);
    await expect.poll(() => server.received[0]?.length, WAIT).toBe(200);
    expect(server.received[0]).toEqual(sent);
    for (const text of sent) server.peers[0]!.send(text);
    server.peers[0]!.send(Buffer.from('{"binary":true}'));
    await expect.poll(() => texts(events).length, WAIT).toBe(201);
    expect(texts(events)).toEqual([...sent, '{"binary":true}']);
  });

  it('carries a multi-megabyte message each way', async () => {
    const server = await startServer();
    const transport = await open(server);
    const events = record(transport);
    const big = bigText(6);
    transport.send(big);
    server.peers[0]!.send(big);
    await expect.poll(() => texts(events).length, WAIT).toBe(1);
    expect(texts(events)[0] === big).toBe(true);
    await expect.poll(() => server.received[0]?.length, WAIT).toBe(1);
    expect(server.received[0]![0] === big).toBe(true);
  });

  it('sends messages over the advertised unfragmented size in fragments, intact', async () => {
    const server = await startServer({ maxUnfragmentedBytes: 1000 });
    const transport = await open(server);
    record(transport);
    const big = JSON.stringify({ text: 'aé€😀'.repeat(2000) });
    transport.send(big);
    transport.send('{"after":true}');
    await expect.poll(() => server.received[0]?.length, WAIT).toBe(2);
    expect(server.received[0]).toEqual([big, '{"after":true}']);
  });

  it('reports the server closing once, and refuses to send afterwards', async () => {
    const server = await startServer();
    const transport = await open(server);
    const events = record(transport);
    const pid = transport.pid;
    server.peers[0]!.close(1001, 'going away');
    await expect.poll(() => closes(events).length, WAIT).toBe(1);
    const closed = transport.closed!;
    expect(transport.isClosed).toBe(true);
    if (kind === 'direct') {
      expect(closed).toMatchObject({ reason: 'socketClosed', code: 1001, signal: null, spawnError: null, stderrTail: [] });
      expect(pid).toBeNull();
    } else {
      // The bridge exits when its socket closes, as the proxy does.
      expect(closed).toMatchObject({ reason: 'exit', code: 0, signal: null, spawnError: null });
      expect(isAlive(pid!)).toBe(false);
    }
    expect(() => transport.send('{}')).toThrow(ConnectionClosedError);
    expect(await transport.close(200)).toBe(closed);
    expect(closes(events)).toHaveLength(1);
  });

  it('close() sends a close frame, resolves after closed (stopped), and is idempotent', async () => {
    const server = await startServer();
    const transport = await open(server);
    const events = record(transport);
    const serverSawClose = new Promise<number>((resolve) => server.peers[0]!.once('close', (code) => resolve(code)));
    const [first, second] = await Promise.all([transport.close(500), transport.close(500)]);
    expect(first).toBe(second);
    expect(first.reason).toBe('stopped');
    expect(closes(events)).toEqual([{ type: 'closed', closed: first }]);
    expect(await serverSawClose).toBe(1000);
    expect(() => transport.send('{}')).toThrow(ConnectionClosedError);
    if (transport.pid !== null) expect(isAlive(transport.pid)).toBe(false);
  });

  it('drops an incoming message over 64 MiB: oversized, then closed', async () => {
    const server = await startServer();
    const transport = await open(server);
    const events = record(transport);
    server.peers[0]!.send('x'.repeat(MAX_WEBSOCKET_PAYLOAD_BYTES + 1));
    await expect.poll(() => closes(events).length, WAIT).toBe(1);
    expect(events[0]).toEqual({ type: 'oversized', limitBytes: MAX_WEBSOCKET_PAYLOAD_BYTES });
    expect(texts(events)).toEqual([]);
    if (kind === 'direct') expect(transport.closed).toMatchObject({ reason: 'socketClosed', code: 1009 });
    else expect(transport.closed?.reason).toMatch(/^(exit|stdoutClosed)$/);
  });
});

describe('openSocketTransport', () => {
  it('names Codex’s daemon and the socket', async () => {
    const server = await startServer();
    const transport = await openSocketTransport(server.socketPath);
    record(transport);
    expect(transport.description).toBe(`Codex's daemon at ${server.socketPath}`);
    expect(transport.stderrTail()).toEqual([]);
  });

  it('kill() drops the socket: closed as socketClosed (1006)', async () => {
    const server = await startServer();
    const transport = await openSocketTransport(server.socketPath);
    const events = record(transport);
    transport.kill('SIGKILL');
    await expect.poll(() => closes(events).length, WAIT).toBe(1);
    expect(transport.closed).toMatchObject({ reason: 'socketClosed', code: 1006 });
  });

  it('rejects a missing socket, naming it', async () => {
    const missing = join(dir, 'missing.sock');
    const error = await rejection(openSocketTransport(missing));
    expect(error.message).toContain(missing);
    expect(error.message).toContain('ENOENT');
    expect(error.exit).toBeNull();
  });

  it('rejects a path that is a plain file: connection refused', async () => {
    const file = join(dir, 'plain-file');
    await writeFile(file, 'not a socket');
    const error = await rejection(openSocketTransport(file));
    expect(error.message).toContain(file);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('rejects a server that is not a WebSocket server (HTTP 404)', async () => {
    const http = createHttpServer((_req, res) => res.writeHead(404).end('no'));
    const socketPath = join(dir, 'http.sock');
    await new Promise<void>((resolve) => http.listen(socketPath, resolve));
    servers.push({ close: () => new Promise((resolve) => http.close(() => resolve())) });
    const error = await rejection(openSocketTransport(socketPath));
    expect(error.message).toContain(socketPath);
    expect(error.message).toContain('not a WebSocket server');
    expect(error.message).toContain('HTTP 404');
  });

  it('rejects when the upgrade does not come within connectTimeoutMs', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    const socketPath = await listenNet(silent);
    const started = Date.now();
    const error = await rejection(openSocketTransport(socketPath, { connectTimeoutMs: 200 }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.message).toContain(socketPath);
    expect(error.message).toContain('no WebSocket upgrade within 0.2s');
    for (const socket of sockets) socket.destroy();
  });
});

describe('openChildWebSocketTransport', () => {
  it('exposes the child: pid, description, stderr tail', async () => {
    const server = await startServer();
    const bridge = await script('bridge', BRIDGE);
    const transport = await openChildWebSocketTransport(
      { argv: [process.execPath, bridge, server.socketPath] },
      { description: 'the test bridge' },
    );
    record(transport);
    expect(transport.pid).toEqual(expect.any(Number));
    expect(isAlive(transport.pid!)).toBe(true);
    expect(transport.description).toBe('the test bridge');
    expect(transport.stderrTail()).toEqual([]);
  });

  it('reports the child being killed as exit with its signal', async () => {
    const server = await startServer();
    const transport = await kinds.child(server);
    const events = record(transport);
    transport.kill('SIGKILL');
    await expect.poll(() => closes(events).length, WAIT).toBe(1);
    expect(transport.closed).toMatchObject({ reason: 'exit', code: null, signal: 'SIGKILL' });
    expect(isAlive(transport.pid!)).toBe(false);
  });

  it('stops a child that closed its stdout but lives on: stdoutClosed', async () => {
    const server = await startServer();
    const bridge = await script('bridge', BRIDGE);
    const transport = await openChildWebSocketTransport({ argv: [process.execPath, bridge, server.socketPath, 'linger'] }, { graceMs: 200 });
    const events = record(transport);
    server.peers[0]!.close(1000);
    await expect.poll(() => closes(events).length, WAIT).toBe(1);
    expect(transport.closed?.reason).toBe('stdoutClosed');
    expect(isAlive(transport.pid!)).toBe(false);
  });

  it('rejects a child that exits before the upgrade, with its exit code and stderr', async () => {
    const failing = await script('failing', FAILING);
    const error = await rejection(openChildWebSocketTransport({ argv: [process.execPath, failing] }, { description: 'the proxy' }));
    expect(error.message).toContain('the proxy');
    expect(error.message).toContain('exited with code 1 before the WebSocket upgrade');
    expect(error.message).toContain('Error: failed to connect to socket at /nowhere/app-server-control.sock');
    expect(error.exit).toMatchObject({ code: 1, signal: null, spawnError: null });
    expect(error.stderrTail).toEqual([expect.stringContaining('failed to connect to socket')]);
  });

  it('rejects a command that cannot be started', async () => {
    const missing = join(dir, 'no-such-binary');
    const error = await rejection(openChildWebSocketTransport({ argv: [missing, 'app-server', 'proxy'] }));
    expect(error.message).toContain(missing);
    expect(error.message).toContain('could not be started');
    expect(error.exit?.spawnError?.code).toBe('ENOENT');
  });

  it('rejects a child that never answers after connectTimeoutMs, and reaps it', async () => {
    const silent = await script('silent', SILENT);
    const started = Date.now();
    const error = await rejection(openChildWebSocketTransport({ argv: [process.execPath, silent] }, { connectTimeoutMs: 300, graceMs: 200 }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.message).toContain('no WebSocket upgrade within 0.3s; the child was stopped');
    expect(error.exit?.signal).toBe('SIGTERM');
    const pid = Number(error.stderrTail[0]);
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
  });
});
