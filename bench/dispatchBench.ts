/**
 * Dispatch latency: wall time from "command start" to every `turn/start` acknowledged, for 1, 4
 * and 8 workspaces, cm-supervisor (the in-process path of `cm-supervisor dispatch`: Supervisor
 * with a DispatchLedger, `start()`, `dispatch()`) against a minimal raw JSONL client doing the
 * same protocol steps (spawn, initialize, initialized, thread/start, turn/start) in the same run.
 * Target: cm-supervisor ≤ 1.25× the raw client at 8 workspaces, all workspaces in parallel.
 *
 * Both sides run the real bundled `codex app-server` against the same offline mock model and
 * CODEX_HOME, with fresh temp workspace directories per run. The sides alternate, each
 * configuration is repeated BENCH_DISPATCH_REPS times (default 7, at least 3), medians are
 * reported. A breakdown at 8 workspaces then separates what the difference is made of.
 *
 *   npm run build && node dist/bench/dispatchBench.js
 *
 * Environment: BENCH_DISPATCH_REPS (default 7), BENCH_DISPATCH_SIZES (default "1,4,8"),
 * BENCH_DISPATCH_DIAG=0 to skip the breakdown.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { requireBundledCodexBinary } from '../src/core/codexBinary.js';
import { DispatchLedger } from '../src/core/dispatch/ledger.js';
import { Supervisor, type WorkspaceSpec } from '../src/core/loop/supervisor.js';
import { createOfflineCodexHome, type OfflineCodexHome } from '../src/core/mockModel/codexHome.js';
import { startMockResponsesServer, type MockResponsesServer } from '../src/core/mockModel/mockResponsesServer.js';

const TARGET_RATIO = 1.25;
const TARGET_SIZE = 8;
const REPS = Math.max(3, Number(process.env.BENCH_DISPATCH_REPS ?? 7));
const SIZES = (process.env.BENCH_DISPATCH_SIZES ?? '1,4,8')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const DIAGNOSE = process.env.BENCH_DISPATCH_DIAG !== '0';
const PROMPT = 'say hello';
const REQUEST_TIMEOUT_MS = 30_000;

interface Env {
  codexBin: string;
  mock: MockResponsesServer;
  home: OfflineCodexHome;
  scratch: string;
}

type Side =
  /** The raw client, each workspace on its own: spawn → initialize → thread/start → turn/start. */
  | 'raw'
  | 'cm-supervisor, no ledger'
  | 'cm-supervisor';

/** One measured run; times are ms since the clock started. */
interface Sample {
  side: Side;
  size: number;
  totalMs: number;
  /** Every workspace ready: raw = initialize answered (+ thread/list); cm-supervisor = `start()` resolved. */
  readyMs: number;
  /** Every workspace's new thread started (raw: answered; cm-supervisor: first `thread/seen`). */
  threadMs: number;
  /** Time the event loop spent in DispatchLedger calls before their (asynchronous, fsync'd) writes. */
  ledgerMs: number;
  ledgerWrites: number;
}

// ---------------------------------------------------------------------------------------------
// The raw client: deliberately minimal JSONL over stdio, no validation, no reducer, no ledger.

interface RawServer {
  request(method: string, params: unknown): Promise<unknown>;
  notify(method: string, params?: unknown): void;
  stop(): Promise<void>;
}

/** Raw children still running, killed with their process groups if the bench dies early. */
const liveRaw = new Set<ChildProcessWithoutNullStreams>();
process.once('exit', () => {
  for (const child of liveRaw) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function spawnRaw(codexBin: string, cwd: string, env: Record<string, string>): RawServer {
  // Detached (own session and process group) as spawnChild does for cm-supervisor. With the
  // kernel's autogroup scheduling a new session is its own scheduling group, so on a loaded
  // machine an attached child gets less CPU than the product's detached one, and the
  // comparison would measure the scheduler rather than the client.
  const child = spawn(codexBin, ['app-server'], { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  liveRaw.add(child);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let buffered = '';
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      liveRaw.delete(child);
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
      let msg: { id?: unknown; method?: unknown; result?: unknown; error?: unknown };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        continue;
      }
      // A response has an id and no method (server requests carry both).
      if (typeof msg.id !== 'number' || msg.method !== undefined) continue;
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

async function runRaw(env: Env, dirs: string[]): Promise<Sample> {
  const servers: RawServer[] = [];
  const ready: number[] = [];
  const threads: number[] = [];
  const t0 = performance.now();
  try {
    const startAll = dirs.map(async (cwd) => {
      const server = spawnRaw(env.codexBin, cwd, env.home.env);
      servers.push(server);
      // The same capabilities cm-supervisor sends, so the server does the same work for both.
      await server.request('initialize', {
        clientInfo: { name: 'raw_bench', title: 'raw bench', version: '0.0.0' },
        capabilities: { experimentalApi: false, requestAttestation: false, optOutNotificationMethods: null },
      });
      server.notify('initialized');
      ready.push(performance.now() - t0);
      return { server, cwd };
    });
    await Promise.all(
      startAll.map(async (started) => {
        const { server, cwd } = await started;
        const thread = (await server.request('thread/start', { cwd })) as { thread: { id: string } };
        threads.push(performance.now() - t0);
        await server.request('turn/start', { threadId: thread.thread.id, input: [{ type: 'text', text: PROMPT, text_elements: [] }] });
      }),
    );
    const totalMs = performance.now() - t0;
    return {
      side: 'raw',
      size: dirs.length,
      totalMs,
      readyMs: Math.max(...ready),
      threadMs: Math.max(...threads),
      ledgerMs: 0,
      ledgerWrites: 0,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

// ---------------------------------------------------------------------------------------------
// cm-supervisor: the same path as `cm-supervisor dispatch`, in-process.

/** The real ledger, timed: how long each call blocks the event loop before its write goes async. */
class TimedLedger extends DispatchLedger {
  blockedMs = 0;
  writes = 0;
  override markSending(...entries: Parameters<DispatchLedger['markSending']>): Promise<void> {
    const t = performance.now();
    const written = super.markSending(...entries);
    this.blockedMs += performance.now() - t;
    this.writes++;
    return written;
  }
  override recordThread(key: string, threadId: string): Promise<void> {
    const t = performance.now();
    const written = super.recordThread(key, threadId);
    this.blockedMs += performance.now() - t;
    this.writes++;
    return written;
  }
  override markSent(key: string, threadId: string, turnId: string): Promise<void> {
    const t = performance.now();
    const written = super.markSent(key, threadId, turnId);
    this.blockedMs += performance.now() - t;
    this.writes++;
    return written;
  }
}

let planNumber = 0;

/** `ledger: false` (diagnostic): no DispatchLedger, to see what its writes cost. */
async function runSupervisor(env: Env, dirs: string[], ledger = true): Promise<Sample> {
  const workspaces: WorkspaceSpec[] = dirs.map((path, i) => ({ name: `ws${i + 1}`, path }));
  const ledgerPath = join(env.scratch, `ledger-${++planNumber}.json`);
  const plan = {
    version: 1,
    id: `bench-${planNumber}`,
    actions: workspaces.map((w, i) => ({ id: `a${i + 1}`, workspace: w.name, prompt: PROMPT, thread: 'new' })),
  };
  const threads = new Map<string, number>();
  let supervisor: Supervisor | null = null;
  let timedLedger: TimedLedger | null = null;
  const t0 = performance.now();
  try {
    timedLedger = ledger ? new TimedLedger(ledgerPath) : null;
    // The options `cm-supervisor dispatch` gives (src/cli/commands/dispatch.ts).
    supervisor = new Supervisor({ workspaces, codexBin: env.codexBin, env: env.home.env, listKnownThreads: false, ...(timedLedger ? { ledger: timedLedger } : {}) });
    // Observation only (every subscriber is told anyway): when each workspace's new thread was
    // first seen (its `thread/started` notification or the `thread/start` answer).
    const sup = supervisor;
    sup.subscribe((change) => {
      if (change.eventType !== 'thread/seen') return;
      const at = performance.now() - t0;
      for (const t of Object.values(sup.liveState().threads)) if (!threads.has(t.workspace)) threads.set(t.workspace, at);
    });
    // As `cm-supervisor dispatch` does: each action goes as soon as its own workspace is ready.
    let readyMs = 0;
    const starting = supervisor.start().then(() => (readyMs = performance.now() - t0));
    const result = await supervisor.dispatch(plan, { baseDir: env.scratch });
    const totalMs = performance.now() - t0;
    await starting;
    const failed = result.results.filter((r) => r.status !== 'dispatched');
    if (failed.length > 0) throw new Error(`dispatch failed: ${failed.map((r) => `${r.workspace}: ${r.status} ${r.error ?? ''}`).join('; ')}`);
    return {
      side: ledger ? 'cm-supervisor' : 'cm-supervisor, no ledger',
      size: dirs.length,
      totalMs,
      readyMs,
      threadMs: Math.max(...threads.values()),
      ledgerMs: timedLedger?.blockedMs ?? 0,
      ledgerWrites: timedLedger?.writes ?? 0,
    };
  } finally {
    await supervisor?.stop();
  }
}

// ---------------------------------------------------------------------------------------------

async function measure(env: Env, side: Side, size: number): Promise<Sample> {
  const dirs = await Promise.all(Array.from({ length: size }, (_, i) => mkdtemp(join(env.scratch, `ws${i + 1}-`))));
  try {
    switch (side) {
      case 'raw':
        return await runRaw(env, dirs);
      case 'cm-supervisor':
        return await runSupervisor(env, dirs);
      case 'cm-supervisor, no ledger':
        return await runSupervisor(env, dirs, false);
    }
  } finally {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const ms = (n: number): string => `${n.toFixed(0)} ms`;
const of = (samples: Sample[], side: Side, size: number) => samples.filter((s) => s.side === side && s.size === size);
const med = (samples: Sample[], pick: (s: Sample) => number) => median(samples.map(pick));

export async function main(): Promise<void> {
  const started = performance.now();
  const codexBin = requireBundledCodexBinary();
  const mock = await startMockResponsesServer();
  const home = await createOfflineCodexHome({ baseUrl: mock.baseUrl });
  const scratch = await mkdtemp(join(tmpdir(), 'cm-dispatch-bench-'));
  const env: Env = { codexBin, mock, home, scratch };
  const samples: Sample[] = [];
  const diagnostics: Sample[] = [];
  const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
  try {
    console.log(`dispatch bench: ${SIZES.join(', ')} workspaces × ${REPS} runs per side, sides alternating; load average ${load()}`);
    // Warm-up (not counted): page cache for the binary, JIT for both clients, CODEX_HOME's databases.
    await measure(env, 'raw', 1);
    await measure(env, 'cm-supervisor', 1);

    for (const size of SIZES) {
      for (let rep = 0; rep < REPS; rep++) {
        // Alternate which side goes first, so drift (load, a growing CODEX_HOME) hits both alike.
        const order: Side[] = rep % 2 === 0 ? ['cm-supervisor', 'raw'] : ['raw', 'cm-supervisor'];
        for (const side of order) samples.push(await measure(env, side, size));
      }
      console.log(`  ${size} workspace(s) done`);
    }
    if (DIAGNOSE) {
      // What the difference at the target size is made of: one step from raw to cm-supervisor at a time.
      const sides: Side[] = ['raw', 'cm-supervisor, no ledger', 'cm-supervisor'];
      for (let rep = 0; rep < REPS; rep++) for (const side of rep % 2 ? [...sides].reverse() : sides) diagnostics.push(await measure(env, side, TARGET_SIZE));
      console.log('  breakdown done');
    }
  } finally {
    await mock.close();
    await home.cleanup();
    await rm(scratch, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }

  let verdict = 'n/a';
  const rows = SIZES.map((size) => {
    const sup = of(samples, 'cm-supervisor', size).map((s) => s.totalMs);
    const raw = of(samples, 'raw', size).map((s) => s.totalMs);
    const ratio = median(sup) / median(raw);
    const isTarget = size === TARGET_SIZE;
    if (isTarget) verdict = ratio <= TARGET_RATIO ? 'PASS' : 'FAIL';
    return [
      String(size),
      ms(median(raw)),
      ms(median(sup)),
      `${ratio.toFixed(2)}×`,
      isTarget ? `${verdict} (≤ ${TARGET_RATIO}×)` : '-',
      `${ms(Math.min(...raw))}–${ms(Math.max(...raw))}`,
      `${ms(Math.min(...sup))}–${ms(Math.max(...sup))}`,
    ];
  });
  console.log(`\nWall time, command start → every turn/start acknowledged (median of ${REPS} runs per side)`);
  console.log(table(['workspaces', 'raw client', 'cm-supervisor', 'ratio', 'target', 'raw range', 'cm-supervisor range'], rows));

  const phaseRows = SIZES.flatMap((size) =>
    (['raw', 'cm-supervisor'] as const).map((side) => {
      const s = of(samples, side, size);
      const ledger = side === 'raw' ? '-' : `${ms(med(s, (x) => x.ledgerMs))} in ${s[0]?.ledgerWrites ?? 0} ledger calls`;
      return [String(size), side, ms(med(s, (x) => x.readyMs)), ms(med(s, (x) => x.threadMs)), ms(med(s, (x) => x.totalMs)), ledger];
    }),
  );
  console.log('\nPhases (medians, ms since the clock started, each when the last workspace got there)');
  console.log('  ready: raw = initialize answered (workspaces go on independently, so phases overlap);');
  console.log('         cm-supervisor = start() resolved: every workspace initialized');
  console.log(table(['workspaces', 'side', 'ready', 'threads started', 'turns acknowledged', 'event loop blocked in ledger'], phaseRows));

  if (diagnostics.length > 0) {
    const rawMed = med(of(diagnostics, 'raw', TARGET_SIZE), (d) => d.totalMs);
    const steps: [Side, string][] = [
      ['raw', 'baseline'],
      ['cm-supervisor, no ledger', '+ the product client (execa, framing, zod, reducer, events)'],
      ['cm-supervisor', '+ DispatchLedger: actions recorded (fsync’d) before turn/start'],
    ];
    let previous = rawMed;
    const diagRows = steps.map(([side, what]) => {
      const s = of(diagnostics, side, TARGET_SIZE);
      const total = med(s, (d) => d.totalMs);
      const step = side === 'raw' ? '' : `${total - previous >= 0 ? '+' : ''}${ms(total - previous)}`;
      previous = total;
      const extra = side === 'cm-supervisor' ? `ledger blocked the loop ${ms(med(s, (d) => d.ledgerMs))}` : '';
      return [side, what, ms(med(s, (d) => d.readyMs)), ms(total), step, `${(total / rawMed).toFixed(2)}×`, extra];
    });
    console.log(`\nBreakdown at ${TARGET_SIZE} workspaces (medians of ${REPS}, variants interleaved; runs separate from the table above)`);
    console.log(table(['variant', 'adds', 'ready', 'total', 'step', 'vs raw', 'note'], diagRows));
  }
  console.log(`\n${TARGET_SIZE}-workspace target (≤ ${TARGET_RATIO}× raw): ${verdict}   (bench took ${((performance.now() - started) / 1000).toFixed(1)} s; load average now ${load()})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
