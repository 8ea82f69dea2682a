import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requireBundledCodexBinary } from '../../src/core/codexBinary.js';
import { AppServerConnection, type ConnectionEvent, type ServerRequestEvent } from '../../src/core/connection/appServerConnection.js';
import { CodexClient } from '../../src/core/connection/codexClient.js';
import { localHost } from '../../src/core/hosts/hostSpec.js';
import { Supervisor, type SupervisorOptions } from '../../src/core/loop/supervisor.js';
import { createOfflineCodexHome, type OfflineCodexHome } from '../../src/core/mockModel/codexHome.js';
import { startMockResponsesServer, type MockResponsesServer } from '../../src/core/mockModel/mockResponsesServer.js';
import { persistedPart } from '../../src/core/persistence/stateStore.js';
import type { SupervisorState } from '../../src/core/state/model.js';
import { openSignals, selectFeed } from '../../src/core/state/selectors.js';
import { openSocketTransport } from '../../src/core/transport/webSocketTransport.js';
import { processesMentioning, startCodexDaemon, type CodexDaemonHandle } from '../support/codexDaemon.js';
import type { UserInput } from '../../src/core/protocol/generated/v2/UserInput.js';

const textInput = (text: string): UserInput[] => [{ type: 'text', text, text_elements: [] }];

// cm-supervisor attached to Codex's own daemon (`codex app-server daemon start` in a temporary
// CODEX_HOME), sharing it with a second, raw client as Codex's TUI or Desktop would.

const WAIT_MS = 30_000;
const codexBin = requireBundledCodexBinary();

interface Env {
  mock: MockResponsesServer;
  home: OfflineCodexHome;
  daemon: CodexDaemonHandle | null;
  dirs: string[];
  supervisors: Supervisor[];
  raws: AppServerConnection[];
}
let env: Env | null = null;

afterEach(async () => {
  if (!env) return;
  const { mock, home, daemon, dirs, supervisors, raws } = env;
  env = null;
  await Promise.all(supervisors.map((s) => s.stop()));
  await Promise.all(raws.map((r) => r.stop()));
  await daemon?.stop();
  // Codex's daemon and everything it started are gone with it.
  expect(processesMentioning(home.dir)).toEqual([]);
  await mock.close();
  await home.cleanup();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function setUp(options: { startDaemon?: boolean } = {}): Promise<Env & { api: string; web: string }> {
  const mock = await startMockResponsesServer();
  const home = await createOfflineCodexHome({ baseUrl: mock.baseUrl });
  env = { mock, home, daemon: null, dirs: [], supervisors: [], raws: [] };
  if (options.startDaemon !== false) env.daemon = await startCodexDaemon(home.env, codexBin);
  const api = await mkdtemp(join(tmpdir(), 'cm-api-'));
  const web = await mkdtemp(join(tmpdir(), 'cm-web-'));
  env.dirs.push(api, web);
  return { ...env, api, web };
}

async function supervise(e: { api: string; web: string }, options: Partial<SupervisorOptions> = {}): Promise<Supervisor> {
  const sup = new Supervisor({
    workspaces: [
      { name: 'api', path: e.api },
      { name: 'web', path: e.web },
    ],
    codexBin,
    env: env!.home.env,
    pollIntervalMs: 200,
    restart: { baseDelayMs: 100 },
    ...options,
  });
  env!.supervisors.push(sup);
  await sup.start();
  return sup;
}

/** A second client of Codex's daemon, as Codex's TUI (`--remote`) or Desktop would be. */
async function rawClient(): Promise<{ client: CodexClient; events: ConnectionEvent[]; requests: ServerRequestEvent[]; answer: (id: ServerRequestEvent['id'], result: unknown) => void }> {
  const socket = env!.daemon!.socketPath;
  const connection = new AppServerConnection({ transport: () => openSocketTransport(socket) });
  env!.raws.push(connection);
  const events: ConnectionEvent[] = [];
  const requests: ServerRequestEvent[] = [];
  const answers = new Map<string, (result: unknown) => void>();
  connection.on((e) => events.push(e));
  connection.onServerRequest((request) => {
    requests.push(request);
    return new Promise((resolve) => answers.set(String(request.id), resolve));
  });
  await connection.start();
  return { client: new CodexClient(connection), events, requests, answer: (id, result) => answers.get(String(id))?.(result) };
}

const open = (s: SupervisorState, kind: string, workspace: string) => openSignals(s).find((x) => x.kind === kind && x.workspace === workspace);
const feedOf = (s: SupervisorState, workspace: string) => selectFeed(s, { workspace }).map((e) => e.text);

describe("a host attached to Codex's daemon", () => {
  it('attaches when the daemon answers: one connection, no app-server of ours; work and approvals as with a private one', async () => {
    const e = await setUp();
    const sup = await supervise(e);
    const state = await sup.snapshot();
    expect(state.hosts.local).toMatchObject({ status: 'ready', transport: 'attached', pid: null, codexVersion: '0.171.0' });

    const result = await sup.dispatch({
      version: 1,
      id: 'd1',
      actions: [
        { id: 'a', workspace: 'api', prompt: 'summarize the repo', thread: 'new' },
        { id: 'b', workspace: 'web', prompt: `[exec touch ${e.web}/approved.txt] create the marker`, thread: 'new' },
      ],
    });
    expect(result.results.map((r) => r.status)).toEqual(['dispatched', 'dispatched']);
    const waiting = await sup.waitUntil((s) => s.jobs['d1:a']?.status === 'completed' && !!open(s, 'needs_approval', 'web'), WAIT_MS);
    await sup.answerApproval(open(waiting, 'needs_approval', 'web')!.context.approvalKey!, 'accept');
    await sup.waitUntil((s) => s.jobs['d1:b']?.status === 'completed', WAIT_MS);
    expect(existsSync(join(e.web, 'approved.txt'))).toBe(true);
  });

  it("another client's thread in a supervised directory appears with its turn; one elsewhere does not", async () => {
    const e = await setUp();
    const sup = await supervise(e);
    const raw = await rawClient();
    const elsewhere = await mkdtemp(join(tmpdir(), 'cm-elsewhere-'));
    env!.dirs.push(elsewhere);

    const theirs = (await raw.client.threadStart({ cwd: e.api })).thread.id;
    const other = (await raw.client.threadStart({ cwd: elsewhere })).thread.id;
    await raw.client.turnStart({ threadId: theirs, input: textInput('started in the TUI') });
    await raw.client.turnStart({ threadId: other, input: textInput('not ours') });

    const seen = await sup.waitUntil((s) => s.threads[theirs]?.lastTurn?.status === 'completed', WAIT_MS);
    expect(seen.threads[theirs]).toMatchObject({ workspace: 'api', cwd: e.api });
    expect(feedOf(seen, 'api')).toContain('completed: Done: started in the TUI');
    expect(seen.threads[other]).toBeUndefined();
    // Followed quietly: a thread with no turn yet cannot be resumed, which is no failure to report.
    expect(feedOf(seen, 'api').filter((t) => t.startsWith('could not resume'))).toEqual([]);
  });

  it("another client's thread: its transcript reads, a reply from us runs on it, and its archiving by that client removes it from our state", async () => {
    const e = await setUp();
    const sup = await supervise(e);
    const raw = await rawClient();
    const theirs = (await raw.client.threadStart({ cwd: e.api })).thread.id;
    await raw.client.turnStart({ threadId: theirs, input: textInput('from their TUI') });
    await sup.waitUntil((s) => s.threads[theirs]?.lastTurn?.status === 'completed', WAIT_MS);

    expect((await sup.transcript(theirs)).turns.map((t) => t.items.map((i) => i.text))).toEqual([['from their TUI', 'Done: from their TUI']]);
    const replied = await sup.reply(theirs, 'from the supervisor');
    expect(replied.mode).toBe('started');
    await sup.waitUntil((s) => s.threads[theirs]?.lastTurn?.id === replied.turnId && s.threads[theirs]?.lastTurn?.status === 'completed', WAIT_MS);
    // Their client sees our turn on its thread too.
    await expect
      .poll(() => raw.events.some((ev) => ev.type === 'notification' && ev.notification.method === 'turn/completed' && (ev.notification.params as { turn: { id: string } }).turn.id === replied.turnId), { timeout: WAIT_MS })
      .toBe(true);

    await raw.client.connection.request('thread/archive', { threadId: theirs });
    const after = await sup.waitUntil((s) => s.threads[theirs] === undefined, WAIT_MS);
    expect(feedOf(after, 'api').at(-1)).toBe('archived: from their TUI');
  });

  it('an approval answered by another client leaves our queue marked "answered elsewhere"; answering it too is harmless', async () => {
    const e = await setUp();
    const sup = await supervise(e);
    const raw = await rawClient();
    const result = await sup.dispatch({ version: 1, id: 'd2', actions: [{ id: 'b', workspace: 'web', prompt: `[exec touch ${e.web}/one.txt] mark it`, thread: 'new' }] });
    const threadId = result.results[0]!.threadId!;
    const pending = await sup.waitUntil((s) => !!open(s, 'needs_approval', 'web'), WAIT_MS);
    const key = open(pending, 'needs_approval', 'web')!.context.approvalKey!;

    // The other client joins the thread: the pending request is sent to it as well, and it answers.
    await raw.client.threadResume({ threadId, excludeTurns: true });
    await expect.poll(() => raw.requests.length, { timeout: WAIT_MS }).toBe(1);
    expect(raw.requests[0]!.method).toBe('item/commandExecution/requestApproval');
    raw.answer(raw.requests[0]!.id, { decision: 'accept' });
    const done = await sup.waitUntil((s) => s.jobs['d2:b']?.status === 'completed', WAIT_MS);
    expect(existsSync(join(e.web, 'one.txt'))).toBe(true);
    expect(feedOf(done, 'web')).toContain(`answered elsewhere: \`touch ${e.web}/one.txt\``);
    expect(done.pendingApprovals).toEqual({});
    expect(open(done, 'needs_approval', 'web')).toBeUndefined();
    // Answering it here now is a clear no-op.
    await expect(sup.answerApproval(key, 'accept')).rejects.toThrow(`no pending approval "${key}"`);

    // Both answer the next one at once: one answer is taken, the other is for a resolved request.
    const next = await sup.dispatch({ version: 1, id: 'd2b', actions: [{ id: 'b', workspace: 'web', prompt: `[exec touch ${e.web}/two.txt] again`, thread: threadId }] });
    expect(next.results[0]!.status).toBe('dispatched');
    const second = await sup.waitUntil((s) => !!open(s, 'needs_approval', 'web'), WAIT_MS);
    await expect.poll(() => raw.requests.length, { timeout: WAIT_MS }).toBe(2);
    raw.answer(raw.requests[1]!.id, { decision: 'accept' });
    await sup.answerApproval(open(second, 'needs_approval', 'web')!.context.approvalKey!, 'accept').catch(() => undefined);
    const after = await sup.waitUntil((s) => s.jobs['d2b:b']?.status === 'completed', WAIT_MS);
    expect(existsSync(join(e.web, 'two.txt'))).toBe(true);
    expect(after.hosts.local!.status).toBe('ready');
    expect(after.protocolErrors).toBe(0);
  });

  it('a dropped link keeps the turn running on the daemon; on reconnecting the approval is asked again', async () => {
    const e = await setUp();
    const sup = await supervise(e);
    await sup.dispatch({ version: 1, id: 'd3', actions: [{ id: 'b', workspace: 'web', prompt: `[exec touch ${e.web}/again.txt] mark it`, thread: 'new' }] });
    const first = await sup.waitUntil((s) => !!open(s, 'needs_approval', 'web'), WAIT_MS);
    const firstKey = open(first, 'needs_approval', 'web')!.context.approvalKey!;

    sup.killHost('local', 'SIGKILL');
    const down = await sup.waitUntil((s) => s.hosts.local!.status !== 'ready', WAIT_MS);
    expect(down.jobs['d3:b']!.status).not.toBe('interrupted');
    expect(feedOf(down, 'web').some((t) => t.startsWith("still waiting in Codex's daemon: `touch"))).toBe(true);

    const back = await sup.waitUntil((s) => s.hosts.local!.status === 'ready' && Object.keys(s.pendingApprovals).length === 1, WAIT_MS);
    const again = Object.values(back.pendingApprovals)[0]!;
    expect(again.command).toContain(`touch ${e.web}/again.txt`);
    expect(back.hosts.local!.restartCount).toBe(1);
    // The same request, asked again on the new connection.
    expect(again.key).toBe(firstKey);
    await sup.answerApproval(again.key, 'accept');
    await sup.waitUntil((s) => s.jobs['d3:b']?.status === 'completed', WAIT_MS);
    expect(existsSync(join(e.web, 'again.txt'))).toBe(true);
  });

  it('stopping cm-supervisor ends no turn; the next run catches up: completed while away, the approval asked again', async () => {
    const e = await setUp();
    const first = await supervise(e);
    const result = await first.dispatch({
      version: 1,
      id: 'd4',
      actions: [
        { id: 'slow', workspace: 'api', prompt: '[slow] write the summary', thread: 'new' },
        { id: 'ask', workspace: 'web', prompt: `[exec touch ${e.web}/later.txt] mark it`, thread: 'new' },
      ],
    });
    await first.waitUntil((s) => !!open(s, 'needs_approval', 'web') && s.threads[result.results[0]!.threadId!]?.currentTurnId !== null, WAIT_MS);
    await first.stop();
    const saved = persistedPart(first.liveState() as SupervisorState);
    // Nothing was lost on stopping: the turns were left to the daemon.
    expect(saved.threads[result.results[0]!.threadId!]!.currentTurnId).not.toBeNull();
    expect(feedOf(first.liveState() as SupervisorState, 'web').some((t) => t.startsWith("still waiting in Codex's daemon"))).toBe(true);

    // The slow turn finishes while nobody supervises.
    const raw = await rawClient();
    await expect
      .poll(async () => (await raw.client.threadTurnsList({ threadId: result.results[0]!.threadId!, limit: 1 })).data[0]?.status, { timeout: WAIT_MS })
      .toBe('completed');

    const second = await supervise(e, { restored: saved });
    const caught = await second.waitUntil((s) => !!open(s, 'completed', 'api') && !!open(s, 'needs_approval', 'web'), WAIT_MS);
    expect(open(caught, 'completed', 'api')!.message).toBe('completed while you were away: [slow] write the summary — Done: [slow] write the summary');
    expect(caught.jobs['d4:slow']!.status).toBe('completed');
    await second.answerApproval(open(caught, 'needs_approval', 'web')!.context.approvalKey!, 'accept');
    await second.waitUntil((s) => s.jobs['d4:ask']?.status === 'completed', WAIT_MS);
    expect(existsSync(join(e.web, 'later.txt'))).toBe(true);
  });

  it('--codex-daemon start starts Codex\'s daemon in CODEX_HOME, then attaches; never uses a private app-server', async () => {
    const e = await setUp({ startDaemon: false });
    const started = await supervise(e, { hosts: [localHost({ codexDaemon: 'start' })] });
    expect((await started.snapshot()).hosts.local).toMatchObject({ status: 'ready', transport: 'attached' });
    expect(existsSync(join(e.home.dir, 'app-server-control', 'app-server-control.sock'))).toBe(true);
    // Left running for the user (it is theirs now); the test's cleanup ends it.
    await started.stop();
    expect(processesMentioning(e.home.dir).length).toBeGreaterThan(0);
    await startedDaemonStop(e.home);

    const never = await supervise(e, { hosts: [localHost({ codexDaemon: 'never' })] });
    expect((await never.snapshot()).hosts.local).toMatchObject({ status: 'ready', transport: 'private', pid: expect.any(Number) });
  });
});

/** Ends a daemon the supervisor started (the harness did not), with everything it left. */
async function startedDaemonStop(home: OfflineCodexHome): Promise<void> {
  for (const pid of processesMentioning(home.dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  await expect.poll(() => processesMentioning(home.dir), { timeout: WAIT_MS }).toEqual([]);
}
