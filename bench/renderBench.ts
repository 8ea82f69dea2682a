/**
 * TUI render cost: the real `App` (src/tui/App.tsx) rendered by Ink into a fake TTY of 200×60 and of 80×24,
 * against an in-memory SupervisorApi whose state changes only through the real reducer
 * (renderFixture.ts; the terminal and the App's mounting: tuiHarness.ts).
 *
 * 1. Full render time with 50 workspaces × 4 threads (a running turn each, some approvals) and
 *    10,000 feed entries, in the operations view and in the feed view: from the state change
 *    reaching the App (the snapshot `useSupervisorState` sets) to the frame written to stdout,
 *    i.e. React render and commit, Yoga layout, Ink's output and its write. Median and p95 of
 *    BENCH_RENDER_SAMPLES (default 60) renders per view, at each size (at 80×24 thread rows take
 *    two lines and a strip shows the selected row). Target: under 16 ms at both.
 * 2. Event storm, in-process, at each size: 10,000 events/s for 10 s (mostly `item/progress`, plus item,
 *    message and turn events across the 200 threads) while the App is mounted. CPU of this
 *    process (user + system) over wall time, frames rendered (coalesced to ≤ 20/s by
 *    useSupervisorState), and whether the last frame shows the last events. Target: under one
 *    core. The same storm with no App mounted gives the share of the generator and the reducer.
 * 3. Event storm, attached (attachedStorm.ts): the same storm from a fresh start state, served
 *    by a real DaemonServer in this process on a Unix socket, with the App in a child process
 *    (attachedTui.ts) on a real DaemonClient, as `cm-supervisor attach` runs it. CPU of the
 *    child, its frames and last frame, and the bytes it read on the socket per event. Targets:
 *    the child's CPU ≤ 1.2 × the in-process storm's (both the process the user's TUI runs in),
 *    and ≤ 2 × the bytes of the events' own JSON. A second child without the App gives the
 *    share of the client's copy of the state. Load averages before and after are printed: on a
 *    busy machine the CPU ratios move.
 *
 *   npm run build && node dist/bench/renderBench.js
 *
 * The App runs as `cm-supervisor tui` runs it: Ink's maxFps 20, colours on, styled lines kept
 * across frames (src/tui/styledLineCache.ts), and React's production build unless NODE_ENV is
 * set, as src/cli/main.ts loads it (`NODE_ENV=development node dist/bench/renderBench.js`
 * measures the development build). Node flags given to this process (`--cpu-prof`) are given
 * to the children too. Environment:
 * BENCH_RENDER_SAMPLES, BENCH_STORM_SECONDS (default 10), BENCH_STORM_RATE (default 10000).
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { snapshotOf } from '../src/core/state/model.js';
import { feedRows, headerModel, needsYouQueue, operationsRows } from '../src/tui/viewModel.js';
import { ATTACHED_BYTES_TARGET, ATTACHED_CPU_TARGET, attachedReport, attachedStorm, type AttachedVerdicts } from './attachedStorm.js';
import { BenchApi, buildState, FEED_ENTRIES, storm, STORM_RATE, STORM_SECONDS, stormEvents, THREADS_PER_WORKSPACE, WORKSPACES } from './renderFixture.js';
import { FakeStdin, FakeStdout, loadTui, mountApp, OPERATIONS_VIEW, plain, sleep, until } from './tuiHarness.js';

const SAMPLES = Math.max(50, Number(process.env.BENCH_RENDER_SAMPLES ?? 60));
const WARMUP_RENDERS = 10;
/** View switches measured per view (each mounts the view's whole body). */
const SWITCHES = 20;
const RENDER_TARGET_MS = 16;
const CPU_TARGET_CORES = 1;
/** useSupervisorState coalesces to one snapshot per 50 ms; the App's clock adds one render a second. */
const MAX_FPS = 21;

// ---------------------------------------------------------------------------------------------
// Helpers

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}
const median = (v: number[]) => quantile(v, 0.5);
const p95 = (v: number[]) => quantile(v, 0.95);
const f1 = (n: number) => n.toFixed(1);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------

interface RenderSample {
  /** performance.now() when the span starts and when it ends. */
  fromMs: number;
  toMs: number;
  /** Snapshot handed to setState → frame written to stdout. */
  fullMs: number;
  /** CPU time of this process over the same span (wall time minus waiting for a busy machine). */
  cpuMs: number;
  /** Ink's own RenderMetrics.renderTime: the output string from the laid-out tree. */
  inkMs: number;
}

/**
 * Garbage collection pauses as V8 reports them (perf_hooks 'gc' entries), so a slow render can
 * be told apart from one that waited for the collector.
 */
class GcLog {
  private readonly pauses: { from: number; to: number }[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.pauses.push({ from: e.startTime, to: e.startTime + e.duration });
  });
  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }
  /** Milliseconds of collection inside [from, to]. Entries arrive asynchronously: ask after a tick. */
  within(from: number, to: number): number {
    let ms = 0;
    for (const p of this.pauses) ms += Math.max(0, Math.min(to, p.to) - Math.max(from, p.from));
    return ms;
  }
  stop(): void {
    this.observer.disconnect();
  }
}

/** A row's measured cells: samples, median, p95, max, CPU, Ink's output step, the rest, GC inside the spans. */
function spanCells(samples: RenderSample[], gc: GcLog): string[] {
  const full = samples.map((s) => s.fullMs);
  const gcMs = samples.map((s) => gc.within(s.fromMs, s.toMs));
  const both = (values: number[]) => `${f1(median(values))} / ${f1(p95(values))} ms`;
  return [
    String(samples.length),
    `${f1(median(full))} ms`,
    `${f1(p95(full))} ms`,
    `${f1(Math.max(...full))} ms`,
    both(samples.map((s) => s.cpuMs)),
    both(samples.map((s) => s.inkMs)),
    both(samples.map((s) => s.fullMs - s.inkMs)),
    `${both(gcMs)} (${gcMs.filter((ms) => ms > 0).length} with GC)`,
  ];
}

/** The terminal sizes measured: a large screen and the smallest common one (two-line thread rows there). */
const SIZES = [
  { width: 200, height: 60 },
  { width: 80, height: 24 },
] as const;
type Size = (typeof SIZES)[number];
const sizeName = (size: Size) => `${size.width}×${size.height}`;

interface SizeResult {
  renderRows: string[][];
  renderOk: boolean;
  stormRow: string[][];
  storm: { cores: number; verdicts: { cpu: boolean; frames: boolean; late: boolean } };
}

type Built = ReturnType<typeof buildState>;

/** Renders per view, view switches, then the in-process storm, in one App mounted at `size`. */
async function measureAt(tui: Awaited<ReturnType<typeof loadTui>>, built: Built, api: BenchApi, size: Size, gc: GcLog): Promise<SizeResult> {
  const stdout = new FakeStdout(size.width, size.height);
  const stdin = new FakeStdin();
  let inkRenders = 0;
  let lastInkMs = 0;
  let lastInkAt = 0;
  const onRender = (metrics: { renderTime: number }) => {
    inkRenders++;
    lastInkMs = metrics.renderTime;
    lastInkAt = performance.now();
  };
  const instance = mountApp(tui, { api, mode: 'bench', onQuit: () => {}, notify: () => {}, confirmQuitWhenRunning: true }, { stdout, stdin, onRender });
  const renderRows: string[][] = [];
  let renderOk = true;
  const label = sizeName(size);
  try {
    await until(() => plain(stdout.lastFrame).includes(OPERATIONS_VIEW), 10_000, 'the operations view');
    // The storm's last event lands on this thread: selected, its texts are whole in the strip under the table.
    const at = operationsRows(api.state, Date.now()).findIndex((row) => row.threadId === built.threads[0]!.threadId);
    stdin.type('j'.repeat(Math.max(0, at)));
    await sleep(120);

    // ---- 1. full render time, per view ----
    const views: { key: string; name: string; shows: string }[] = [
      { key: '1', name: 'operations', shows: OPERATIONS_VIEW },
      { key: '2', name: 'feed', shows: 'activity feed, newest first' },
    ];
    const streams = stormEvents(built.threads);
    for (const view of views) {
      stdin.type(view.key);
      await until(() => plain(stdout.lastFrame).includes(view.shows), 5_000, `the ${view.name} view`);
      await sleep(120);
      const samples: RenderSample[] = [];
      let deferred = 0;
      for (let i = 0; samples.length < SAMPLES && i < (SAMPLES + WARMUP_RENDERS) * 3; i++) {
        // One state change: a command finished somewhere (a new feed entry, a thread's activity).
        // t0: the snapshot is handed to the App's setState (useSupervisorState); t1: the frame
        // written. React schedules the render (a microtask for a legacy root); Ink's frame
        // throttle (maxFps 20) could hold the frame back, which the 60 ms pause below avoids.
        let t0 = 0;
        let cpu0 = process.cpuUsage();
        let inkBefore = 0;
        const measured = new Promise<RenderSample | null>((resolve) => {
          const timeout = setTimeout(() => resolve(null), 1_000);
          api.onSnapshot = () => {
            api.onSnapshot = null;
            inkBefore = inkRenders;
            cpu0 = process.cpuUsage();
            t0 = performance.now();
            // The App's one-second clock rendered just before: Ink may hold this frame back.
            const throttled = t0 - lastInkAt < 55;
            stdout.onFrame = () => {
              const fullMs = stdout.lastWriteAt - t0;
              const cpu = process.cpuUsage(cpu0);
              stdout.onFrame = null;
              clearTimeout(timeout);
              resolve(inkRenders > inkBefore && !throttled ? { fromMs: t0, toMs: stdout.lastWriteAt, fullMs, cpuMs: (cpu.user + cpu.system) / 1000, inkMs: lastInkMs } : null);
            };
          };
        });
        let events = streams(Date.now());
        while (events.every((e) => e.type === 'item/progress')) events = streams(Date.now());
        for (const e of events) api.emit(e);
        const sample = await measured;
        if (i >= WARMUP_RENDERS) {
          if (sample) samples.push(sample);
          else deferred++;
        }
        // Past Ink's 50 ms frame throttle, so the next change renders at once.
        await sleep(60);
      }
      const full = samples.map((s) => s.fullMs);
      const ok = samples.length >= 50 && p95(full) < RENDER_TARGET_MS;
      renderOk &&= ok;
      const onScreen = plain(stdout.lastFrame).replace(/\s+/g, '').length;
      renderRows.push([
        `${label} ${view.name}: state change`,
        ...spanCells(samples, gc),
        String(deferred),
        String(onScreen),
        `${ok ? 'PASS' : 'FAIL'} (p95 < ${RENDER_TARGET_MS} ms; median ${median(full) < RENDER_TARGET_MS ? 'under' : 'over'})`,
      ]);
    }

    // ---- 1b. switching views: the whole body mounts from scratch (a key press to the frame) ----
    const switches: Record<string, RenderSample[]> = { operations: [], feed: [] };
    let switchSkipped = 0;
    for (let i = 0; i < SWITCHES * 2 + 4; i++) {
      const view = views[i % 2]!;
      await sleep(70);
      const throttled = performance.now() - lastInkAt < 55;
      const inkBefore = inkRenders;
      const sample = await new Promise<RenderSample | null>((resolve) => {
        const timeout = setTimeout(() => resolve(null), 1_000);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        stdout.onFrame = () => {
          if (!plain(stdout.lastFrame).includes(view.shows)) return;
          const fullMs = stdout.lastWriteAt - t0;
          const cpu = process.cpuUsage(cpu0);
          stdout.onFrame = null;
          clearTimeout(timeout);
          resolve(inkRenders > inkBefore ? { fromMs: t0, toMs: stdout.lastWriteAt, fullMs, cpuMs: (cpu.user + cpu.system) / 1000, inkMs: lastInkMs } : null);
        };
        stdin.type(view.key);
      });
      if (i < 4) continue; // warm-up
      if (sample && !throttled) switches[view.name]!.push(sample);
      else switchSkipped++;
    }
    await sleep(10); // the last GC entries arrive
    for (const view of views) {
      const samples = switches[view.name]!;
      const full = samples.map((x) => x.fullMs);
      renderRows.push([
        `${label} ${view.name}: switch to (mount)`,
        ...spanCells(samples, gc),
        view === views[0] ? String(switchSkipped) : '',
        '',
        `(${p95(full) < RENDER_TARGET_MS ? 'under' : 'over'} ${RENDER_TARGET_MS} ms; not the target)`,
      ]);
    }

    // ---- 2. event storm on the operations view ----
    stdin.type('1');
    await until(() => plain(stdout.lastFrame).includes(OPERATIONS_VIEW), 5_000, 'the operations view');
    await sleep(200);
    const framesBefore = stdout.frames;
    const inkBefore = inkRenders;
    const snapshotsBefore = api.snapshots;
    const result = await storm(api, streams);
    // The last events of the storm, on the selected thread: its reply is in the strip.
    const marker = `storm-final-${Date.now().toString(36)}`;
    const first = built.threads[0]!;
    const lateAt = performance.now();
    api.emit({ type: 'item/completed', atMs: Date.now(), workspace: first.workspace, threadId: first.threadId, turnId: first.turnId, item: { type: 'agentMessage', id: `msg-${marker}`, text: `${marker} all done` } });
    const frames = stdout.frames - framesBefore;
    const inkFrames = inkRenders - inkBefore;
    const snapshots = api.snapshots - snapshotsBefore;
    let lateMs = NaN;
    try {
      await until(() => plain(stdout.lastFrame).includes(marker), 2_000, 'the last event on screen');
      lateMs = stdout.lastWriteAt - lateAt;
    } catch {
      // reported below
    }
    const fps = frames / (result.wallMs / 1000);
    const verdicts = { cpu: result.cores < CPU_TARGET_CORES, frames: frames > 0 && fps <= MAX_FPS, late: Number.isFinite(lateMs) };
    const stormRow = [
      [`${label}: events sent`, `${result.events} in ${f1(result.wallMs / 1000)} s (${Math.round(result.events / (result.wallMs / 1000))}/s)`, ''],
      [`${label}: CPU with the App mounted`, `${result.cores.toFixed(2)} cores (user ${Math.round(result.userMs)} ms, system ${Math.round(result.systemMs)} ms)`, `${verdicts.cpu ? 'PASS' : 'FAIL'} (< ${CPU_TARGET_CORES} core)`],
      [`${label}: frames written`, `${frames} (${f1(fps)}/s; Ink renders ${inkFrames}, snapshots ${snapshots})`, `${verdicts.frames ? 'PASS' : 'FAIL'} (> 0, ≤ ~20/s)`],
      [`${label}: last event on screen`, Number.isFinite(lateMs) ? `after ${Math.round(lateMs)} ms` : 'NOT SHOWN within 2 s', verdicts.late ? 'PASS' : 'FAIL'],
    ];
    return { renderRows, renderOk, stormRow, storm: { cores: result.cores, verdicts } };
  } finally {
    api.onSnapshot = null;
    instance.unmount();
  }
}

export async function main(): Promise<void> {
  const started = performance.now();
  const tui = await loadTui();
  console.log(`render bench: App at ${SIZES.map(sizeName).join(' and ')}, ${WORKSPACES} workspaces × ${THREADS_PER_WORKSPACE} threads, ${FEED_ENTRIES} feed entries; React ${tui.reactBuild} build; chalk level ${tui.chalkLevel}; ${tui.lineCache}`);

  const baseMs = Date.now() - 20 * 60_000;
  const t = performance.now();
  const built = buildState(baseMs);
  console.log(`  state built from ${built.events} events in ${f1(performance.now() - t)} ms: ${Object.keys(built.state.threads).length} threads, ${built.state.activityFeed.length} feed entries, ${Object.keys(built.state.pendingApprovals).length} approvals`);

  // Selector costs on this state, outside React (what every render recomputes).
  const selectorMs = (fn: () => unknown) => {
    for (let i = 0; i < 20; i++) fn();
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      const s = performance.now();
      fn();
      times.push(performance.now() - s);
    }
    return median(times);
  };
  const nowMs = Date.now();
  const filter = { needsInput: false, faults: false, text: '' };
  const selectorRows = [
    ['snapshotOf (per refresh)', f1(selectorMs(() => snapshotOf(built.state)) * 1000) + ' µs'],
    ['operationsRows', f1(selectorMs(() => operationsRows(built.state, nowMs)) * 1000) + ' µs'],
    ['feedRows (500)', f1(selectorMs(() => feedRows(built.state, filter, 500)) * 1000) + ' µs'],
    ['needsYouQueue', f1(selectorMs(() => needsYouQueue(built.state)) * 1000) + ' µs'],
    ['headerModel', f1(selectorMs(() => headerModel(built.state)) * 1000) + ' µs'],
  ];

  // One API for both sizes: the second size renders the state the first left (the same 200 threads, 10,000+ feed entries).
  const api = new BenchApi(built.state);
  const gc = new GcLog();
  const results: SizeResult[] = [];
  let stormRows: string[][] = [];
  let attachedRows: string[][] = [];
  let attachedVerdicts: AttachedVerdicts = { cpu: false, bytes: false, screen: false };
  const loadBefore = loadavg();
  let loadAfter: number[] = [];
  try {
    for (const size of SIZES) results.push(await measureAt(tui, built, api, size, gc));

    // The same storm without the App: what the generator and the reducer cost on their own.
    const streams = stormEvents(built.threads);
    const bare = new BenchApi(api.state);
    const baseline = await storm(bare, streams);
    stormRows = [
      ...results.flatMap((r) => r.stormRow),
      ['generator + reducer alone', `${baseline.cores.toFixed(2)} cores (same storm, no App)`, ''],
      ...results.map((r, i) => [`  so the UI at ${sizeName(SIZES[i]!)}`, `${(r.storm.cores - baseline.cores).toFixed(2)} cores`, '']),
      ['feed entries at the end', String(api.state.activityFeed.length), ''],
    ];

    // ---- 3. the same storm with the TUI attached to a daemon, in a child process (attachedStorm.ts), at 200×60 ----
    try {
      const app = await attachedStorm('app');
      // The child again without the App: what the client's copy of the state costs on its own.
      const bareClient = await attachedStorm('bare');
      const first = results[0]!.storm.cores;
      const report = attachedReport(app, bareClient, { cores: first, uiCores: first - baseline.cores, maxFps: MAX_FPS });
      attachedRows = report.rows;
      attachedVerdicts = report.verdicts;
    } catch (error) {
      attachedRows = [['attached storm', `FAILED: ${error instanceof Error ? error.message : String(error)}`, 'FAIL']];
    }
    loadAfter = loadavg();
  } finally {
    gc.stop();
  }

  const load = (l: number[]) => (l.length > 0 ? l.map((x) => x.toFixed(2)).join(' ') : '?');
  const loadLine = `load average (1, 5, 15 min) ${load(loadBefore)} before, ${load(loadAfter)} after, on ${availableParallelism()} CPUs`;
  console.log('\nSelectors on this state (median of 100 calls, outside React)');
  console.log(table(['selector', 'time'], selectorRows));
  console.log(`\nFull render: snapshot set in the App → frame written (median/p95 of ${SAMPLES} state changes after ${WARMUP_RENDERS} warm-up; view switches: key → frame, ${SWITCHES} each); ${loadLine}`);
  console.log('  CPU: this process over the same span, so time lost to other processes on a busy machine shows as wall minus CPU.');
  console.log('  Ink output step: Ink\'s RenderMetrics.renderTime (DOM → output grid → string), part of the total.');
  console.log('  Rest: the total minus the output step (React render and commit, Yoga layout, the write).');
  console.log('  GC in span: garbage collection pauses (perf_hooks) inside the span, part of the total.');
  console.log(table(['render', 'samples', 'median', 'p95', 'max', 'CPU median / p95', 'Ink output step median / p95', 'rest median / p95', 'GC in span median / p95', 'skipped (throttle)', 'chars on screen', 'target'], results.flatMap((r) => r.renderRows)));
  console.log(`\nEvent storm: ${STORM_RATE} events/s for ${STORM_SECONDS} s, operations view, first thread selected; ${loadLine}`);
  console.log('In-process: the App on the loop\'s state, one process');
  console.log(table(['measure', 'value', 'target'], stormRows));
  console.log('\nAttached (at 200×60): a DaemonServer in this process serves the same storm (from a fresh start state) on a Unix socket; the App');
  console.log('runs in a child process on a DaemonClient, as `cm-supervisor attach` runs it (attachedStorm.ts).');
  console.log('  CPU of the child: user + system over wall, from the storm\'s start until it had reduced the storm\'s last event.');
  console.log('  Target ratio: the attached TUI\'s process ÷ the in-process storm\'s process at 200×60 (App, generator and reducer): in both, the');
  console.log('  process the user\'s TUI runs in. The daemon side (generator, reduce, each event serialized, the events of a turn of its loop sent as one message) is not part of it.');
  console.log('  The client\'s copy: the same storm to a second child without the App (socket reads, JSON.parse and check of each batch, reduce).');
  console.log('  Socket bytes: read by the child over the storm (the server\'s lines), per event, against JSON.stringify(event) in UTF-8.');
  console.log('  Attaching: hello, the subscription\'s snapshot and the App\'s first snapshot read. Before the measured storm, a');
  console.log('  2 s storm warms the child up, as the render samples warmed up the in-process App.');
  console.log(table(['measure', 'value', 'target'], attachedRows));
  const renderVerdict = results.every((r) => r.renderOk);
  const cpu = results.every((r) => r.storm.verdicts.cpu);
  const screen = results.every((r) => r.storm.verdicts.frames && r.storm.verdicts.late);
  const all = renderVerdict && cpu && screen && attachedVerdicts.cpu && attachedVerdicts.bytes && attachedVerdicts.screen;
  console.log(
    `\nrender < ${RENDER_TARGET_MS} ms at ${SIZES.map(sizeName).join(' and ')}: ${renderVerdict ? 'PASS' : 'FAIL'} · storm CPU < ${CPU_TARGET_CORES} core: ${cpu ? 'PASS' : 'FAIL'} · screen updating: ${screen ? 'PASS' : 'FAIL'}` +
      ` · attached CPU ≤ ${ATTACHED_CPU_TARGET}× in-process: ${attachedVerdicts.cpu ? 'MET' : 'NOT MET'} · socket bytes ≤ ${ATTACHED_BYTES_TARGET}× the events' JSON: ${attachedVerdicts.bytes ? 'MET' : 'NOT MET'}` +
      ` · attached screen updating: ${attachedVerdicts.screen ? 'PASS' : 'FAIL'} · overall ${all ? 'PASS' : 'FAIL'}   (bench took ${f1((performance.now() - started) / 1000)} s)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
