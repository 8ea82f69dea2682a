import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds the benchmark's event streams from the recorded app-server transcripts
 * (test/fixtures/transcripts/*.jsonl, read directly: bench code does not import from test/).
 *
 * Each transcript becomes a template: its notification and server-request lines (responses are
 * skipped) cut around every id, so a copy is made by joining strings. Thread ids map to one of
 * N thread slots (copies go round-robin over the slots); turn, item and request ids get a
 * per-copy value. All rewriting happens here, before any timing.
 */

const DELTA_METHOD = 'item/agentMessage/delta';

type Part = string | { kind: 'thread'; index: number } | { kind: 'copy'; original: string } | { kind: 'request'; original: number };

interface LineTemplate {
  method: string;
  /** For the delta-heavy mix: the agent message this delta belongs to. */
  deltaItemId: string | null;
  parts: Part[];
}

export interface ScenarioTemplate {
  name: string;
  lines: LineTemplate[];
  threadCount: number;
}

export interface Corpus {
  scenarios: ScenarioTemplate[];
  /** Lines skipped as responses (`id` without `method`). */
  responsesSkipped: number;
}

export type Mix = 'natural' | 'delta-heavy';

export interface Stream {
  mix: Mix;
  threads: number;
  copies: number;
  lines: string[];
  /** Lines by method, to print the mix. */
  methods: Map<string, number>;
}

/** The repository's transcript folder, found from this file whether it runs from bench/ or dist/bench/. */
export function transcriptDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'fixtures', 'transcripts');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('bench: cannot find test/fixtures/transcripts above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

const THREAD_KEYS = new Set(['threadId', 'sessionId']);
const COPY_KEYS = new Set(['id', 'turnId', 'itemId', 'rootTurnId']);

function collectIds(value: unknown, parentKey: string, threads: Set<string>, others: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectIds(v, parentKey, threads, others);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string') {
      if (THREAD_KEYS.has(key) || (key === 'id' && parentKey === 'thread')) threads.add(v);
      else if (COPY_KEYS.has(key)) others.add(v);
    } else {
      collectIds(v, key, threads, others);
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function templateOf(name: string, rawLines: string[]): { template: ScenarioTemplate; responses: number } {
  const kept: { line: string; message: Record<string, unknown> }[] = [];
  let responses = 0;
  for (const line of rawLines) {
    const message = JSON.parse(line) as Record<string, unknown>;
    if ('id' in message && !('method' in message)) {
      responses++;
      continue;
    }
    kept.push({ line, message });
  }
  const threads = new Set<string>();
  const others = new Set<string>();
  for (const { message } of kept) collectIds(message.params, '', threads, others);
  for (const t of threads) others.delete(t);
  const threadIndex = new Map([...threads].map((t, i) => [t, i]));
  const ids = [...threads, ...others].sort((a, b) => b.length - a.length);
  const idPattern = ids.length > 0 ? new RegExp(ids.map((id) => `"${escapeRegExp(id)}"`).join('|'), 'g') : null;

  const lines = kept.map(({ line, message }): LineTemplate => {
    const method = message.method as string;
    const params = (message.params ?? {}) as Record<string, unknown>;
    // Numeric request ids: the server request's own `id` (first occurrence: `method` comes first,
    // `params` after) and `requestId` in serverRequest/resolved.
    const numeric: { at: number; length: number; original: number }[] = [];
    if (typeof message.id === 'number') {
      const m = /"id":(\d+)(?=[,}])/.exec(line);
      if (!m || Number(m[1]) !== message.id) throw new Error(`bench: cannot find the request id in ${line.slice(0, 120)}`);
      numeric.push({ at: m.index + 5, length: m[1]!.length, original: message.id });
    }
    if (typeof params.requestId === 'number') {
      for (const m of line.matchAll(/"requestId":(\d+)(?=[,}])/g)) numeric.push({ at: m.index + 12, length: m[1]!.length, original: Number(m[1]) });
    }
    const cuts: { at: number; length: number; part: Part }[] = numeric.map((n) => ({ at: n.at, length: n.length, part: { kind: 'request', original: n.original } }));
    if (idPattern) {
      for (const m of line.matchAll(idPattern)) {
        const id = m[0].slice(1, -1);
        const index = threadIndex.get(id);
        const part: Part = index !== undefined ? { kind: 'thread', index } : { kind: 'copy', original: id };
        cuts.push({ at: m.index + 1, length: id.length, part });
      }
    }
    cuts.sort((a, b) => a.at - b.at);
    const parts: Part[] = [];
    let at = 0;
    for (const cut of cuts) {
      parts.push(line.slice(at, cut.at), cut.part);
      at = cut.at + cut.length;
    }
    parts.push(line.slice(at));
    const deltaItemId = method === DELTA_METHOD && typeof params.itemId === 'string' ? params.itemId : null;
    return { method, deltaItemId, parts };
  });
  return { template: { name, lines, threadCount: threads.size }, responses };
}

export function loadCorpus(): Corpus {
  const dir = transcriptDir();
  const scenarios: ScenarioTemplate[] = [];
  let responsesSkipped = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    const raw = readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l.trim() !== '');
    const { template, responses } = templateOf(file.replace(/\.jsonl$/, ''), raw);
    scenarios.push(template);
    responsesSkipped += responses;
  }
  if (scenarios.length === 0) throw new Error(`bench: no transcripts in ${dir}`);
  return { scenarios, responsesSkipped };
}

/** Each agent message streams ~`perMessage` deltas: the recorded delta lines are repeated. */
export function deltaHeavy(template: ScenarioTemplate, perMessage: number): ScenarioTemplate {
  const byItem = new Map<string, number>();
  for (const l of template.lines) if (l.deltaItemId !== null) byItem.set(l.deltaItemId, (byItem.get(l.deltaItemId) ?? 0) + 1);
  const seen = new Map<string, number>();
  const lines: LineTemplate[] = [];
  for (const l of template.lines) {
    if (l.deltaItemId === null) {
      lines.push(l);
      continue;
    }
    const k = byItem.get(l.deltaItemId)!;
    const j = seen.get(l.deltaItemId) ?? 0;
    seen.set(l.deltaItemId, j + 1);
    const times = Math.floor(perMessage / k) + (j < perMessage % k ? 1 : 0);
    for (let i = 0; i < times; i++) lines.push(l);
  }
  return { ...template, lines };
}

/** A uuid-shaped thread id per slot, the same for every scenario, so there are exactly N threads. */
function threadId(slot: number, index: number): string {
  const base = `01a217dd-0000-7000-8000-${String(slot).padStart(12, '0')}`;
  return index === 0 ? base : `${base}.${index}`;
}

function copyId(original: string, copy: number): string {
  // uuid-shaped ids keep their length; short ones (`msg_rec3`) get a suffix.
  return original.length === 36 && original[23] === '-' ? `${original.slice(0, 24)}${copy.toString(16).padStart(12, '0')}` : `${original}_${copy}`;
}

function instantiate(line: LineTemplate, copy: number, slot: number, copyIds: Map<string, string>): string {
  const out: string[] = [];
  for (const part of line.parts) {
    if (typeof part === 'string') out.push(part);
    else if (part.kind === 'thread') out.push(threadId(slot, part.index));
    else if (part.kind === 'copy') {
      let id = copyIds.get(part.original);
      if (id === undefined) {
        id = copyId(part.original, copy);
        copyIds.set(part.original, id);
      }
      out.push(id);
    } else out.push(String(copy * 1000 + part.original));
  }
  // Array#join yields a flat string: the timed loops never pay for flattening a concatenation.
  return out.join('');
}

/**
 * At least `minLines` lines: copies of the scenarios (in turn), `threads` copies at a time running
 * concurrently on distinct thread slots, their lines interleaved as concurrent turns would be.
 */
export function buildStream(corpus: Corpus, mix: Mix, threads: number, minLines: number): Stream {
  const scenarios = mix === 'natural' ? corpus.scenarios : corpus.scenarios.map((s) => deltaHeavy(s, 20));
  const lines: string[] = [];
  const methods = new Map<string, number>();
  let copy = 0;
  while (lines.length < minLines) {
    const wave: { template: ScenarioTemplate; copy: number; slot: number; ids: Map<string, string> }[] = [];
    for (let slot = 0; slot < threads; slot++, copy++) {
      wave.push({ template: scenarios[copy % scenarios.length]!, copy, slot, ids: new Map() });
    }
    const longest = Math.max(...wave.map((w) => w.template.lines.length));
    for (let i = 0; i < longest; i++) {
      for (const w of wave) {
        const line = w.template.lines[i];
        if (!line) continue;
        lines.push(instantiate(line, w.copy, w.slot, w.ids));
        methods.set(line.method, (methods.get(line.method) ?? 0) + 1);
      }
    }
  }
  return { mix, threads, copies: copy, lines, methods };
}

/** Checks (untimed) that rewritten lines are still JSON notifications or server requests. */
export function checkStream(stream: Stream, sample: number): void {
  for (const line of stream.lines.slice(0, sample)) {
    const m = JSON.parse(line) as { method?: unknown };
    if (typeof m.method !== 'string') throw new Error(`bench: rewritten line has no method: ${line.slice(0, 120)}`);
  }
}
