/**
 * Dispatch to many workspaces, in one run, on the ways of running codex side by side:
 *
 *   raw shared                  a minimal raw JSONL client on ONE app-server serving every workspace
 *   cm-supervisor host          cm-supervisor with every workspace on the `local` host (one app-server)
 *   per-workspace (old model)   cm-supervisor with one command host, so one app-server, per workspace
 *   raw pool of 2               the raw client with the workspaces spread over two app-servers
 *
 * Each run starts its side's processes (timed as "cold start"), then, warm, starts one new thread
 * (with the workspace's cwd) and one turn per workspace, all workspaces in parallel, and takes
 * the time until every `turn/start` is acknowledged ("acked"; cm-supervisor: `dispatch()` of an
 * N-action plan returned, with a DispatchLedger as `cm-supervisor dispatch` has) and until every
 * turn completed. Then it reads the memory of every codex process the side runs (the
 * app-servers and their descendants, from /proc) and stops them.
 *
 * Targets, at 32 workspaces: cm-supervisor host acked ≤ 1.1× raw shared (the median of the
 * ratios of back-to-back runs: the machine's speed drifts between runs, a pair sees nearly the
 * same machine); cm-supervisor host's codex RSS ≤ 1.5× one app-server, i.e. one that served a
 * workspace's turn, as each workspace had before hosts (measured in the same run, by the old
 * model's side). An idle app-server is printed too: it has not yet loaded the code a turn needs,
 * so no client serving 32 workspaces can come near 1.5× of it. The raw pool of 2 keeps visible
 * whether one shared process serializes `thread/start` enough for a per-host pool to pay off (it
 * would need to beat raw shared).
 *
 * Every side runs the real bundled `codex app-server` against the same offline mock model and
 * CODEX_HOME, with fresh temp workspace directories per run. The sides take turns going first,
 * each size is repeated BENCH_DISPATCH_REPS times (default 5, at least 3); medians are reported
 * with their range, and the load average is printed because the numbers mean little without it.
 * The offline CODEX_HOME turns off Codex's shell snapshot (a login shell per new thread, which
 * on a machine with a heavy profile kept 2 cores busy more than either client did).
 *
 *   npm run build && node dist/bench/dispatchBench.js
 *
 * Environment: BENCH_DISPATCH_REPS (default 5), BENCH_DISPATCH_SIZES (default "8,32").
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { requireBundledCodexBinary } from '../src/core/codexBinary.js';
import { createOfflineCodexHome } from '../src/core/mockModel/codexHome.js';
import { startMockResponsesServer } from '../src/core/mockModel/mockResponsesServer.js';
import { idleAppServerMemory, runRaw, runSupervisor, type BenchEnv, type Sample, type Side } from './dispatchSides.js';
import type { TreeMemory } from './processTree.js';

const TARGET_SIZE = 32;
const ACKED_TARGET = 1.1;
const MEMORY_TARGET = 1.5;
const REPS = Math.max(3, Number(process.env.BENCH_DISPATCH_REPS ?? 5));
const SIZES = (process.env.BENCH_DISPATCH_SIZES ?? '8,32')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const SIDES: Side[] = ['raw shared', 'cm-supervisor host', 'per-workspace (old model)', 'raw pool of 2'];

/**
 * The order of the sides in repetition `rep`: every side goes first, last and in between in
 * turn, so drift (load, a growing CODEX_HOME) hits them alike, and the two sides of the acked
 * target always run back to back, so their run-by-run ratio sees the same conditions.
 */
function runOrder(rep: number): Side[] {
  const [raw, host, old, pool] = SIDES as [Side, Side, Side, Side];
  const order: Side[] = rep % 4 < 2 ? [raw, host, old, pool] : [old, pool, raw, host];
  return rep % 2 === 0 ? order : order.reverse();
}

async function measure(env: BenchEnv, side: Side, size: number): Promise<Sample> {
  const dirs = await Promise.all(Array.from({ length: size }, (_, i) => mkdtemp(join(env.scratch, `ws${i + 1}-`))));
  try {
    switch (side) {
      case 'raw shared':
        return await runRaw(env, dirs, 1);
      case 'raw pool of 2':
        return await runRaw(env, dirs, 2);
      case 'cm-supervisor host':
        return await runSupervisor(env, dirs, 'host');
      case 'per-workspace (old model)':
        return await runSupervisor(env, dirs, 'per-workspace');
    }
  } finally {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting

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
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const times = (ratio: number): string => `${ratio.toFixed(2)}×`;
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
/** `median (min–max)` of one measure. */
const spread = (values: number[]): string => `${ms(median(values))} (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;
const verdict = (ratio: number, target: number): string => (ratio <= target ? 'MET' : 'NOT MET');

// ---------------------------------------------------------------------------------------------

export async function main(): Promise<void> {
  const started = performance.now();
  const codexBin = requireBundledCodexBinary();
  const mock = await startMockResponsesServer();
  const home = await createOfflineCodexHome({ baseUrl: mock.baseUrl });
  const scratch = await mkdtemp(join(tmpdir(), 'cm-dispatch-bench-'));
  const env: BenchEnv = { codexBin, home, scratch };
  const samples: Sample[] = [];
  const idle: TreeMemory[] = [];
  try {
    console.log(`dispatch bench: ${SIZES.join(', ')} workspaces × ${REPS} runs per side, sides taking turns going first; load average ${load()}`);
    // Warm-up (not counted): page cache for the binary, JIT for both clients, CODEX_HOME's databases.
    for (const side of SIDES) await measure(env, side, 2);

    for (const size of SIZES) {
      for (let rep = 0; rep < REPS; rep++) {
        idle.push(await idleAppServerMemory(env));
        for (const side of runOrder(rep)) samples.push(await measure(env, side, size));
      }
      console.log(`  ${size} workspaces done; load average ${load()}`);
    }
  } finally {
    await mock.close();
    await home.cleanup();
    await rm(scratch, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }

  const of = (side: Side, size: number) => samples.filter((s) => s.side === side && s.size === size);
  const med = (side: Side, size: number, pick: (s: Sample) => number) => median(of(side, size).map(pick));
  const idleRss = median(idle.map((m) => m.rssBytes));

  for (const size of SIZES) {
    const rawAcked = med('raw shared', size, (s) => s.ackedMs);
    const timeRows = SIDES.map((side) => {
      const s = of(side, size);
      const acked = median(s.map((x) => x.ackedMs));
      const serverCpu = median(s.map((x) => x.serverCpuMs));
      return [
        side,
        spread(s.map((x) => x.coldMs)),
        `${median(s.map((x) => x.firstThreadMs)).toFixed(0)}–${ms(median(s.map((x) => x.threadsMs)))}`,
        spread(s.map((x) => x.ackedMs)),
        times(acked / rawAcked),
        spread(s.map((x) => x.completedMs)),
        `${ms(serverCpu)} (${(serverCpu / acked).toFixed(1)} cores)`,
        ms(median(s.map((x) => x.clientCpuMs))),
      ];
    });
    console.log(`\n${size} workspaces: medians of ${REPS} runs (min–max in ms)`);
    console.log('  cold start: processes spawned and initialized (raw) / start() resolved; the other columns from the first request, warm');
    console.log('  threads started: when the first and the last workspace had its new thread; CPU: used until acked');
    console.log(
      table(['side', 'cold start', 'threads started', 'acked', 'acked vs raw shared', 'completed', 'app-server CPU', 'client CPU'], timeRows),
    );
    console.log(`  cm-supervisor host: the event loop spent ${ms(med('cm-supervisor host', size, (s) => s.ledgerMs))} in DispatchLedger calls (their writes are asynchronous)`);

    const memoryRows = SIDES.map((side) => {
      const rss = med(side, size, (s) => s.settled.rssBytes);
      return [
        side,
        String(med(side, size, (s) => s.memory.processes)),
        mb(med(side, size, (s) => s.memory.rssBytes)),
        String(med(side, size, (s) => s.settled.processes)),
        mb(rss),
        mb(rss / size),
        mb(med(side, size, (s) => s.settled.anonBytes)),
      ];
    });
    console.log(`\n${size} workspaces: codex memory, medians (app-servers and their descendants)`);
    console.log('  settled: once the helpers codex starts per new thread (a login shell snapshotting its environment) exited');
    console.log(table(['side', 'processes at completion', 'RSS at completion', 'processes settled', 'RSS settled', 'RSS / workspace', 'anonymous settled'], memoryRows));
  }
  console.log(`\nOne idle app-server (initialized, no thread; median of ${idle.length}): ${idle[0]?.processes ?? 0} process, RSS ${mb(idleRss)}, anonymous ${mb(median(idle.map((m) => m.anonBytes)))}`);

  // ---- targets, at TARGET_SIZE ----
  const at = TARGET_SIZE;
  if (!SIZES.includes(at)) {
    console.log(`\nTargets at ${at} workspaces: not measured (BENCH_DISPATCH_SIZES has no ${at})`);
  } else {
    const ackedOf = (side: Side) => med(side, at, (s) => s.ackedMs);
    const rssOf = (side: Side) => med(side, at, (s) => s.settled.rssBytes);
    const ackedRatio = ackedOf('cm-supervisor host') / ackedOf('raw shared');
    // The same ratio run by run: each cm-supervisor run against the raw shared run of its repetition.
    const raws = of('raw shared', at);
    const pairs = of('cm-supervisor host', at).map((s, i) => s.ackedMs / raws[i]!.ackedMs);
    const old: Side = 'per-workspace (old model)';
    const oneAppServer = rssOf(old) / at;
    const memoryRatio = rssOf('cm-supervisor host') / oneAppServer;
    const pairRatio = median(pairs);
    console.log(`\nTargets at ${at} workspaces`);
    console.log(
      `  (a) cm-supervisor host acked ÷ raw shared acked, run by run: median ${times(pairRatio)} (${times(Math.min(...pairs))}–${times(Math.max(...pairs))};` +
        ` ratio of the medians ${ms(ackedOf('cm-supervisor host'))} ÷ ${ms(ackedOf('raw shared'))} = ${times(ackedRatio)})` +
        `   target ≤ ${ACKED_TARGET}×: ${verdict(pairRatio, ACKED_TARGET)}`,
    );
    console.log(
      `  (b) cm-supervisor host codex RSS (settled) ÷ one app-server that served a workspace's turn: ${mb(rssOf('cm-supervisor host'))} ÷ ${mb(oneAppServer)} = ${times(memoryRatio)}` +
        `   target ≤ ${MEMORY_TARGET}×: ${verdict(memoryRatio, MEMORY_TARGET)}`,
    );
    console.log('  for context:');
    console.log(
      `    cm-supervisor host RSS ÷ one idle app-server (initialized, no thread): ${times(rssOf('cm-supervisor host') / idleRss)}` +
        ` (at completion, the helpers codex starts included: ${times(med('cm-supervisor host', at, (s) => s.memory.rssBytes) / idleRss)})`,
    );
    console.log(
      `    per-workspace (old model) RSS ÷ cm-supervisor host RSS (settled): ${times(rssOf(old) / rssOf('cm-supervisor host'))}` +
        ` (anonymous memory only, the binary's shared text left out: ${times(med(old, at, (s) => s.settled.anonBytes) / med('cm-supervisor host', at, (s) => s.settled.anonBytes))})`,
    );
    const waited = (side: Side) => med(side, at, (s) => s.coldMs + s.ackedMs);
    console.log(
      `    cold start, where a user of the old model waits: per-workspace ${ms(med(old, at, (s) => s.coldMs))} vs cm-supervisor host ${ms(med('cm-supervisor host', at, (s) => s.coldMs))};` +
        ` cold start + acked (an in-process \`cm-supervisor dispatch\`): ${ms(waited(old))} vs ${ms(waited('cm-supervisor host'))}`,
    );
    const poolPairs = of('raw pool of 2', at).map((s, i) => s.ackedMs / raws[i]!.ackedMs);
    console.log(
      `    pool: raw pool of 2 acked ÷ raw shared acked: ${times(ackedOf('raw pool of 2') / ackedOf('raw shared'))}` +
        ` (run by run: median ${times(median(poolPairs))}, ${times(Math.min(...poolPairs))}–${times(Math.max(...poolPairs))};` +
        ' a pool of app-servers per host would pay off only clearly below 1×)',
    );
  }
  console.log(`\n(bench took ${((performance.now() - started) / 1000).toFixed(1)} s; load average now ${load()})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Detached children are not in the terminal's process group: end through 'exit', whose guard kills them.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  await main();
}
