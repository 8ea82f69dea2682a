/**
 * The v2 plan scheduler's overhead: a 32-action plan in 4 levels of 8 (each action of a level
 * comes `after` every action of the level before), concurrency 8, every turn a slow mock reply
 * (BENCH_PLAN_TURN_MS, default 2000) so that turn time dominates. The critical path is, per
 * level, the longest action (its attempt's start, i.e. its thread and turn/start, to its turn's
 * end); the overhead is the run's wall time (dispatch → run ended) over the sum of those, which
 * is what the scheduler adds by noticing ends and starting the next level.
 *
 * Target: overhead ≤ 5 %. The real bundled `codex app-server`, offline, against the mock model;
 * the loop is the one `cm-supervisor dispatch` runs (a Supervisor with a ledger).
 *
 *   npm run build && node dist/bench/planBench.js
 *
 * Environment: BENCH_PLAN_REPS (default 3), BENCH_PLAN_TURN_MS (default 2000).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBundledCodexBinary } from '../src/core/codexBinary.js';
import { DispatchLedger } from '../src/core/dispatch/ledger.js';
import { Supervisor } from '../src/core/loop/supervisor.js';
import { createOfflineCodexHome } from '../src/core/mockModel/codexHome.js';
import { startMockResponsesServer } from '../src/core/mockModel/mockResponsesServer.js';

const TARGET = 0.05;
const LEVELS = 4;
const WIDTH = 8;
const REPS = Math.max(1, Number(process.env.BENCH_PLAN_REPS ?? 3));
const TURN_MS = Math.max(200, Number(process.env.BENCH_PLAN_TURN_MS ?? 2000));

interface Sample {
  wallMs: number;
  criticalMs: number;
  overhead: number;
}

async function once(codexBin: string, env: Record<string, string>, scratch: string, rep: number): Promise<Sample> {
  const dir = await mkdtemp(join(scratch, 'ws-'));
  const actions = Array.from({ length: LEVELS * WIDTH }, (_, i) => {
    const level = Math.floor(i / WIDTH);
    const after = level === 0 ? undefined : Array.from({ length: WIDTH }, (_, j) => `l${level - 1}-${j}`);
    return { id: `l${level}-${i % WIDTH}`, workspace: 'ws', prompt: `[slow ${TURN_MS}ms] bench ${rep} ${i}`, thread: 'new', ...(after ? { after } : {}) };
  });
  const plan = { version: 2, id: `bench-plan-${rep}`, concurrency: WIDTH, actions };
  const supervisor = new Supervisor({ workspaces: [{ name: 'ws', path: dir }], codexBin, env, listKnownThreads: false, ledger: new DispatchLedger(join(scratch, `ledger-${rep}.json`)) });
  try {
    await supervisor.start();
    const t0 = Date.now();
    const { planId } = await supervisor.dispatch(plan);
    const state = await supervisor.waitUntil((s) => s.planRuns[planId]?.endedAtMs != null, 300_000);
    const run = state.planRuns[planId]!;
    const wallMs = run.endedAtMs! - t0;
    const bad = run.actions.filter((a) => a.status !== 'completed');
    if (bad.length > 0) throw new Error(`actions did not complete: ${bad.map((a) => `${a.id} ${a.status} ${a.error ?? ''}`).join('; ')}`);
    let criticalMs = 0;
    for (let level = 0; level < LEVELS; level++) {
      const spans = run.actions.filter((a) => a.id.startsWith(`l${level}-`)).map((a) => a.attempts[0]!.endedAtMs! - a.attempts[0]!.startedAtMs);
      criticalMs += Math.max(...spans);
    }
    return { wallMs, criticalMs, overhead: (wallMs - criticalMs) / criticalMs };
  } finally {
    await supervisor.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const codexBin = requireBundledCodexBinary();
  const mock = await startMockResponsesServer();
  const home = await createOfflineCodexHome({ baseUrl: mock.baseUrl });
  const scratch = await mkdtemp(join(tmpdir(), 'cm-plan-bench-'));
  try {
    console.log(`plan scheduler: ${LEVELS * WIDTH} actions, ${LEVELS} levels of ${WIDTH}, concurrency ${WIDTH}, turns of ${TURN_MS} ms (load ${loadavg()[0]!.toFixed(2)})`);
    const samples: Sample[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const s = await once(codexBin, home.env, scratch, rep);
      samples.push(s);
      console.log(`  run ${rep + 1}: wall ${s.wallMs} ms, critical path ${s.criticalMs} ms (of which the model's replies ${LEVELS * TURN_MS} ms; the rest is Codex's thread/start and turn), overhead ${(s.overhead * 100).toFixed(2)} %`);
    }
    const median = samples.map((s) => s.overhead).sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
    const ok = median <= TARGET;
    console.log(`scheduler overhead (median): ${(median * 100).toFixed(2)} % — target ≤ ${TARGET * 100} %: ${ok ? 'met' : 'NOT met'}`);
    if (!ok) process.exitCode = 1;
  } finally {
    await mock.close();
    await home.cleanup();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
