// Codex's own daemon (`codex app-server daemon start`) reached over WebSocket: straight to its
// control socket, and through `codex app-server proxy` (what `ssh -T host codex app-server proxy`
// runs remotely). Offline, against the mock model, on a throwaway CODEX_HOME.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBundledCodexBinary } from '../../src/core/codexBinary.js';
import { createOfflineCodexHome, type OfflineCodexHome } from '../../src/core/mockModel/codexHome.js';
import { startMockResponsesServer, type MockResponsesServer } from '../../src/core/mockModel/mockResponsesServer.js';
import type { Transport, TransportClosed } from '../../src/core/transport/transport.js';
import { TransportOpenError, openChildWebSocketTransport, openSocketTransport } from '../../src/core/transport/webSocketTransport.js';
import { processesMentioning, startCodexDaemon, type CodexDaemonHandle } from '../support/codexDaemon.js';
import { isAlive } from '../support/processes.js';
import { textInput } from '../support/realCodex.js';

const WAIT_MS = 30_000;
const codexBin = requireBundledCodexBinary();

let mock: MockResponsesServer;
let home: OfflineCodexHome;
let daemon: CodexDaemonHandle;
let workspace: string;
const clients: RawClient[] = [];

beforeAll(async () => {
  mock = await startMockResponsesServer();
  home = await createOfflineCodexHome({ baseUrl: mock.baseUrl });
  workspace = await mkdtemp(join(tmpdir(), 'cm-ws-daemon-'));
  daemon = await startCodexDaemon(home.env, codexBin);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.transport.close(500)));
  await daemon?.stop();
  await mock?.close();
  await home?.cleanup();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

type RawMessage = { id?: number; method?: string; params?: any; result?: any; error?: { code: number; message: string } };

/** Just enough JSON-RPC over a transport to drive a turn: ids, responses, a message log. */
interface RawClient {
  transport: Transport;
  messages: RawMessage[];
  request(method: string, params?: unknown): Promise<RawMessage>;
  notify(method: string, params?: unknown): void;
  waitFor(predicate: (m: RawMessage) => boolean): Promise<RawMessage>;
  /** initialize + initialized; returns the initialize result. */
  initialize(name: string): Promise<any>;
}

function rawClient(transport: Transport): RawClient {
  const messages: RawMessage[] = [];
  const waiters = new Set<() => void>();
  let nextId = 1;
  transport.on((event) => {
    if (event.type === 'message') messages.push(JSON.parse(event.text) as RawMessage);
    for (const waiter of waiters) waiter();
  });
  const waitFor = (predicate: (m: RawMessage) => boolean) =>
    new Promise<RawMessage>((resolve, reject) => {
      const done = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      const check = () => {
        const found = messages.find(predicate);
        if (found) done(() => resolve(found));
        else if (transport.isClosed) done(() => reject(new Error(`${transport.description} closed: ${JSON.stringify(transport.closed)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no matching message within ${WAIT_MS} ms`))), WAIT_MS);
      waiters.add(check);
      check();
    });
  const client: RawClient = {
    transport,
    messages,
    waitFor,
    request(method, params) {
      const id = nextId++;
      transport.send(JSON.stringify(params === undefined ? { id, method } : { id, method, params }));
      return waitFor((m) => m.id === id && m.method === undefined);
    },
    notify(method, params) {
      transport.send(JSON.stringify(params === undefined ? { method } : { method, params }));
    },
    async initialize(name) {
      const response = await client.request('initialize', { clientInfo: { name, title: name, version: '0.0.0' }, capabilities: null });
      expect(response.error).toBeUndefined();
      client.notify('initialized');
      return response.result;
    },
  };
  clients.push(client);
  return client;
}

/** thread/start + turn/start; resolves with the completed turn. */
async function runTurn(client: RawClient, text: string): Promise<{ threadId: string; turn: any }> {
  const started = await client.request('thread/start', { cwd: workspace });
  expect(started.error).toBeUndefined();
  const threadId = started.result.thread.id as string;
  const turnStarted = await client.request('turn/start', { threadId, input: textInput(text) });
  expect(turnStarted.error).toBeUndefined();
  const turnId = turnStarted.result.turn.id as string;
  const completed = await client.waitFor((m) => m.method === 'turn/completed' && m.params.turn.id === turnId);
  return { threadId, turn: completed.params.turn };
}

const proxySpec = () => ({ argv: [codexBin, 'app-server', 'proxy'], env: home.env });

describe("Codex's daemon over WebSocket", () => {
  it('runs a turn over the control socket; a second initialize is refused', async () => {
    const transport = await openSocketTransport(daemon.socketPath);
    expect(transport).toMatchObject({ framing: 'websocket', pid: null, description: `Codex's daemon at ${daemon.socketPath}` });
    const client = rawClient(transport);
    const info = await client.initialize('cm_direct');
    expect(info.codexHome).toBe(home.dir);
    expect(info.userAgent).toContain('0.171.0');
    const again = await client.request('initialize', { clientInfo: { name: 'x', title: 'x', version: '0' }, capabilities: null });
    expect(again.error).toMatchObject({ code: -32600, message: 'Already initialized' });
    const { turn } = await runTurn(client, 'say hello');
    expect(turn).toMatchObject({ status: 'completed', error: null });
    const deltas = client.messages.filter((m) => m.method === 'item/agentMessage/delta' && m.params.turnId === turn.id);
    expect(deltas.map((m) => m.params.delta).join('')).toBe('Done: say hello');
  });

  it('runs a turn through `codex app-server proxy`; another client sees its thread start', async () => {
    const observer = rawClient(await openSocketTransport(daemon.socketPath));
    await observer.initialize('cm_observer');
    const transport = await openChildWebSocketTransport(proxySpec());
    expect(transport.pid).toEqual(expect.any(Number));
    const client = rawClient(transport);
    await client.initialize('cm_proxy');
    const { threadId, turn } = await runTurn(client, 'through the proxy');
    expect(turn).toMatchObject({ status: 'completed', error: null });
    await observer.waitFor((m) => m.method === 'thread/started' && m.params.thread.id === threadId);

    const closed = await transport.close(2_000);
    expect(closed).toMatchObject({ reason: 'stopped', spawnError: null });
    expect(isAlive(transport.pid!)).toBe(false);
    // The daemon lives on for the others.
    expect((await observer.request('thread/loaded/list', {})).result.data).toContain(threadId);
  });

  it('accepts a 20 MB request: sent in fragments under the advertised 16 MiB frame limit', async () => {
    const client = rawClient(await openSocketTransport(daemon.socketPath));
    await client.initialize('cm_big');
    const response = await client.request('thread/list', { searchTerm: 'x'.repeat(20 * 1024 * 1024), limit: 1 });
    expect(response.error).toBeUndefined();
    expect(response.result.data).toEqual([]);
  });

  it('a proxy with no daemon behind it: open rejects with its socket error', async () => {
    const empty = await createOfflineCodexHome({ baseUrl: mock.baseUrl });
    try {
      const socketPath = join(empty.dir, 'app-server-control', 'app-server-control.sock');
      const error = await openChildWebSocketTransport({ argv: [codexBin, 'app-server', 'proxy'], env: empty.env }).then(
        () => undefined,
        (e: unknown) => e as TransportOpenError,
      );
      expect(error).toBeInstanceOf(TransportOpenError);
      expect(error!.message).toContain('exited with code 1 before the WebSocket upgrade');
      expect(error!.message).toContain(`failed to connect to socket at ${socketPath}`);
      expect(error!.exit?.code).toBe(1);
      await expect(openSocketTransport(socketPath)).rejects.toThrow(`cannot open Codex's daemon at ${socketPath}: the socket does not exist (ENOENT)`);
      expect(processesMentioning(empty.dir)).toEqual([]);
    } finally {
      await empty.cleanup();
    }
  });

  it('stopping the daemon closes its clients; nothing is left running', async () => {
    const direct = rawClient(await openSocketTransport(daemon.socketPath));
    await direct.initialize('cm_last_direct');
    const proxy = rawClient(await openChildWebSocketTransport(proxySpec()));
    await proxy.initialize('cm_last_proxy');
    const closes: TransportClosed[] = [];
    for (const { transport } of [direct, proxy]) transport.on((e) => e.type === 'closed' && closes.push(e.closed));

    await daemon.stop();
    await expect.poll(() => direct.transport.isClosed, { timeout: WAIT_MS, interval: 20 }).toBe(true);
    expect(direct.transport.closed).toMatchObject({ reason: 'socketClosed', stderrTail: [] });
    // `codex app-server proxy` (0.171) notices the daemon is gone only when it next writes to it:
    // the next request ends it (exit code 1). Until then only a request timeout would tell.
    try {
      proxy.transport.send(JSON.stringify({ id: 99, method: 'thread/loaded/list', params: {} }));
    } catch {
      // Already closed: a later Codex noticed by itself.
    }
    await expect.poll(() => proxy.transport.isClosed, { timeout: WAIT_MS, interval: 20 }).toBe(true);
    expect(proxy.transport.closed).toMatchObject({ reason: 'exit', spawnError: null });
    expect(closes).toHaveLength(2);
    expect(isAlive(proxy.transport.pid!)).toBe(false);
    expect(processesMentioning(home.dir)).toEqual([]);
    await daemon.stop(); // idempotent, and tolerates a stopped daemon
  });
});
