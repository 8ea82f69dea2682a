// The daemon against the real codex app-server: crash and restart, a corrupt or unwritable
// state file, several attached clients, socket permissions and a hostile socket peer.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StateChange } from '../../src/core/api/supervisorApi.js';
import { DaemonClient } from '../../src/core/daemon/client.js';
import { daemonPaths } from '../../src/core/daemon/home.js';
import { DAEMON_PROTOCOL_VERSION, ERROR_CODES, MAX_REQUEST_BYTES } from '../../src/core/daemon/protocol.js';
import { startDaemon, type DaemonOptions, type RunningDaemon } from '../../src/core/daemon/runDaemon.js';
import { SupervisorError } from '../../src/core/errors.js';
import { writeFileAtomic } from '../../src/core/persistence/atomicWrite.js';
import { StateFileSchema } from '../../src/core/persistence/stateSchema.js';
import { initialState, SUPERVISOR_WORKSPACE, type SupervisorState } from '../../src/core/state/model.js';
import { openSignals } from '../../src/core/state/selectors.js';
import { rejection, waitForState } from '../contract/supervisorApi.contract.js';
import { isAlive } from '../support/processes.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { CLI } from '../support/runBuiltCli.js';

const WAIT_MS = 30_000;

let env: RealCodexEnv;
const homes: string[] = [];
const daemons: RunningDaemon[] = [];
const clients: DaemonClient[] = [];
const children: ChildProcess[] = [];
/** Processes a test saw (app-servers of a killed daemon): none may outlive the test. */
const strayPids = new Set<number>();

beforeAll(async () => {
  // A `[silent]` turn must still be running when the daemon is killed.
  env = await startRealCodexEnv({ streamIdleTimeoutMs: 60_000 });
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const daemon of daemons.splice(0)) await daemon.stop();
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  for (const pid of strayPids) killIfStill(pid, 'app-server');
  strayPids.clear();
});
afterAll(async () => {
  await env?.cleanup();
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

/** SIGKILLs `pid` if it still runs `what` (pids are recycled: never kill a stranger). */
function killIfStill(pid: number, what: string): void {
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(what)) process.kill(pid, 'SIGKILL');
  } catch {
    // Gone: the usual case.
  }
}

/** A fresh private home whose config.json lists these workspaces. */
async function newHome(workspaces: { name: string; path: string }[], config: Record<string, unknown> = {}): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'cm-daemon-'));
  homes.push(home);
  await writeFile(join(home, 'config.json'), JSON.stringify({ workspaces, ...config }));
  return home;
}

async function daemonIn(home: string, options: Partial<DaemonOptions> = {}): Promise<RunningDaemon> {
  const daemon = await startDaemon({ home, codexBin: env.codexBin, env: env.home.env, pollIntervalMs: 200, saveDebounceMs: 50, ...options });
  daemons.push(daemon);
  return daemon;
}

async function clientOf(socketPath: string): Promise<DaemonClient> {
  const client = await DaemonClient.connect(socketPath, { client: 'daemon-test' });
  clients.push(client);
  return client;
}

/** `daemon run` of the built CLI as a separate process, its log kept for failure messages. */
function spawnDaemonProcess(home: string): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null }>; log: () => string } {
  const child = spawn(process.execPath, [CLI, '--home', home, '--codex-bin', env.codexBin, 'daemon', 'run'], {
    env: { ...process.env, ...env.home.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, log: () => log };
}

/** Connects once the daemon answers (it listens before its app-servers are up). */
async function connectWhenListening(socketPath: string, log: () => string): Promise<DaemonClient> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const client = await DaemonClient.connect(socketPath, { timeoutMs: 5_000, client: 'daemon-test' });
      clients.push(client);
      return client;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the daemon did not answer (${String(error)}); its log:\n${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function readStateFile(home: string): SupervisorState | null {
  try {
    return StateFileSchema.parse(JSON.parse(readFileSync(daemonPaths(home).state, 'utf8'))).state as SupervisorState;
  } catch {
    return null;
  }
}

/** A raw connection: send one line, read the next reply. */
async function rawConnection(socketPath: string) {
  const socket = connect(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const replies: unknown[] = [];
  let buffered = '';
  socket.on('data', (chunk) => {
    const lines = (buffered + chunk.toString()).split('\n');
    buffered = lines.pop()!;
    for (const line of lines) replies.push(JSON.parse(line));
  });
  let read = 0;
  return {
    socket,
    replies,
    async ask(line: string): Promise<{ id: number | null; result?: unknown; error?: { code: number; message: string; data?: { exitCode?: number; problems?: unknown[] } } }> {
      socket.write(line.endsWith('\n') ? line : `${line}\n`);
      await expect.poll(() => replies.length, { timeout: WAIT_MS }).toBeGreaterThan(read);
      return replies[read++] as never;
    },
  };
}

describe('daemon: kill -9 in the middle of a turn, then start again', () => {
  it('restores workspaces, threads, jobs, signals and feed; marks the lost turn; resumes the thread; cleans the stale lock', async () => {
    const api = await env.workspace('api');
    const web = await env.workspace('web');
    const home = await newHome(
      [
        { name: 'api', path: api },
        { name: 'web', path: web },
      ],
      { pollIntervalSec: 1 },
    );
    const paths = daemonPaths(home);

    const first = spawnDaemonProcess(home);
    const c1 = await connectWhenListening(paths.socket, first.log);
    await waitForState(c1, (s) => s.workspaces.api?.status === 'ready' && s.workspaces.web?.status === 'ready');
    const result = await c1.dispatch({
      version: 1,
      id: 'crash',
      actions: [
        { id: 'hang', workspace: 'api', prompt: '[silent] long task', thread: 'new' },
        { id: 'notes', workspace: 'web', prompt: 'write the notes', thread: 'new' },
        { id: 'touch', workspace: 'web', prompt: `[exec touch ${web}/never.txt] make a file`, thread: 'new' },
      ],
    });
    expect(result.results.map((r) => r.status)).toEqual(['dispatched', 'dispatched', 'dispatched']);
    const [hang, notes, touch] = result.results as [(typeof result.results)[0], (typeof result.results)[0], (typeof result.results)[0]];
    const live = await waitForState(
      c1,
      (s) =>
        s.jobs['crash:hang']?.status === 'running' &&
        s.jobs['crash:notes']?.status === 'completed' &&
        openSignals(s).some((x) => x.kind === 'needs_approval' && x.threadId === touch.threadId),
    );
    const completedSignal = openSignals(live).find((x) => x.kind === 'completed' && x.threadId === notes.threadId)!;
    expect(completedSignal).toBeDefined();
    await c1.ackSignal(completedSignal.id);
    const ackedAt = (await c1.snapshot()).signals[completedSignal.id]!.acknowledgedAtMs;
    expect(ackedAt).not.toBeNull();

    // Kill only once the state file holds the turn in progress and the acknowledgement.
    const persisted = () => {
      const saved = readStateFile(home);
      return (
        saved?.jobs['crash:hang']?.status === 'running' &&
        saved.jobs['crash:notes']?.status === 'completed' &&
        saved.jobs['crash:touch']?.status === 'waiting_for_user' &&
        saved.signals[completedSignal.id]?.acknowledgedAtMs === ackedAt
      );
    };
    await expect.poll(persisted, { timeout: WAIT_MS }).toBe(true).catch((error: Error) => {
      const saved = readStateFile(home);
      throw new Error(`${error.message}; saved jobs ${JSON.stringify(saved?.jobs)}, signals ${JSON.stringify(saved?.signals)}; log:\n${first.log()}`);
    });
    const status = await c1.status();
    // One app-server on the local host serves both workspaces.
    const oldAppServers = status.hosts.flatMap((h) => (h.pid ? [h.pid] : []));
    expect(oldAppServers).toHaveLength(1);
    expect(status.workspaces.map((w) => w.host)).toEqual(['local', 'local']);
    for (const pid of oldAppServers) strayPids.add(pid);
    const oldPid = first.child.pid!;
    expect(status.pid).toBe(oldPid);

    process.kill(oldPid, 'SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const saved = readStateFile(home)!;
    // The dead daemon left its lock and socket behind.
    expect(JSON.parse(readFileSync(paths.lock, 'utf8')).pid).toBe(oldPid);
    expect(existsSync(paths.socket)).toBe(true);
    // Its app-servers end with it (their stdin closed): no orphaned agents.
    for (const pid of oldAppServers) await expect.poll(() => isAlive(pid), { timeout: WAIT_MS, message: `app-server ${pid} outlived its daemon` }).toBe(false);

    const second = spawnDaemonProcess(home);
    const c2 = await connectWhenListening(paths.socket, second.log);
    expect((await c2.status()).pid).toBe(second.child.pid);
    expect(JSON.parse(readFileSync(paths.lock, 'utf8')).pid).toBe(second.child.pid);
    expect(statSync(paths.socket).isSocket()).toBe(true);

    // Both threads that were loaded are resumed on the new app-servers.
    const back = await waitForState(
      c2,
      (s) =>
        s.workspaces.api?.status === 'ready' &&
        s.workspaces.web?.status === 'ready' &&
        s.threads[hang.threadId!]?.status === 'idle' &&
        s.threads[notes.threadId!]?.status === 'idle',
    );
    // Workspaces: back, on a new process.
    expect(Object.keys(back.workspaces).sort()).toEqual(['api', 'web']);
    expect(back.hosts.local!.pid).not.toBeNull();
    expect(oldAppServers).not.toContain(back.hosts.local!.pid);
    expect(back.hosts.local!.codexVersion).toBe('0.171.0');
    // Threads, with their digests.
    const notesThread = back.threads[notes.threadId!]!;
    expect(notesThread.digest.currentTask).toBe('write the notes');
    expect(notesThread.digest.lastActivity?.text).toBe('replied: Done: write the notes');
    expect(notesThread.lastAgentMessage).toBe('Done: write the notes');
    const hangThread = back.threads[hang.threadId!]!;
    expect(hangThread.digest.currentTask).toBe('[silent] long task');
    expect(hangThread.currentTurnId).toBeNull();
    expect(hangThread.lastTurn).toMatchObject({ id: hang.turnId, status: 'interrupted' });
    // Jobs: the completed one intact, the lost ones interrupted.
    expect(back.jobs['crash:notes']).toMatchObject({ status: 'completed', finalMessage: 'Done: write the notes' });
    expect(back.jobs['crash:hang']).toMatchObject({ status: 'interrupted', error: expect.stringContaining('went down with the previous cm-supervisor') });
    expect(back.jobs['crash:touch']!.status).toBe('interrupted');
    // Signals: the acknowledgement survived; the lost turn is a failed signal; the approval that
    // can no longer be answered is gone.
    expect(back.signals[completedSignal.id]).toMatchObject({ acknowledgedAtMs: ackedAt, kind: 'completed' });
    const lost = openSignals(back).find((x) => x.kind === 'failed' && x.threadId === hang.threadId);
    expect(lost).toMatchObject({ workspace: 'api', turnId: hang.turnId, message: expect.stringContaining('turn lost: the app-server went down with the previous cm-supervisor') });
    expect(openSignals(back).some((x) => x.kind === 'needs_approval')).toBe(false);
    expect(back.pendingApprovals).toEqual({});
    expect(await c2.feed({ needsInput: true })).toEqual([]);
    expect(back.nextSignalNumber).toBeGreaterThan(saved.nextSignalNumber - 1);
    // Feed: every entry saved before the kill is back, followed by the lost turn.
    const feed = await c2.feed();
    for (const entry of saved.activityFeed) expect(feed).toContainEqual(entry);
    expect(feed).toContainEqual(expect.objectContaining({ workspace: 'api', threadId: hang.threadId, kind: 'turn_interrupted', text: 'turn lost: the app-server went down with the previous cm-supervisor' }));
    expect(feed.map((e) => e.seq)).toEqual([...new Set(feed.map((e) => e.seq))].sort((a, b) => a - b));
    expect(existsSync(join(web, 'never.txt'))).toBe(false);

    // The resumed thread takes new work on the new app-server.
    const again = await c2.dispatch({ version: 1, id: 'after', actions: [{ id: 'go', workspace: 'api', prompt: 'carry on', thread: hang.threadId! }] });
    expect(again.results[0]).toMatchObject({ status: 'dispatched', threadId: hang.threadId });
    const done = await waitForState(c2, (s) => s.jobs['after:go']?.status === 'completed');
    expect(done.jobs['after:go']!.finalMessage).toBe('Done: carry on');
    // New work on the thread closes the lost turn's signal.
    expect(done.signals[lost!.id]!.resolvedAtMs).not.toBeNull();

    const newAppServers = (await c2.status()).hosts.flatMap((h) => (h.pid ? [h.pid] : []));
    await c2.stop();
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(paths.lock)).toBe(false);
    expect(existsSync(paths.socket)).toBe(false);
    for (const pid of newAppServers) await expect.poll(() => isAlive(pid), { timeout: WAIT_MS }).toBe(false);
  });
});

describe('daemon: the state file', () => {
  it('garbage in state.json: set aside unchanged, the daemon starts fresh and says so', async () => {
    const home = await newHome([{ name: 'api', path: await env.workspace('api') }]);
    const garbage = '{"schemaVersion": 1, "state": {"workspaces": tru';
    await writeFile(join(home, 'state.json'), garbage);
    const daemon = await daemonIn(home);
    const aside = readdirSync(home).filter((f) => f.startsWith('state.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(home, aside[0]!), 'utf8')).toBe(garbage);

    const client = await clientOf(daemon.socketPath);
    const state = await waitForState(client, (s) => s.workspaces.api?.status === 'ready');
    expect(Object.keys(state.jobs)).toEqual([]);
    expect(Object.keys(state.threads)).toEqual([]);
    const problem = openSignals(state).find((s) => s.workspace === SUPERVISOR_WORKSPACE);
    expect(problem).toMatchObject({ kind: 'failed', message: expect.stringContaining('the state file was unreadable (not readable JSON') });
    expect(problem!.message).toContain(join(home, aside[0]!));
    expect(problem!.message).toContain('started fresh');
    expect(await client.feed({ workspace: SUPERVISOR_WORKSPACE })).toEqual([expect.objectContaining({ kind: 'error', text: problem!.message })]);
    // A new, valid state file replaces it.
    await expect.poll(() => readStateFile(home)?.workspaces.api?.name, { timeout: WAIT_MS }).toBe('api');
  });

  it('valid JSON with invalid content is set aside too, naming the bad field', async () => {
    const home = await newHome([]);
    const bad = JSON.stringify({ schemaVersion: 1, savedAtMs: 1, state: { workspaces: 5 } });
    await writeFile(join(home, 'state.json'), bad);
    const daemon = await daemonIn(home);
    const aside = readdirSync(home).filter((f) => f.startsWith('state.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(home, aside[0]!), 'utf8')).toBe(bad);
    const state = await daemon.supervisor.snapshot();
    expect(openSignals(state)[0]!.message).toContain('invalid content at state.workspaces');
  });

  it('a state file from a newer cm-supervisor is refused, left in place, and the lock released', async () => {
    const home = await newHome([]);
    const newer = JSON.stringify({ schemaVersion: 99, savedAtMs: 1, state: {} });
    await writeFile(join(home, 'state.json'), newer);
    const error = await rejection(daemonIn(home));
    expect(error).toBeInstanceOf(SupervisorError);
    expect(error.message).toContain('was written by a newer cm-supervisor (state schema 99');
    expect(await readFile(join(home, 'state.json'), 'utf8')).toBe(newer);
    expect(existsSync(daemonPaths(home).lock)).toBe(false);
  });

  it('stopping saves the final state once; after that nothing writes the file (the next daemon may own it)', async () => {
    const home = await newHome([{ name: 'api', path: await env.workspace('api') }]);
    const daemon = await daemonIn(home, { saveDebounceMs: 0 });
    await daemon.stop();
    daemons.splice(daemons.indexOf(daemon), 1);
    const saved = await readFile(join(home, 'state.json'));
    // The app-server's exit was reported before the last save.
    expect(readStateFile(home)!.workspaces.api).toMatchObject({ status: 'stopped' });
    expect(readStateFile(home)!.hosts.local).toMatchObject({ status: 'stopped', pid: null });
    // An event after stop (a late exit report) schedules no save: the store's 0 ms timer, had it
    // been set, would fire before this one.
    daemon.supervisor.reportProblem('late', 'reported after stop');
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect((await readFile(join(home, 'state.json'))).equals(saved)).toBe(true);
  });

  it('a failed write: a signal names the problem once, the previous file stays byte-identical; writes working again resolve it', async () => {
    const path = await env.workspace('api');
    const home = await newHome([{ name: 'api', path }]);
    // A first daemon leaves a good state file.
    const first = await daemonIn(home);
    const c1 = await clientOf(first.socketPath);
    await c1.dispatch({ version: 1, id: 'w', actions: [{ id: 'a', workspace: 'api', prompt: 'before the disk filled up', thread: 'new' }] });
    await waitForState(c1, (s) => s.jobs['w:a']?.status === 'completed');
    c1.close();
    await first.stop();
    daemons.splice(daemons.indexOf(first), 1);
    const good = await readFile(join(home, 'state.json'));
    expect(readStateFile(home)!.jobs['w:a']!.status).toBe('completed');

    let failing = true;
    let attempts = 0;
    const daemon = await daemonIn(home, {
      writeState: (file, data) => {
        attempts++;
        if (failing) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        writeFileAtomic(file, data);
      },
    });
    const client = await clientOf(daemon.socketPath);
    const state = await waitForState(client, (s) => openSignals(s).some((x) => x.key === 'supervisor:state-write'));
    const signal = openSignals(state).find((x) => x.key === 'supervisor:state-write')!;
    expect(signal).toMatchObject({ kind: 'failed', workspace: SUPERVISOR_WORKSPACE });
    expect(signal.message).toContain(`could not save the state to ${join(home, 'state.json')} (ENOSPC: no space left on device`);
    expect(signal.message).toContain('the previous file is intact');
    // The restored state is still served.
    expect(state.jobs['w:a']!.status).toBe('completed');
    // Saves keep being retried (the health ticks change the state), and keep failing…
    const seen = attempts;
    await expect.poll(() => attempts, { timeout: WAIT_MS }).toBeGreaterThanOrEqual(seen + 3);
    expect((await readFile(join(home, 'state.json'))).equals(good)).toBe(true);
    expect(readdirSync(home).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // …but the problem is reported once, not once per attempt.
    const reports = (await client.feed({ workspace: SUPERVISOR_WORKSPACE })).filter((e) => e.text.startsWith('could not save the state'));
    expect(reports).toHaveLength(1);
    expect(Object.values((await client.snapshot()).signals).filter((x) => x.key === 'supervisor:state-write')).toHaveLength(1);

    failing = false;
    const fixed = await waitForState(client, (s) => s.signals[signal.id]!.resolvedAtMs !== null);
    expect(openSignals(fixed).some((x) => x.key === 'supervisor:state-write')).toBe(false);
    await expect.poll(() => readStateFile(home)?.signals[signal.id]?.resolvedAtMs ?? null, { timeout: WAIT_MS }).not.toBeNull();
    expect(readStateFile(home)!.jobs['w:a']!.status).toBe('completed');
  });
});

describe('daemon: several attached clients', () => {
  it('both see the same state; an approval answered by one disappears from the other, which got the change', async () => {
    const web = await env.workspace('web');
    const home = await newHome([{ name: 'web', path: web }]);
    const daemon = await daemonIn(home);
    const a = await clientOf(daemon.socketPath);
    const b = await clientOf(daemon.socketPath);
    const seenByA: StateChange[] = [];
    const seenByB: StateChange[] = [];
    a.subscribe((c) => seenByA.push(c));
    b.subscribe((c) => seenByB.push(c));
    await waitForState(b, (s) => s.workspaces.web?.status === 'ready');

    const result = await a.dispatch({ version: 1, id: 'two', actions: [{ id: 't', workspace: 'web', prompt: `[exec touch ${web}/both.txt] go`, thread: 'new' }] });
    const threadId = result.results[0]!.threadId!;
    const waiting = await waitForState(b, (s) => Object.values(s.pendingApprovals).some((x) => x.threadId === threadId));
    const key = Object.values(waiting.pendingApprovals).find((x) => x.threadId === threadId)!.key;
    expect((await a.snapshot()).pendingApprovals[key]).toBeDefined();
    expect((await b.feed({ needsInput: true })).map((e) => e.requestKey)).toEqual([key]);

    await a.answerApproval(key, 'accept');
    await expect.poll(() => seenByB.some((c) => c.eventType === 'approval/answered'), { timeout: WAIT_MS }).toBe(true);
    const afterB = await b.snapshot();
    expect(afterB.pendingApprovals[key]).toBeUndefined();
    expect(await b.feed({ needsInput: true })).toEqual([]);
    // B cannot answer it again.
    const late = await rejection(b.answerApproval(key, 'decline'));
    expect(late).toBeInstanceOf(SupervisorError);
    expect(late.message).toContain(`no pending approval "${key}"`);

    await waitForState(a, (s) => s.jobs['two:t']?.status === 'completed');
    await expect.poll(() => seenByA.some((c) => c.eventType === 'turn/completed') && seenByB.some((c) => c.eventType === 'turn/completed'), { timeout: WAIT_MS }).toBe(true);
    expect(existsSync(join(web, 'both.txt'))).toBe(true);
    const [sa, sb] = await Promise.all([a.snapshot(), b.snapshot()]);
    expect(sb.jobs).toEqual(sa.jobs);
    expect(sb.signals).toEqual(sa.signals);
    expect(sb.threads[threadId]!.digest).toEqual(sa.threads[threadId]!.digest);
    // Neither missed a change: consecutive seqs, the same ones, no resync.
    for (const seen of [seenByA, seenByB]) {
      expect(seen.some((c) => c.eventType === 'resync')).toBe(false);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq).toBe(seen[i - 1]!.seq + 1);
    }
    const common = seenByA.filter((c) => c.seq >= seenByB[0]!.seq && c.seq <= seenByB.at(-1)!.seq).map((c) => c.seq);
    expect(seenByB.filter((c) => c.seq >= seenByA[0]!.seq && c.seq <= seenByA.at(-1)!.seq).map((c) => c.seq)).toEqual(common);
    // A client going away leaves the daemon and the other client working.
    a.close();
    await b.dispatch({ version: 1, id: 'solo', actions: [{ id: 's', workspace: 'web', prompt: 'still here', thread: threadId }] });
    await waitForState(b, (s) => s.jobs['solo:s']?.status === 'completed');
  });

  it('a client that falls behind is not buffered without bound: changes stop, then a resync, then changes again', async () => {
    const home = await newHome([]);
    // No health ticks: every change is one of ours.
    const daemon = await daemonIn(home, { pollIntervalMs: 3_600_000 });
    const raw = await rawConnection(daemon.socketPath);
    expect(await raw.ask(JSON.stringify({ id: 1, method: 'hello', params: { protocolVersion: DAEMON_PROTOCOL_VERSION, client: 'slow' } }))).toMatchObject({ id: 1 });
    expect(await raw.ask('{"id":2,"method":"supervisor.subscribe"}')).toMatchObject({ id: 2, result: { subscribed: true } });
    const other = await clientOf(daemon.socketPath);
    // The slow client stops reading while far more than 4 MB of changes happen.
    raw.socket.pause();
    const first = (await daemon.supervisor.snapshot()).seq + 1;
    for (let i = 0; i < 60_000; i++) daemon.supervisor.clearProblem('noise');
    const last = first + 59_999;
    // Another client is not held up meanwhile.
    expect((await other.snapshot()).seq).toBeGreaterThanOrEqual(last);
    raw.socket.resume();
    const isResync = (m: unknown) => (m as { method?: string }).method === 'supervisor.resync';
    await expect.poll(() => raw.replies.some(isResync), { timeout: WAIT_MS }).toBe(true);
    daemon.supervisor.clearProblem('after');
    await expect.poll(() => (raw.replies.at(-1) as { params?: { seq: number } }).params?.seq, { timeout: WAIT_MS }).toBe(last + 1);
    const messages = raw.replies.slice(2) as { method: string; params?: { seq: number } }[];
    const at = messages.findIndex(isResync);
    const before = messages.slice(0, at).map((m) => m.params!.seq);
    // Consecutive changes up to where it fell behind, then a gap the resync covers.
    expect(before[0]).toBe(first);
    before.forEach((seq, i) => expect(seq).toBe(first + i));
    expect(before.at(-1)!).toBeLessThan(last);
    expect(messages.slice(at + 1).map((m) => m.params!.seq)).toEqual([last + 1]);
    raw.socket.destroy();
  });

  it('a client keeps its copy by reducing the events; a seq gap, or being told it fell behind, re-reads a snapshot', async () => {
    // A tiny fake daemon: it answers the handshake and snapshots of a given seq, and sends events.
    const dir = await mkdtemp(join(tmpdir(), 'cm-fake-daemon-'));
    homes.push(dir);
    const socketPath = join(dir, 'fake.sock');
    let peer = null as Socket | null;
    let snapshotSeq = 0;
    let replyDelayMs = 0;
    const snapshots: number[] = [];
    const stateAt = (seq: number) => ({ ...initialState(), seq });
    const server: Server = createServer((socket) => {
      peer = socket;
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString();
        for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
          const request = JSON.parse(buffered.slice(0, nl)) as { id: number; method: string };
          buffered = buffered.slice(nl + 1);
          if (request.method !== 'hello') snapshots.push(snapshotSeq);
          const result =
            request.method === 'hello'
              ? { protocolVersion: DAEMON_PROTOCOL_VERSION, version: 'fake', pid: 1 }
              : request.method === 'supervisor.subscribe'
                ? { subscribed: true, snapshot: stateAt(snapshotSeq) }
                : stateAt(snapshotSeq);
          const reply = `${JSON.stringify({ id: request.id, result })}\n`;
          if (replyDelayMs > 0) setTimeout(() => socket.write(reply), replyDelayMs);
          else socket.write(reply);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const client = await clientOf(socketPath);
      const seen: StateChange[] = [];
      client.subscribe((c) => seen.push(c));
      // Events numbered from `seq` on, in one message as the daemon sends a turn's worth.
      const ticks = (seq: number, count = 1) =>
        `${JSON.stringify({ method: 'supervisor.events', params: { seq, events: Array.from({ length: count }, (_, i) => ({ type: 'health/tick', atMs: 1_000 + seq + i })) } })}\n`;
      await expect.poll(() => snapshots.length, { timeout: WAIT_MS }).toBe(1);
      peer!.write(ticks(1, 2));
      await expect.poll(() => seen.length, { timeout: WAIT_MS }).toBe(2);
      // The copy is the daemon's state moved on by the events, read without asking the daemon.
      expect((await client.snapshot()).seq).toBe(2);
      expect(snapshots).toHaveLength(1);
      // 3 and 4 went missing: a resync, a new snapshot (the daemon is at 5 by then), and on from there.
      snapshotSeq = 5;
      peer!.write(ticks(5));
      await expect.poll(() => snapshots.length, { timeout: WAIT_MS }).toBe(2);
      peer!.write(ticks(6));
      await expect.poll(() => seen.length, { timeout: WAIT_MS }).toBe(4);
      expect(seen.map((c) => [c.eventType, c.seq])).toEqual([
        ['health/tick', 1],
        ['health/tick', 2],
        ['resync', 0],
        ['health/tick', 6],
      ]);
      expect((await client.snapshot()).seq).toBe(6);
      // The daemon says this client fell behind: a resync and a new snapshot. Readers meanwhile
      // wait for that snapshot instead of asking for more (a slow daemon is not asked twice).
      snapshotSeq = 40;
      replyDelayMs = 300;
      peer!.write(`${JSON.stringify({ method: 'supervisor.resync' })}\n`);
      await expect.poll(() => snapshots.length, { timeout: WAIT_MS }).toBe(3);
      const [read1, read2] = await Promise.all([client.snapshot(), client.feed()]);
      expect(read1.seq).toBe(40);
      expect(read2).toEqual([]);
      expect(snapshots).toHaveLength(3);
      replyDelayMs = 0;
      peer!.write(ticks(41));
      await expect.poll(() => seen.length, { timeout: WAIT_MS }).toBe(6);
      expect(seen.slice(4).map((c) => [c.eventType, c.seq])).toEqual([
        ['resync', 0],
        ['health/tick', 41],
      ]);
      // Garbage from the peer is ignored, not fatal.
      peer!.write('not json\n{"method":"supervisor.events","params":{"seq":"x","events":[]}}\n');
      peer!.write(ticks(42));
      await expect.poll(() => seen.length, { timeout: WAIT_MS }).toBe(7);
      expect(seen.at(-1)).toMatchObject({ eventType: 'health/tick', seq: 42 });
      expect((await client.snapshot()).seq).toBe(42);
    } finally {
      peer?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('daemon: home and socket permissions, one daemon per home', () => {
  it('the socket is 0600 and the home 0700 (a home readable by others is tightened)', async () => {
    const home = await newHome([]);
    await chmod(home, 0o755);
    const daemon = await daemonIn(home);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    const socket = statSync(daemon.socketPath);
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    expect(statSync(daemonPaths(home).lock).mode & 0o777).toBe(0o600);
    await expect.poll(() => existsSync(daemonPaths(home).state), { timeout: WAIT_MS }).toBe(true);
    expect(statSync(daemonPaths(home).state).mode & 0o777).toBe(0o600);
  });

  it('a home writable by others is refused with a clear message, and nothing is created in it', async () => {
    const home = await newHome([]);
    await chmod(home, 0o777);
    const error = await rejection(daemonIn(home));
    expect(error).toBeInstanceOf(SupervisorError);
    expect((error as SupervisorError).exitCode).toBe(2);
    expect(error.message).toBe(`${home} is writable by others (mode 777): they could change what cm-supervisor runs as you; run \`chmod 700 ${home}\` first`);
    expect(readdirSync(home).sort()).toEqual(['config.json']);
  });

  it('a second daemon for the same home is refused; the first keeps serving', async () => {
    const home = await newHome([]);
    const daemon = await daemonIn(home);
    const error = await rejection(daemonIn(home));
    expect(error).toBeInstanceOf(SupervisorError);
    expect(error.message).toBe(`a cm-supervisor daemon is already running for ${home} (pid ${process.pid})`);
    const client = await clientOf(daemon.socketPath);
    expect((await client.status()).pid).toBe(process.pid);
    expect(JSON.parse(readFileSync(daemonPaths(home).lock, 'utf8')).pid).toBe(process.pid);
  });

  it('a stale lock (dead pid) and a leftover socket file are cleaned and the daemon starts', async () => {
    const home = await newHome([]);
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    const paths = daemonPaths(home);
    await writeFile(paths.lock, JSON.stringify({ pid: dead.pid, startedAtMs: 1 }));
    await writeFile(paths.socket, 'left behind');
    const daemon = await daemonIn(home);
    expect(JSON.parse(readFileSync(paths.lock, 'utf8')).pid).toBe(process.pid);
    expect(statSync(paths.socket).isSocket()).toBe(true);
    expect((await (await clientOf(daemon.socketPath)).status()).pid).toBe(process.pid);
    await daemon.stop();
    daemons.splice(daemons.indexOf(daemon), 1);
    expect(existsSync(paths.lock)).toBe(false);
    expect(existsSync(paths.socket)).toBe(false);

    // An unreadable lock is as stale as a dead one.
    await writeFile(paths.lock, 'garbage');
    await daemonIn(home);
    expect(JSON.parse(readFileSync(paths.lock, 'utf8')).pid).toBe(process.pid);
  });
});

describe('daemon: every socket request is validated', () => {
  it('bad requests get error replies; the daemon keeps serving this and other clients', async () => {
    const api = await env.workspace('api');
    const home = await newHome([{ name: 'api', path: api }]);
    const daemon = await daemonIn(home);
    const raw = await rawConnection(daemon.socketPath);
    const hello = JSON.stringify({ id: 3, method: 'hello', params: { protocolVersion: DAEMON_PROTOCOL_VERSION, client: 'raw' } });

    expect(await raw.ask('this is not json')).toMatchObject({ id: null, error: { code: ERROR_CODES.parse } });
    expect(await raw.ask('{"method":"hello"}')).toMatchObject({ id: null, error: { code: ERROR_CODES.invalidRequest } });
    expect(await raw.ask('[1,2,3]')).toMatchObject({ id: null, error: { code: ERROR_CODES.invalidRequest } });
    expect(await raw.ask('{"id":-1,"method":"hello"}')).toMatchObject({ id: null, error: { code: ERROR_CODES.invalidRequest } });
    expect(await raw.ask('{"id":1,"method":"supervisor.snapshot"}')).toMatchObject({ id: 1, error: { code: ERROR_CODES.notHello, message: expect.stringContaining('send "hello"') } });
    expect(await raw.ask(JSON.stringify({ id: 2, method: 'hello', params: { protocolVersion: 99, client: 'future' } }))).toMatchObject({
      id: 2,
      error: { code: ERROR_CODES.supervisor, message: expect.stringContaining(`the daemon speaks protocol ${DAEMON_PROTOCOL_VERSION}, this client 99`), data: { exitCode: 2 } },
    });
    // Still not greeted after a refused hello.
    expect(await raw.ask('{"id":1,"method":"supervisor.snapshot"}')).toMatchObject({ id: 1, error: { code: ERROR_CODES.notHello } });
    expect(await raw.ask(hello)).toMatchObject({ id: 3, result: { protocolVersion: DAEMON_PROTOCOL_VERSION, pid: process.pid } });

    // Method names that are not methods, including the ones every JS object has.
    for (const [id, method] of [
      [4, 'supervisor.nope'],
      [5, 'toString'],
      [6, 'constructor'],
      [7, '__proto__'],
      [8, 'hasOwnProperty'],
    ] as const) {
      expect(await raw.ask(JSON.stringify({ id, method }))).toMatchObject({ id, error: { code: ERROR_CODES.unknownMethod, message: `unknown method "${method}"` } });
    }
    const badParams: [number, string, unknown][] = [
      [10, 'supervisor.answerApproval', { key: 'k', decision: 'maybe' }],
      [11, 'supervisor.answerApproval', { key: 5, decision: 'accept' }],
      [12, 'supervisor.feed', { filter: { limit: -1 } }],
      [13, 'supervisor.feed', { filter: { unknownField: true } }],
      [14, 'supervisor.snapshot', 'a string'],
      [15, 'supervisor.ackSignal', {}],
      [16, 'supervisor.dispatch', { plan: {}, options: { baseDir: 7 } }],
      [17, 'supervisor.interruptTurn', { threadId: 't', turnId: null }],
    ];
    for (const [id, method, params] of badParams) {
      expect(await raw.ask(JSON.stringify({ id, method, params }))).toMatchObject({ id, error: { code: ERROR_CODES.invalidParams, message: expect.stringContaining(`invalid params for ${method}`) } });
    }
    // Well-formed requests the supervisor refuses: the error kind travels with the reply.
    expect(await raw.ask(JSON.stringify({ id: 20, method: 'supervisor.ackSignal', params: { signalId: 'nope' } }))).toMatchObject({
      id: 20,
      error: { code: ERROR_CODES.supervisor, data: { exitCode: 2 } },
    });
    const invalidPlan = await raw.ask(JSON.stringify({ id: 21, method: 'supervisor.dispatch', params: { plan: { version: 1 } } }));
    expect(invalidPlan).toMatchObject({ id: 21, error: { code: ERROR_CODES.supervisor, data: { exitCode: 2, problems: [expect.objectContaining({ path: 'actions' })] } } });
    // After all that, this connection and a new client both work.
    expect(await raw.ask('{"id":30,"method":"supervisor.snapshot"}')).toMatchObject({ id: 30, result: { workspaces: { api: expect.any(Object) } } });
    // An oversized request is refused without being buffered, and ends the connection.
    const closed = new Promise((resolve) => raw.socket.once('close', resolve));
    expect(await raw.ask(`{"id":22,"method":"hello","params":{"client":"${'x'.repeat(MAX_REQUEST_BYTES + 10)}"}}`)).toMatchObject({
      id: null,
      error: { code: ERROR_CODES.limit, message: `sent a request over ${MAX_REQUEST_BYTES} bytes; disconnected` },
    });
    await closed;
    const other = await clientOf(daemon.socketPath);
    const state = await waitForState(other, (s) => s.workspaces.api?.status === 'ready');
    expect(state.hosts.local!.codexVersion).toBe('0.171.0');
    // A peer that vanishes mid-request does not bother the daemon either.
    const rude = await rawConnection(daemon.socketPath);
    rude.socket.write('{"id":1,"method":"hel');
    rude.socket.destroy();
    raw.socket.destroy();
    expect((await other.status()).pid).toBe(process.pid);
    await other.dispatch({ version: 1, id: 'robust', actions: [{ id: 'r', workspace: 'api', prompt: 'still serving', thread: 'new' }] });
    await waitForState(other, (s) => s.jobs['robust:r']?.status === 'completed');
  });
});
