/**
 * The render bench's event storm with the TUI attached to a daemon, as `cm-supervisor attach`
 * runs it. The daemon side runs here: the bench's in-memory API (renderFixture.ts) fed by the
 * same storm generator, served by a real DaemonServer on a Unix socket in a temp directory. The
 * TUI side runs in a child process (attachedTui.ts): a real DaemonClient keeping its copy of
 * the state, and the App on it. So the child's CPU is what a user's attached TUI costs, and
 * this process's CPU is the daemon's share (generator, reduce, each event serialized, one message per batch).
 *
 * The child reports its CPU, frames and the bytes read on its socket from the storm's start
 * until it has reduced the storm's last event; the bytes are set against the events' own JSON.
 * The server, the child and the temp directory are closed whatever happens.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DaemonServer } from '../src/core/daemon/server.js';
import type { SupervisorEvent } from '../src/core/state/events.js';
import type { AttachedMode, ClientStats, FromChild, ToChild } from './attachedTui.js';
import { BenchApi, buildState, storm, stormEvents, type StormResult } from './renderFixture.js';
import { OPERATIONS_VIEW, sleep } from './tuiHarness.js';

export interface AttachedStormResult {
  mode: AttachedMode;
  /** This process over the storm: generator, reduce, and the server's line per event. */
  daemon: StormResult;
  /** The child from the storm's start until it had reduced the storm's last event. */
  client: ClientStats;
  /** UTF-8 bytes of `JSON.stringify(event)` summed over the storm's events. */
  eventJsonBytes: number;
  /** The last event (after the storm) on the child's screen, from its emit; NaN if not shown within 2 s or `bare`. */
  lateMs: number;
}

const CHILD_SCRIPT = fileURLToPath(new URL('./attachedTui.js', import.meta.url));
const REPLY_TIMEOUT_MS = 30_000;
const STORM_WARMUP_SECONDS = 2;

/** Runs one attached storm: `app` mounts the App in the child, `bare` only keeps the client's copy. */
export async function attachedStorm(mode: AttachedMode): Promise<AttachedStormResult> {
  // The same start state as the in-process storm, built afresh so both storms start alike.
  const built = buildState(Date.now() - 20 * 60_000);
  const api = new BenchApi(built.state);
  const next = stormEvents(built.threads);
  const dir = mkdtempSync(join(tmpdir(), 'cm-render-bench-'));
  const socketPath = join(dir, 'daemon.sock');
  const startedAtMs = Date.now();
  const server = new DaemonServer(api, {
    status: () => ({ pid: process.pid, holder: 'render bench', startedAtMs, version: 'bench', home: dir, socket: socketPath, hosts: [], workspaces: [] }),
    stop: () => {},
    reloadConfig: () => Promise.resolve(null),
    version: 'bench',
    log: (line) => process.stderr.write(`daemon: ${line}\n`),
  });
  let child: ChildProcess | null = null;
  try {
    await server.listen(socketPath);
    child = fork(CHILD_SCRIPT, [socketPath, mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const link = new ChildLink(child);
    await link.next('connected');
    // Once the child has reduced an event after its subscription, its copy follows the daemon's.
    const nudge = () => {
      for (const e of next(Date.now())) api.emit(e);
    };
    nudge();
    await caughtUp(link, api, nudge, mode === 'app' ? OPERATIONS_VIEW : undefined);
    // A short storm first, unmeasured: the child's code paths get compiled as the in-process
    // App's were by the render samples before its storm (a TUI runs for hours).
    await storm(api, next, undefined, STORM_WARMUP_SECONDS);
    await caughtUp(link, api, nudge);
    await sleep(200);
    link.send({ type: 'start' });
    await link.next('started');

    const events: SupervisorEvent[] = [];
    const daemon = await storm(api, next, (e) => events.push(e));
    const client = await caughtUp(link, api, nudge);

    // The last events of the storm, on a thread that is on screen (ws01 is the first row).
    let lateMs = NaN;
    if (mode === 'app') {
      // Short: it must fit the LAST ACTIVITY column of the 200-column table after "just now replied: ".
      const marker = `sf-${Date.now().toString(36)}`;
      const first = built.threads[0]!;
      const emittedAtMs = performance.timeOrigin + performance.now();
      api.emit({ type: 'item/completed', atMs: Date.now(), workspace: first.workspace, threadId: first.threadId, turnId: first.turnId, item: { type: 'agentMessage', id: `msg-${marker}`, text: `${marker} all done` } });
      try {
        lateMs = (await link.until(api.state.seq, marker, 2_000)).frameAtMs - emittedAtMs;
      } catch {
        // reported as not shown
      }
    }
    let eventJsonBytes = 0;
    for (const e of events) eventJsonBytes += Buffer.byteLength(JSON.stringify(e));
    return { mode, daemon, client, eventJsonBytes, lateMs };
  } finally {
    if (child) await stopChild(child);
    await server.close('the bench is done');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The child's measures once it has reduced the daemon's last event (and shows `text`). After a
 * resync its copy starts from a new snapshot, whose events never arrive as changes: if it does
 * not get there, one more event tells when the copy follows again.
 */
async function caughtUp(link: ChildLink, api: BenchApi, nudge: () => void, text?: string): Promise<ClientStats> {
  for (let nudges = 0; ; nudges++) {
    try {
      return await link.until(api.state.seq, text, 2_000);
    } catch (error) {
      if (nudges >= 5 || link.exited) throw error;
      nudge();
    }
  }
}

/** Asks the child to quit; kills it if it has not exited within 2 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'quit' } satisfies ToChild);
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}

/** The IPC channel to the child: replies awaited by type (and id), all failing when the child exits. */
class ChildLink {
  private readonly waiters = new Set<{ type: FromChild['type']; id: number | undefined; resolve: (m: FromChild) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private gone: Error | null = null;

  get exited(): boolean {
    return this.gone !== null;
  }

  constructor(private readonly child: ChildProcess) {
    child.on('message', (message: FromChild) => {
      const id = 'id' in message ? message.id : undefined;
      for (const waiter of this.waiters) {
        if (message.type === 'failed') {
          // Without an id the child itself failed: every waiter learns it.
          if (id === undefined || waiter.id === id) waiter.reject(new Error(`the attached TUI: ${message.message}`));
        } else if (waiter.type === message.type && (waiter.id === undefined || waiter.id === id)) waiter.resolve(message);
      }
    });
    const fail = (error: Error) => {
      this.gone ??= error;
      for (const waiter of this.waiters) waiter.reject(error);
    };
    child.on('exit', (code, signal) => fail(new Error(`the attached TUI exited (${signal ?? `code ${code}`})`)));
    child.on('error', (error) => fail(new Error(`the attached TUI: ${error.message}`)));
  }

  send(message: ToChild): void {
    this.child.send(message);
  }

  /** The next message of this type. */
  async next<T extends FromChild['type']>(type: T, timeoutMs = REPLY_TIMEOUT_MS): Promise<Extract<FromChild, { type: T }>> {
    return (await this.wait(type, undefined, timeoutMs, `"${type}"`)) as Extract<FromChild, { type: T }>;
  }

  /** The child's measures once it has reduced the events up to `seq` (and a frame shows `text`). */
  async until(seq: number, text?: string, timeoutMs = REPLY_TIMEOUT_MS): Promise<ClientStats> {
    const id = this.nextId++;
    const reply = this.wait('reached', id, timeoutMs + 1_000, `event ${seq}${text ? ` and "${text}"` : ''}`);
    this.send({ type: 'await', id, seq, timeoutMs, ...(text === undefined ? {} : { text }) });
    return ((await reply) as Extract<FromChild, { type: 'reached' }>).stats;
  }

  private wait(type: FromChild['type'], id: number | undefined, timeoutMs: number, what: string): Promise<FromChild> {
    if (this.gone) return Promise.reject(this.gone);
    return new Promise((resolve, reject) => {
      const settle = (fn: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        fn();
      };
      const waiter = { type, id, resolve: (m: FromChild) => settle(() => resolve(m)), reject: (e: Error) => settle(() => reject(e)) };
      const timer = setTimeout(() => waiter.reject(new Error(`the attached TUI did not answer ${what} within ${timeoutMs / 1000} s`)), timeoutMs);
      this.waiters.add(waiter);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The report

/** The issue's targets: the attached TUI's process against the in-process TUI's, and the socket's bytes against the events' JSON. */
export const ATTACHED_CPU_TARGET = 1.2;
export const ATTACHED_BYTES_TARGET = 2;

export interface AttachedVerdicts {
  cpu: boolean;
  bytes: boolean;
  /** Frames written (≤ maxFps) and the last event shown. */
  screen: boolean;
}

const cores = (c: ClientStats) => (c.userMs + c.systemMs) / c.wallMs;
const kb = (bytes: number) => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`);
const metOrNot = (ok: boolean) => (ok ? 'MET' : 'NOT MET');

/**
 * Rows of the attached storm's table. `inProcess`: the in-process storm's CPU (App, generator
 * and reducer in one process) and its UI share (minus the same storm without the App).
 */
export function attachedReport(app: AttachedStormResult, bare: AttachedStormResult | null, inProcess: { cores: number; uiCores: number; maxFps: number }): { rows: string[][]; verdicts: AttachedVerdicts } {
  const { client, daemon } = app;
  const tuiCores = cores(client);
  const ratio = tuiCores / inProcess.cores;
  const fps = client.frames / (client.wallMs / 1000);
  const perEvent = client.bytesRead / daemon.events;
  const jsonPerEvent = app.eventJsonBytes / daemon.events;
  const verdicts: AttachedVerdicts = {
    cpu: ratio <= ATTACHED_CPU_TARGET,
    bytes: perEvent <= ATTACHED_BYTES_TARGET * jsonPerEvent,
    screen: client.frames > 0 && fps <= inProcess.maxFps && Number.isFinite(app.lateMs) && client.seq >= daemon.events,
  };
  const copyCores = bare ? cores(bare.client) : NaN;
  const ms = (x: number) => `${Math.round(x)} ms`;
  const rows: string[][] = [
    ['events sent', `${daemon.events} in ${(daemon.wallMs / 1000).toFixed(1)} s (${Math.round(daemon.events / (daemon.wallMs / 1000))}/s)`, ''],
    [
      'CPU of the attached TUI (child)',
      `${tuiCores.toFixed(2)} cores (user ${ms(client.userMs)}, system ${ms(client.systemMs)})`,
      `${metOrNot(verdicts.cpu)}: ${ratio.toFixed(2)}× in-process ${inProcess.cores.toFixed(2)} (≤ ${ATTACHED_CPU_TARGET}×)`,
    ],
    ["  of which the client's copy", bare ? `${copyCores.toFixed(2)} cores (child without the App)` : 'not measured', ''],
    ['  so the App', bare ? `${(tuiCores - copyCores).toFixed(2)} cores (in-process ${inProcess.uiCores.toFixed(2)})` : '', ''],
    ['frames written', `${client.frames} (${fps.toFixed(1)}/s; Ink renders ${client.inkRenders})`, ''],
    ['last event on screen', Number.isFinite(app.lateMs) ? `after ${ms(app.lateMs)}` : 'NOT SHOWN within 2 s', verdicts.screen ? 'PASS' : 'FAIL'],
    ['socket reads, resyncs', `${client.reads} reads (${(daemon.events / Math.max(1, client.reads)).toFixed(1)} events a read), ${client.resyncs} resyncs`, ''],
    ['socket bytes per event', `${perEvent.toFixed(1)} B (${kb(client.bytesRead)} in all)`, `${metOrNot(verdicts.bytes)}: ${(perEvent / jsonPerEvent).toFixed(2)}× (≤ ${ATTACHED_BYTES_TARGET}×)`],
    ["  the events' own JSON", `${jsonPerEvent.toFixed(1)} B`, ''],
    ['  attaching, once', `${kb(client.bytesAttaching)} (${client.resyncsBefore} resyncs before the storm)`, ''],
    ['daemon side (this process)', `${daemon.cores.toFixed(2)} cores${bare ? ` (${bare.daemon.cores.toFixed(2)} with the bare child)` : ''}`, ''],
  ];
  return { rows, verdicts };
}
