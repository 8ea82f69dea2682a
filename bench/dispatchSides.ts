/**
 * The sides of the dispatch bench (dispatchBench.ts): each starts its codex processes, then
 * (warm) sends one new thread and one turn per workspace, all workspaces in parallel, and
 * reports when every `turn/start` was acknowledged, when every turn completed, and the memory
 * of every codex process it ran. Each run starts and stops its own processes.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DispatchLedger, type LedgerEntries } from '../src/core/dispatch/ledger.js';
import { commandHostName, LOCAL_HOST, localHost, type HostSpec } from '../src/core/hosts/hostSpec.js';
import { Supervisor, type WorkspaceInput } from '../src/core/loop/supervisor.js';
import type { OfflineCodexHome } from '../src/core/mockModel/codexHome.js';
import { cpuTimeMs, settledTreeMemory, treeMemory, type TreeMemory } from './processTree.js';

export interface BenchEnv {
  codexBin: string;
  home: OfflineCodexHome;
  /** Ledgers go here. */
  scratch: string;
}

export type Side =
  /** The raw client on one app-server serving every workspace. */
  | 'raw shared'
  /** The raw client, workspaces spread round-robin over two app-servers. */
  | 'raw pool of 2'
  /** cm-supervisor: every workspace on the `local` host, one app-server. */
  | 'cm-supervisor host'
  /** cm-supervisor before hosts: one command host, so one app-server, per workspace. */
  | 'per-workspace (old model)';

/** One measured run. Times are ms: `coldMs` from the first spawn, the others from the first request. */
export interface Sample {
  side: Side;
  size: number;
  /** Every process spawned and initialized (raw), or `start()` resolved (cm-supervisor). */
  coldMs: number;
  /** The first and the last workspace's new thread started (raw: answered; cm-supervisor: `thread/seen`). */
  firstThreadMs: number;
  threadsMs: number;
  /** Every `turn/start` answered (cm-supervisor: `dispatch()` returned). */
  ackedMs: number;
  /** Every turn's `turn/completed` received (cm-supervisor: every job `completed`). */
  completedMs: number;
  /** CPU time until acked: of the app-servers, and of this process (the client under test). */
  serverCpuMs: number;
  clientCpuMs: number;
  /** Every codex process of the side (app-servers and descendants) when the last turn completed. */
  memory: TreeMemory;
  /** The same once codex's short-lived helpers exited: what the side keeps while it supervises. */
  settled: TreeMemory;
  /** cm-supervisor: time the event loop spent in DispatchLedger calls before their writes went async. */
  ledgerMs: number;
}

const PROMPT = 'say hello';
const REQUEST_TIMEOUT_MS = 30_000;
const COMPLETION_TIMEOUT_MS = 120_000;
const SETTLE_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// Every app-server a side started is killed with its process group if the bench dies early.

const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

// ---------------------------------------------------------------------------------------------
// The raw client: deliberately minimal JSONL over stdio, no validation, no reducer, no ledger.

interface RawServer {
  readonly pid: number;
  request(method: string, params: unknown): Promise<unknown>;
  notify(method: string, params?: unknown): void;
  /** Server notifications (server requests are ignored: the bench's turns ask nothing). */
  onNotification(listener: (method: string, params: unknown) => void): void;
  stop(): Promise<void>;
}

function spawnRaw(codexBin: string, env: Record<string, string>): RawServer {
  // Detached (own session and process group) as spawnChild does for cm-supervisor. With the
  // kernel's autogroup scheduling a new session is its own scheduling group, so on a loaded
  // machine an attached child gets less CPU than the product's detached one, and the
  // comparison would measure the scheduler rather than the client. Started in the home
  // directory like the product's local host: each thread names its own directory.
  const child: ChildProcessWithoutNullStreams = spawn(codexBin, ['app-server'], {
    cwd: homedir(),
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`could not start ${codexBin}`);
  const pid = child.pid;
  liveGroups.add(pid);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  const listeners: ((method: string, params: unknown) => void)[] = [];
  let nextId = 1;
  let buffered = '';
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      liveGroups.delete(pid);
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error('app-server exited'));
      }
      pending.clear();
      resolve();
    }),
  );
  child.stdin.on('error', () => {});
  child.stderr.resume();
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let msg: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        continue;
      }
      if (typeof msg.method === 'string') {
        // A notification has a method and no id (server requests carry both).
        if (msg.id === undefined) for (const listener of listeners) listener(msg.method, msg.params);
        continue;
      }
      if (typeof msg.id !== 'number') continue;
      const p = pending.get(msg.id);
      if (!p) continue;
      pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error !== undefined) p.reject(new Error(JSON.stringify(msg.error)));
      else p.resolve(msg.result);
    }
  });
  const send = (msg: object): void => {
    child.stdin.write(`${JSON.stringify(msg)}\n`);
  };
  return {
    pid,
    request(method, params) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${method}: no answer within ${REQUEST_TIMEOUT_MS} ms`));
        }, REQUEST_TIMEOUT_MS);
        pending.set(id, { resolve, reject, timer });
        send({ id, method, params });
      });
    },
    notify(method, params) {
      send(params === undefined ? { method } : { method, params });
    },
    onNotification(listener) {
      listeners.push(listener);
    },
    async stop() {
      if (exited) return;
      child.stdin.end();
      const term = setTimeout(() => child.kill('SIGTERM'), 1_000);
      const kill = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exit;
      clearTimeout(term);
      clearTimeout(kill);
    },
  };
}

/** Spawns an app-server and completes the handshake. */
async function startRaw(env: BenchEnv): Promise<RawServer> {
  const server = spawnRaw(env.codexBin, env.home.env);
  try {
    // The same capabilities cm-supervisor sends, so the server does the same work for both.
    await server.request('initialize', {
      clientInfo: { name: 'raw_bench', title: 'raw bench', version: '0.0.0' },
      capabilities: { experimentalApi: false, requestAttestation: false, optOutNotificationMethods: null },
    });
    server.notify('initialized');
    return server;
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** The memory of one app-server that has only been initialized: the unit the memory target is measured in. */
export async function idleAppServerMemory(env: BenchEnv): Promise<TreeMemory> {
  const server = await startRaw(env);
  try {
    return treeMemory([server.pid]);
  } finally {
    await server.stop();
  }
}

/** `raw shared` (one app-server) or `raw pool of 2` (workspaces round-robin over two). */
export async function runRaw(env: BenchEnv, dirs: string[], serverCount: 1 | 2): Promise<Sample> {
  const servers: RawServer[] = [];
  const starting = performance.now();
  try {
    await Promise.all(
      Array.from({ length: serverCount }, async () => {
        servers.push(await startRaw(env));
      }),
    );
    const coldMs = performance.now() - starting;

    // Completions are collected from the start: a fast turn can complete before its turn/start answer arrives.
    const completedAt = new Map<string, number>();
    const problems: string[] = [];
    let check = (): void => {};
    for (const server of servers) {
      server.onNotification((method, params) => {
        if (method !== 'turn/completed') return;
        const { threadId, turn } = params as { threadId: string; turn: { status: string; error?: unknown } };
        if (turn.status === 'completed') completedAt.set(threadId, performance.now());
        else problems.push(`a turn ended ${turn.status}: ${JSON.stringify(turn.error ?? null)}`);
        check();
      });
    }

    const pids = servers.map((s) => s.pid);
    const threadsAt: number[] = [];
    const serverCpu = cpuTimeMs(pids);
    const clientCpu = process.cpuUsage();
    const t0 = performance.now();
    const threadIds = await Promise.all(
      dirs.map(async (cwd, i) => {
        const server = servers[i % serverCount]!;
        const started = (await server.request('thread/start', { cwd })) as { thread: { id: string } };
        threadsAt.push(performance.now() - t0);
        await server.request('turn/start', { threadId: started.thread.id, input: [{ type: 'text', text: PROMPT, text_elements: [] }] });
        return started.thread.id;
      }),
    );
    const ackedMs = performance.now() - t0;
    const serverCpuMs = cpuTimeMs(pids) - serverCpu;
    const clientCpuMs = cpuMs(process.cpuUsage(clientCpu));

    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`raw: turns not completed within ${COMPLETION_TIMEOUT_MS} ms`)), COMPLETION_TIMEOUT_MS);
      check = () => {
        if (problems.length > 0) reject(new Error(problems.join('; ')));
        else if (threadIds.every((id) => completedAt.has(id))) resolve();
        else return;
        clearTimeout(timer);
      };
      check();
    });
    const completedMs = Math.max(...threadIds.map((id) => completedAt.get(id)!)) - t0;
    const memory = treeMemory(pids);
    return {
      side: serverCount === 1 ? 'raw shared' : 'raw pool of 2',
      size: dirs.length,
      coldMs,
      firstThreadMs: Math.min(...threadsAt),
      threadsMs: Math.max(...threadsAt),
      ackedMs,
      completedMs,
      serverCpuMs,
      clientCpuMs,
      memory,
      settled: await settledTreeMemory(pids, SETTLE_TIMEOUT_MS),
      ledgerMs: 0,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

// ---------------------------------------------------------------------------------------------
// cm-supervisor: the path of `cm-supervisor dispatch`, in-process, on a host started beforehand.

/** The real ledger, timed: how long each call blocks the event loop before its write goes async. */
class TimedLedger extends DispatchLedger {
  blockedMs = 0;
  private timed<T>(call: () => T): T {
    const t = performance.now();
    try {
      return call();
    } finally {
      this.blockedMs += performance.now() - t;
    }
  }
  override update<T>(change: (entries: LedgerEntries) => T): Promise<T> {
    return this.timed(() => super.update(change));
  }
}

let planNumber = 0;

const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;

/**
 * `host`: every workspace on `local` (one app-server); `per-workspace`: each workspace on its own
 * command host running `codex app-server`, as a workspace with its own command is configured.
 */
export async function runSupervisor(env: BenchEnv, dirs: string[], model: 'host' | 'per-workspace'): Promise<Sample> {
  const n = ++planNumber;
  const perWorkspace = model === 'per-workspace';
  const workspaces: WorkspaceInput[] = dirs.map((path, i) => {
    const name = `ws${i + 1}`;
    return perWorkspace ? { name, path, host: commandHostName(name) } : { name, path };
  });
  const hosts: HostSpec[] = perWorkspace
    ? workspaces.map((w) => localHost({ name: w.host!, kind: 'command', codexDaemon: 'never', command: [env.codexBin, 'app-server'] }))
    : [];
  const plan = {
    version: 1,
    id: `bench-${n}`,
    actions: workspaces.map((w, i) => ({ id: `a${i + 1}`, workspace: w.name, prompt: PROMPT, thread: 'new' })),
  };
  const ledger = new TimedLedger(join(env.scratch, `ledger-${n}.json`));
  // The options `cm-supervisor dispatch` gives (src/cli/commands/dispatch.ts).
  const supervisor = new Supervisor({ hosts, workspaces, codexBin: env.codexBin, env: env.home.env, listKnownThreads: false, ledger });
  const pids: number[] = [];
  try {
    const starting = performance.now();
    await supervisor.start();
    const coldMs = performance.now() - starting;
    for (const name of new Set(workspaces.map((w) => w.host ?? LOCAL_HOST))) {
      const host = supervisor.liveState().hosts[name]!;
      // Attached to Codex's daemon there would be nothing of ours to measure.
      if (host.status !== 'ready' || host.transport !== 'private' || host.pid === null) throw new Error(`host ${host.name} is ${host.status} (${host.transport ?? 'no transport'}): ${host.lastError?.message ?? ''}`);
      pids.push(host.pid);
      liveGroups.add(host.pid);
    }

    // Observation only (every subscriber is told anyway): when each workspace's new thread was
    // first seen (its `thread/started` notification or the `thread/start` answer).
    const threadsAt = new Map<string, number>();
    let t0 = 0;
    supervisor.subscribe((change) => {
      if (change.eventType !== 'thread/seen') return;
      const at = performance.now() - t0;
      for (const t of Object.values(supervisor.liveState().threads)) if (!threadsAt.has(t.workspace)) threadsAt.set(t.workspace, at);
    });
    const serverCpu = cpuTimeMs(pids);
    const clientCpu = process.cpuUsage();
    t0 = performance.now();
    const result = await supervisor.dispatch(plan);
    const ackedMs = performance.now() - t0;
    const serverCpuMs = cpuTimeMs(pids) - serverCpu;
    const clientCpuMs = cpuMs(process.cpuUsage(clientCpu));
    const failed = result.results.filter((r) => r.status !== 'dispatched');
    if (failed.length > 0) throw new Error(`dispatch failed: ${failed.map((r) => `${r.workspace}: ${r.status} ${r.error ?? ''}`).join('; ')}`);

    const keys = result.results.map((r) => r.jobKey);
    const finished = await supervisor.waitUntil((s) => keys.every((k) => ['completed', 'failed', 'interrupted'].includes(s.jobs[k]?.status ?? '')), COMPLETION_TIMEOUT_MS);
    const completedMs = performance.now() - t0;
    const unfinished = keys.map((k) => finished.jobs[k]!).filter((j) => j.status !== 'completed');
    if (unfinished.length > 0) throw new Error(`turns did not complete: ${unfinished.map((j) => `${j.workspace}: ${j.status} ${j.error ?? ''}`).join('; ')}`);
    const memory = treeMemory(pids);
    return {
      side: perWorkspace ? 'per-workspace (old model)' : 'cm-supervisor host',
      size: dirs.length,
      coldMs,
      firstThreadMs: Math.min(...threadsAt.values()),
      threadsMs: Math.max(...threadsAt.values()),
      ackedMs,
      completedMs,
      serverCpuMs,
      clientCpuMs,
      memory,
      settled: await settledTreeMemory(pids, SETTLE_TIMEOUT_MS),
      ledgerMs: ledger.blockedMs,
    };
  } finally {
    await supervisor.stop();
    for (const pid of pids) liveGroups.delete(pid);
  }
}
