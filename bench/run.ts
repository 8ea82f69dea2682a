/**
 * `npm run bench`: replays the recorded app-server transcripts, multiplied to ≥ 1 million events,
 * through parse → normalize → reduce, and compares events/s with a bare JSON.parse of the same
 * lines in the same run. Target: the full pipeline at ≥ 0.4 of bare parse (the reducer keeps no
 * caches between events, so that two can run in one process; the pipeline is still far beyond
 * any real event rate), with a cost per event
 * that does not grow with the number of threads or the size of the activity feed. The 200-thread
 * stream is also fed as bytes through LineDecoder, as the connection reads stdout: that ratio,
 * framing included, is printed beside the target, which is about parse → normalize → reduce.
 *
 * Environment: BENCH_EVENTS (default 1000000) lines per stream, BENCH_REPS (default 5),
 * BENCH_NODE_FLAGS=default to measure with Node's default V8 flags instead of the daemon's.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildStream, checkStream, deltaHeavy, loadCorpus, type Corpus, type Mix, type Stream } from './corpus.js';
import {
  benchState,
  runBareParse,
  runClassify,
  runClassifyNormalize,
  runDecoderPipeline,
  runPerMethod,
  runPipeline,
  timerOverhead,
  toBytes,
  type MethodCost,
  type RunResult,
} from './pipeline.js';
import { DAEMON_NODE_FLAGS } from '../src/core/daemon/nodeFlags.js';
import type { SupervisorState } from '../src/core/state/model.js';

const MIN_EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 5));
/** The short slice measurements are cheap: more runs steady their medians on a busy machine. */
const SLICE_REPS = Math.max(REPS, 5);
const TARGET = 0.4;
const MANY_THREADS = 200;
const CHUNK = 64 * 1024;
/** Slices for the secondary measurements: they add ~30 s on top of the three 1M-line streams. */
const STAGE_EVENTS = Math.min(MIN_EVENTS, 100_000);
const FEED_EVENTS = Math.min(MIN_EVENTS, 100_000);
const WARMUP_EVENTS = 50_000;

const gc: (() => void) | null = (() => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
})();

interface Row {
  variant: string;
  events: number;
  seconds: number;
  /** events/s ÷ bare JSON.parse events/s on the same lines; null: not a parse comparison. */
  ratio: number | null;
  /** parse → normalize → reduce against a bare parse of the same lines: what the target is about. */
  target: boolean;
}

/** What is kept of a run's final state (the state itself is dropped so it cannot weigh on later runs). */
interface StateSummary {
  threads: number;
  signals: number;
  feed: number;
  feedLimit: number;
  pendingApprovals: number;
  protocolErrors: number;
  seq: number;
}

interface Timing {
  /** The median run. */
  seconds: number;
  /** Every run's seconds, in the order they ran. */
  runs: number[];
  events: number;
  skipped: number;
  summary: StateSummary | null;
}

const rows: Row[] = [];
const report: string[] = [];
const started = process.hrtime.bigint();

function since(from: bigint): number {
  return Number(process.hrtime.bigint() - from) / 1e9;
}

function log(text = ''): void {
  process.stdout.write(`${text}\n`);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * Runs each function `reps` times, interleaved, with a full GC before each run, and keeps each
 * one's runs in order and their median: a baseline and the pipeline compared with it see the
 * same machine (see pairedRatio).
 */
function measure(reps: number, ...fns: (() => RunResult)[]): Timing[] {
  const times: number[][] = fns.map(() => []);
  const results: Omit<Timing, 'seconds' | 'runs'>[] = [];
  for (let rep = 0; rep < reps; rep++) {
    fns.forEach((fn, i) => {
      gc?.();
      const t0 = process.hrtime.bigint();
      const result = fn();
      times[i]!.push(since(t0));
      results[i] = { events: result.events, skipped: result.skipped, summary: result.state && summarize(result.state) };
    });
  }
  return times.map((t, i) => ({ seconds: median(t), runs: t, ...results[i]! }));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * `base`'s speed ÷ `of`'s: the median of the ratios of runs made one right after the other.
 * The machine's speed drifts from second to second (other guests on the host); each pair saw
 * nearly the same machine, where the medians of the two series may come from different moments.
 */
function pairedRatio(base: Timing, of: Timing): number {
  return median(base.runs.map((t, i) => t / of.runs[i]!));
}

function summarize(s: SupervisorState): StateSummary {
  return {
    threads: Object.keys(s.threads).length,
    signals: Object.keys(s.signals).length,
    feed: s.activityFeed.length,
    feedLimit: s.feedLimit,
    pendingApprovals: Object.keys(s.pendingApprovals).length,
    protocolErrors: s.protocolErrors,
    seq: s.seq,
  };
}

function check(label: string, result: Omit<Timing, 'seconds' | 'runs'>, expectedEvents: number): void {
  if (result.skipped !== 0) throw new Error(`bench: ${label}: ${result.skipped} lines were rejected or were responses`);
  if (result.events !== expectedEvents) throw new Error(`bench: ${label}: saw ${result.events} events, expected ${expectedEvents}`);
}

function describeMix(methods: Map<string, number>): string {
  const total = [...methods.values()].reduce((a, b) => a + b, 0);
  return [...methods.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([m, n]) => `${m} ${((100 * n) / total).toFixed(1)}%`)
    .join(', ');
}

function build(corpus: Corpus, mix: Mix, threads: number): Stream {
  const t0 = process.hrtime.bigint();
  const stream = buildStream(corpus, mix, threads, MIN_EVENTS);
  checkStream(stream, 2_000);
  log(`${mix} mix @ ${threads} thread(s): ${fmt(stream.lines.length)} lines from ${fmt(stream.copies)} transcript copies, rewritten in ${since(t0).toFixed(1)} s (untimed)`);
  return stream;
}

function warmUp(stream: Stream): void {
  const n = Math.min(stream.lines.length, WARMUP_EVENTS);
  runBareParse(stream.lines, n);
  runClassify(stream.lines, n);
  runClassifyNormalize(stream.lines, n);
  runPipeline(stream.lines, n, benchState());
}

/**
 * Bare JSON.parse and the full pipeline over each whole stream, all interleaved, so that streams
 * compared with each other (1 vs 200 threads) are measured under the same machine conditions.
 * A stream given with `decoder` is also fed as bytes through LineDecoder in 64 KiB chunks, the
 * way the connection reads stdout, measured against the same bare parse.
 */
function headline(streams: { stream: Stream; label: string; decoder?: boolean }[]): void {
  const fnsByStream = streams.map(({ stream, decoder }) => {
    warmUp(stream);
    const n = stream.lines.length;
    const bytes = decoder === true ? toBytes(stream.lines, n) : null;
    if (bytes !== null) runDecoderPipeline(bytes.subarray(0, Math.min(bytes.length, 4 * 1024 * 1024)), CHUNK, benchState());
    const fns = [() => runBareParse(stream.lines, n), () => runPipeline(stream.lines, n, benchState())];
    if (bytes !== null) fns.push(() => runDecoderPipeline(bytes, CHUNK, benchState()));
    return fns;
  });
  const timings = measure(REPS, ...fnsByStream.flat());
  let at = 0;
  streams.forEach(({ stream, label }, i) => {
    const n = stream.lines.length;
    const [bare, full, dec] = timings.slice(at, (at += fnsByStream[i]!.length)) as [Timing, Timing, Timing | undefined];
    check(label, full, n);
    rows.push({ variant: `bare JSON.parse — ${label}`, events: n, seconds: bare.seconds, ratio: 1, target: false });
    rows.push({ variant: `pipeline — ${label}`, events: n, seconds: full.seconds, ratio: pairedRatio(bare, full), target: true });
    if (dec !== undefined) {
      check(`LineDecoder — ${label}`, dec, n);
      rows.push({ variant: `LineDecoder (64 KiB chunks) + pipeline — ${label}`, events: n, seconds: dec.seconds, ratio: pairedRatio(bare, dec), target: false });
    }
    const s = full.summary!;
    if (s.threads !== Math.min(stream.threads, stream.copies)) throw new Error(`bench: ${label}: ${s.threads} threads in the state, expected ${stream.threads}`);
    log(
      `  after ${label}: ${s.threads} thread(s), ${fmt(s.signals)} signals, feed ${fmt(s.feed)} (limit ${fmt(s.feedLimit)}), ` +
        `${s.pendingApprovals} pending approvals, ${s.protocolErrors} protocol errors, seq ${fmt(s.seq)}`,
    );
  });
}

/** Cumulative runs (parse; classify; classify+normalize; all), differenced into stages. */
function stageBreakdown(stream: Stream, label: string): void {
  const n = Math.min(STAGE_EVENTS, stream.lines.length);
  const [parse, classify, normalize, full] = measure(
    SLICE_REPS,
    () => runBareParse(stream.lines, n),
    () => runClassify(stream.lines, n),
    () => runClassifyNormalize(stream.lines, n),
    () => runPipeline(stream.lines, n, benchState()),
  ).map((t) => t.seconds) as [number, number, number, number];
  const line = (name: string, s: number) =>
    `  ${name.padEnd(46)} ${((s * 1e9) / n).toFixed(0).padStart(6)} ns/event ${`${((100 * s) / full).toFixed(0)}%`.padStart(5)}`;
  report.push(
    `stage breakdown — ${label}, first ${fmt(n)} lines (cumulative runs, median of ${SLICE_REPS}, differenced):`,
    line('JSON.parse', parse),
    line('classifyLine envelope check, beyond the parse', classify - parse),
    line('normalizeNotification / normalizeServerRequest', normalize - classify),
    line('reduce', full - normalize),
    line('full pipeline', full),
    '',
  );
}

/** Per-method cost of each stage (timed per event; median of the passes per method and stage). */
function perMethod(stream: Stream, label: string): void {
  const n = Math.min(STAGE_EVENTS, stream.lines.length);
  const overhead = timerOverhead();
  const passes: Map<string, MethodCost>[] = [];
  runPerMethod(stream.lines, Math.min(n, WARMUP_EVENTS), benchState());
  for (let rep = 0; rep < SLICE_REPS; rep++) {
    gc?.();
    passes.push(runPerMethod(stream.lines, n, benchState()));
  }
  const methods = [...passes[0]!.keys()].map((method) => {
    const events = passes[0]!.get(method)!.events;
    const stage = (k: 'classify' | 'normalize' | 'reduce') =>
      Math.max(0, median(passes.map((p) => p.get(method)![k])) / events - overhead);
    return { method, events, classify: stage('classify'), normalize: stage('normalize'), reduce: stage('reduce') };
  });
  const total = methods.reduce((a, m) => a + m.events * (m.classify + m.normalize + m.reduce), 0);
  methods.sort((a, b) => b.events * (b.classify + b.normalize + b.reduce) - a.events * (a.classify + a.normalize + a.reduce));
  const ns = (s: number) => (s * 1e9).toFixed(0).padStart(9);
  report.push(
    `per method — ${label}, first ${fmt(n)} lines (ns per event of that method, timer overhead ${(overhead * 1e9).toFixed(0)} ns subtracted):`,
    `  ${'method'.padEnd(40)} ${'lines'.padStart(6)} ${'classify'.padStart(9)} ${'normalize'.padStart(9)} ${'reduce'.padStart(9)} ${'of time'.padStart(8)}`,
    ...methods.map(
      (m) =>
        `  ${m.method.padEnd(40)} ${`${((100 * m.events) / n).toFixed(1)}%`.padStart(6)} ${ns(m.classify)} ${ns(m.normalize)} ${ns(m.reduce)} ` +
        `${`${((100 * m.events * (m.classify + m.normalize + m.reduce)) / total).toFixed(1)}%`.padStart(8)}`,
    ),
    '',
  );
}

/** The same slice with an empty feed, a full 10,000-entry feed and a full 100,000-entry feed. */
function feedComparison(stream: Stream, label: string): void {
  const n = Math.min(FEED_EVENTS, stream.lines.length);
  const variants = [
    { name: 'feed empty (feedLimit 10,000)', feedLimit: 10_000, prefill: 0 },
    { name: 'feed full (feedLimit 10,000, 10,000 entries)', feedLimit: 10_000, prefill: 10_000 },
    { name: 'feed full (feedLimit 100,000, 100,000 entries)', feedLimit: 100_000, prefill: 100_000 },
  ];
  runPipeline(stream.lines, Math.min(n, 20_000), benchState({ feedLimit: 10_000, prefillFeed: 10_000 }));
  const timings = measure(SLICE_REPS, ...variants.map((v) => () => runPipeline(stream.lines, n, benchState({ feedLimit: v.feedLimit, prefillFeed: v.prefill }))));
  variants.forEach((v, i) => {
    check(v.name, timings[i]!, n);
    rows.push({ variant: `pipeline — ${label}, first ${fmt(n)} lines, ${v.name}`, events: n, seconds: timings[i]!.seconds, ratio: null, target: false });
  });
}

function rateOf(variant: string): number {
  const r = rows.find((x) => x.variant === variant);
  return r ? r.events / r.seconds : NaN;
}

function printTable(): void {
  const header = ['variant', 'events', 'seconds', 'events/s', 'ratio to bare parse'];
  const table = rows.map((r) => [r.variant, fmt(r.events), r.seconds.toFixed(3), fmt(r.events / r.seconds), r.ratio === null ? '—' : r.ratio.toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  log(line(header));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const t of table) log(line(t));
}

function main(): void {
  const corpus = loadCorpus();
  const perRound = corpus.scenarios.reduce((a, s) => a + s.lines.length, 0);
  const heavyRound = corpus.scenarios.map((s) => deltaHeavy(s, 20));
  const heavyMethods = new Map<string, number>();
  for (const s of heavyRound) for (const l of s.lines) heavyMethods.set(l.method, (heavyMethods.get(l.method) ?? 0) + 1);
  const naturalMethods = new Map<string, number>();
  for (const s of corpus.scenarios) for (const l of s.lines) naturalMethods.set(l.method, (naturalMethods.get(l.method) ?? 0) + 1);

  const flags = process.execArgv.filter((f) => DAEMON_NODE_FLAGS.includes(f));
  log(`V8 flags: ${flags.length > 0 ? `${flags.join(' ')} (the daemon's, src/core/daemon/nodeFlags.ts)` : "Node's defaults (BENCH_NODE_FLAGS=default)"}`);
  log(`cm-supervisor bench — node ${process.version}, ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)}; median of ${REPS} runs per measurement (${SLICE_REPS} for the short slices)${gc ? ', full GC before each' : ''}; a ratio is the median of the ratios of back-to-back runs; ≥ ${fmt(MIN_EVENTS)} lines per stream`);
  log(`transcripts: ${corpus.scenarios.map((s) => `${s.name} (${s.lines.length})`).join(', ')} — ${perRound} notification/server-request lines per round (${corpus.responsesSkipped} response lines skipped)`);
  log(`natural mix, as recorded (the transcripts have few streamed deltas): ${describeMix(naturalMethods)}`);
  log(`delta-heavy mix, each agent message streamed as 20 deltas, as real turns are (${heavyRound.reduce((a, s) => a + s.lines.length, 0)} lines per round): ${describeMix(heavyMethods)}`);
  log(`one workspace; thread/turn/item/request ids rewritten per copy, copies round-robin over the threads, ${MANY_THREADS} copies' lines interleaved at ${MANY_THREADS} threads`);
  log();

  const label = (mix: Mix, threads: number) => `${mix} mix, ${threads} thread${threads === 1 ? '' : 's'}`;

  // Natural mix at 1 and at 200 threads (measured together), then the secondary measurements.
  let one: Stream | null = build(corpus, 'natural', 1);
  const many = build(corpus, 'natural', MANY_THREADS);
  headline([
    { stream: one, label: label('natural', 1) },
    { stream: many, label: label('natural', MANY_THREADS), decoder: true },
  ]);
  one = null;
  stageBreakdown(many, label('natural', MANY_THREADS));
  perMethod(many, label('natural', MANY_THREADS));
  feedComparison(many, label('natural', MANY_THREADS));
  many.lines.length = 0;

  // Delta-heavy mix, the shape of real streaming turns, at 200 threads.
  const heavy = build(corpus, 'delta-heavy', MANY_THREADS);
  headline([{ stream: heavy, label: label('delta-heavy', MANY_THREADS) }]);
  stageBreakdown(heavy, label('delta-heavy', MANY_THREADS));
  heavy.lines.length = 0;

  log();
  printTable();
  log();
  for (const line of report) log(line);

  const worst = Math.min(...rows.filter((r) => r.target).map((r) => r.ratio!));
  const scaling = rateOf(`pipeline — natural mix, ${MANY_THREADS} threads`) / rateOf('pipeline — natural mix, 1 thread');
  log(`threads: events/s at ${MANY_THREADS} threads ÷ at 1 thread = ${scaling.toFixed(2)} (natural mix; ≈ 1 means the cost per event does not grow with threads)`);
  const feed = rows.filter((r) => r.variant.includes(', feed ')).map((r) => r.events / r.seconds);
  if (feed.length === 3) {
    log(`feed: events/s with a full feed ÷ with an empty one = ${(feed[1]! / feed[0]!).toFixed(2)} (10,000 entries), ${(feed[2]! / feed[0]!).toFixed(2)} (100,000 entries) (≈ 1 means it does not grow with the feed)`);
  }
  log(`target: parse → normalize → reduce ≥ ${TARGET} × bare JSON.parse of the same lines — lowest ratio ${worst.toFixed(2)}: ${worst >= TARGET ? 'MET' : 'NOT MET'}`);
  const framing = rows.find((r) => r.variant.startsWith('LineDecoder'));
  if (framing) log(`with the framing before it (stdout bytes → lines through LineDecoder; not part of the target): ${framing.ratio!.toFixed(2)}`);
  log(`bench time ${since(started).toFixed(0)} s; load average now ${loadavg()[0]!.toFixed(1)} (other processes on the machine skew the absolute numbers; ratios are measured interleaved)`);
}

/**
 * The loop runs in the daemon, so the pipeline is measured with the daemon's V8 flags: a run
 * without them starts this script again with them (and the bare parse runs with them too).
 */
function rerunWithDaemonFlags(): boolean {
  if (process.env.BENCH_NODE_FLAGS === 'default') return false;
  if (DAEMON_NODE_FLAGS.every((f) => process.execArgv.includes(f))) return false;
  const child = spawnSync(process.execPath, [...DAEMON_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exitCode = child.status ?? 1;
  return true;
}

if (!rerunWithDaemonFlags()) main();
