import { LineDecoder } from '../src/core/protocol/lineDecoder.js';
import { classifyLine } from '../src/core/protocol/wire.js';
import type { SupervisorEvent } from '../src/core/state/events.js';
import { initialState, type FeedEntry, type SupervisorState } from '../src/core/state/model.js';
import { normalizeNotification, normalizeServerRequest } from '../src/core/state/normalize.js';
import { reduce } from '../src/core/state/reducer.js';

/** The stages the supervisor runs on every stdout line: what one event costs. */

export const WORKSPACE = 'bench';
export const HOST = 'local';
const START_MS = 1_795_696_738_000;

/** Keeps results observable so no stage can be optimized away. */
export const sink = { normalized: 0 };

export interface RunResult {
  events: number;
  /** Lines that classifyLine rejected or that were responses (should be 0). */
  skipped: number;
  state: SupervisorState | null;
}

/** A state with one ready workspace, as the loop has it once its app-server is up. */
export function benchState(options: { feedLimit?: number; prefillFeed?: number } = {}): SupervisorState {
  let state = initialState(options.feedLimit === undefined ? {} : { feedLimit: options.feedLimit });
  state = reduce(state, { type: 'host/added', atMs: START_MS, name: HOST, kind: 'local', target: 'this machine' })[0];
  state = reduce(state, { type: 'workspace/added', atMs: START_MS, name: WORKSPACE, host: HOST, path: '/tmp/bench', stallAfterMs: 120_000 })[0];
  state = reduce(state, { type: 'connection/ready', atMs: START_MS, host: HOST, pid: 1, codexVersion: '0.171.0', transport: 'private' })[0];
  const prefill = options.prefillFeed ?? 0;
  for (let i = 0; i < prefill; i++) {
    const entry: FeedEntry = {
      seq: state.nextFeedSeq++,
      atMs: START_MS,
      workspace: WORKSPACE,
      threadId: null,
      kind: 'message',
      text: `prefilled feed entry ${i}`,
      needsInput: false,
      requestKey: null,
    };
    state.activityFeed.push(entry);
  }
  return state;
}

/** Baseline: a bare JSON.parse of every line. */
export function runBareParse(lines: readonly string[], count: number): RunResult {
  let methods = 0;
  for (let i = 0; i < count; i++) {
    const message = JSON.parse(lines[i]!) as { method?: unknown };
    if (message.method !== undefined) methods++;
  }
  return { events: count, skipped: count - methods, state: null };
}

/** Stage 1 only: classifyLine (JSON.parse + envelope validation). */
export function runClassify(lines: readonly string[], count: number): RunResult {
  let skipped = 0;
  for (let i = 0; i < count; i++) {
    const type = classifyLine(lines[i]!).type;
    if (type !== 'notification' && type !== 'serverRequest') skipped++;
  }
  return { events: count, skipped, state: null };
}

/** Stages 1+2: classifyLine → normalize (no reduce). */
export function runClassifyNormalize(lines: readonly string[], count: number): RunResult {
  let skipped = 0;
  let now = START_MS;
  for (let i = 0; i < count; i++) {
    const event = toEvent(lines[i]!, now++);
    if (event === undefined) skipped++;
    else if (event !== null) sink.normalized++;
  }
  return { events: count, skipped, state: null };
}

/** The whole pipeline on one state: classifyLine → normalize → reduce. Effects are ignored. */
export function runPipeline(lines: readonly string[], count: number, state: SupervisorState): RunResult {
  let skipped = 0;
  let now = START_MS;
  for (let i = 0; i < count; i++) {
    const event = toEvent(lines[i]!, now++);
    if (event === undefined) skipped++;
    else if (event !== null) state = reduce(state, event)[0];
  }
  return { events: count, skipped, state };
}

/** The whole pipeline fed as a byte stream through LineDecoder in `chunkSize` chunks. */
export function runDecoderPipeline(bytes: Buffer, chunkSize: number, state: SupervisorState): RunResult {
  const decoder = new LineDecoder();
  let skipped = 0;
  let events = 0;
  let now = START_MS;
  for (let at = 0; at < bytes.length; at += chunkSize) {
    const { lines } = decoder.push(bytes.subarray(at, at + chunkSize));
    for (const line of lines) {
      events++;
      const event = toEvent(line, now++);
      if (event === undefined) skipped++;
      else if (event !== null) state = reduce(state, event)[0];
    }
  }
  if (decoder.flush() !== null) skipped++;
  return { events, skipped, state };
}

/** `undefined`: not an event (bad line or response); `null`: normalized to nothing. */
function toEvent(line: string, receivedAtMs: number): SupervisorEvent | null | undefined {
  const m = classifyLine(line);
  if (m.type === 'notification') {
    return normalizeNotification(HOST, WORKSPACE, { method: m.method, params: m.params, emittedAtMs: m.emittedAtMs, receivedAtMs });
  }
  if (m.type === 'serverRequest') {
    return normalizeServerRequest(WORKSPACE, { id: m.id, method: m.method, params: m.params, receivedAtMs });
  }
  return undefined;
}

/** The lines as one newline-delimited byte stream (built once, before timing). */
export function toBytes(lines: readonly string[], count: number): Buffer {
  let size = 0;
  for (let i = 0; i < count; i++) size += Buffer.byteLength(lines[i]!, 'utf8') + 1;
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < count; i++) {
    at += bytes.write(lines[i]!, at, 'utf8');
    bytes[at++] = 10;
  }
  return bytes;
}

export interface MethodCost {
  events: number;
  /** Summed seconds per stage (timer overhead not yet subtracted). */
  classify: number;
  normalize: number;
  reduce: number;
}

/**
 * The full pipeline with each stage of each event timed, summed by method: where the time goes.
 * Costs ~4 timer reads per event; the caller subtracts their measured overhead.
 */
export function runPerMethod(lines: readonly string[], count: number, state: SupervisorState): Map<string, MethodCost> {
  const costs = new Map<string, MethodCost>();
  let now = START_MS;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const m = classifyLine(lines[i]!);
    const t1 = performance.now();
    if (m.type !== 'notification' && m.type !== 'serverRequest') continue;
    const event =
      m.type === 'notification'
        ? normalizeNotification(HOST, WORKSPACE, { method: m.method, params: m.params, emittedAtMs: m.emittedAtMs, receivedAtMs: now++ })
        : normalizeServerRequest(WORKSPACE, { id: m.id, method: m.method, params: m.params, receivedAtMs: now++ });
    const t2 = performance.now();
    if (event !== null) state = reduce(state, event)[0];
    const t3 = performance.now();
    let c = costs.get(m.method);
    if (c === undefined) costs.set(m.method, (c = { events: 0, classify: 0, normalize: 0, reduce: 0 }));
    c.events++;
    c.classify += t1 - t0;
    c.normalize += t2 - t1;
    c.reduce += t3 - t2;
  }
  for (const c of costs.values()) {
    c.classify /= 1000;
    c.normalize /= 1000;
    c.reduce /= 1000;
  }
  return costs;
}

/** Seconds one `performance.now()` read costs (to subtract from per-stage timings). */
export function timerOverhead(): number {
  const n = 1_000_000;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    sum += performance.now() - a;
  }
  return sum / n / 1000;
}
