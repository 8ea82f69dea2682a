/**
 * The render bench's supervisor: an in-memory SupervisorApi whose state changes only through the
 * real reducer, the start state (50 workspaces × 4 threads with running turns, approvals, 10,000
 * feed entries), the event storm's generator, and the loop that feeds a storm at a fixed rate.
 * Used in-process (the App mounted on this API) and as the daemon side of the attached storm
 * (a DaemonServer serving this API, see attachedStorm.ts).
 */
import { performance } from 'node:perf_hooks';
import type { StateChange, SupervisorApi, ThreadDiff } from '../src/core/api/supervisorApi.js';
import { threadDiff } from '../src/core/loop/threadActions.js';
import type { SupervisorEvent } from '../src/core/state/events.js';
import { initialState, snapshotOf, type FeedEntry, type SignalRecord, type SupervisorState } from '../src/core/state/model.js';
import { normalizeServerRequest } from '../src/core/state/normalize.js';
import { reduce } from '../src/core/state/reducer.js';
import { selectFeed, type FeedFilter } from '../src/core/state/selectors.js';

export const WORKSPACES = 50;
export const THREADS_PER_WORKSPACE = 4;
export const FEED_ENTRIES = 10_000;
const APPROVALS = 12;
export const STORM_SECONDS = Number(process.env.BENCH_STORM_SECONDS ?? 10);
export const STORM_RATE = Number(process.env.BENCH_STORM_RATE ?? 10_000);
const STORM_TICK_MS = 5;

// ---------------------------------------------------------------------------------------------
// An in-memory SupervisorApi backed by the real reducer (as the Supervisor's emit does it).

export class BenchApi implements SupervisorApi {
  state: SupervisorState;
  private readonly listeners = new Set<(change: StateChange) => void>();
  /** Called when a snapshot is about to reach the App's setState (see `snapshot`). */
  onSnapshot: ((state: SupervisorState) => void) | null = null;
  snapshots = 0;

  constructor(state: SupervisorState) {
    this.state = state;
  }

  emit(event: SupervisorEvent): void {
    const [state, effects] = reduce(this.state, event);
    this.state = state;
    const raised: SignalRecord[] = [];
    for (const e of effects) {
      const s = e.type === 'notify' ? state.signals[e.signalId] : undefined;
      if (s) raised.push(s);
    }
    // With the event, as the Supervisor's emit does: a DaemonServer streams it to its clients.
    const change: StateChange = { seq: state.seq, atMs: event.atMs, eventType: event.type, raised, event };
    for (const listener of this.listeners) listener(change);
  }

  snapshot(): Promise<SupervisorState> {
    this.snapshots++;
    const snap = snapshotOf(this.state);
    const promise = Promise.resolve(snap);
    // Registered before the caller's `.then`, so it runs just before useSupervisorState's setState.
    if (this.onSnapshot) {
      const hook = this.onSnapshot;
      void promise.then(() => hook(snap));
    }
    return promise;
  }

  feed(filter?: FeedFilter): Promise<FeedEntry[]> {
    return Promise.resolve(selectFeed(this.state, filter));
  }
  dispatch(): Promise<never> {
    return Promise.reject(new Error('not available in the bench'));
  }
  chatSend(): Promise<never> {
    return Promise.reject(new Error('not available in the bench'));
  }
  chatDecide(): Promise<never> {
    return Promise.reject(new Error('not available in the bench'));
  }
  ackSignal(signalId: string): Promise<void> {
    this.emit({ type: 'signal/acknowledged', atMs: Date.now(), signalId });
    return Promise.resolve();
  }
  answerApproval(key: string, decision: 'accept' | 'acceptForSession' | 'decline' | 'cancel'): Promise<void> {
    this.emit({ type: 'approval/answered', atMs: Date.now(), key, decision });
    return Promise.resolve();
  }
  answerQuestion(key: string, answers: Record<string, string[]>): Promise<void> {
    this.emit({ type: 'question/answered', atMs: Date.now(), key, answers });
    return Promise.resolve();
  }
  interruptTurn(): Promise<void> {
    return Promise.resolve();
  }
  reply(): Promise<never> {
    return Promise.reject(new Error('not available in the bench'));
  }
  retryTurn(): Promise<never> {
    return Promise.reject(new Error('not available in the bench'));
  }
  transcript(): Promise<never> {
    return Promise.reject(new Error('not available in the bench'));
  }
  async threadDiff(threadId: string): Promise<ThreadDiff> {
    return threadDiff(this.state, threadId);
  }
  archiveThread(threadId: string): Promise<void> {
    const thread = this.state.threads[threadId];
    if (thread) this.emit({ type: 'thread/archived', atMs: Date.now(), workspace: thread.workspace, threadId });
    return Promise.resolve();
  }
  subscribe(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Events, shaped like what normalize.ts produces (cf. test/support/events.ts)

export interface ThreadRef {
  workspace: string;
  threadId: string;
  turnId: string;
  turns: number;
  items: number;
}

const wsName = (i: number) => `ws${String(i + 1).padStart(2, '0')}`;
/** UUIDv7-like ids: they sort by creation, as the ops view expects. */
const threadIdOf = (w: number, t: number) => `0199a0b0-${String(w).padStart(4, '0')}-7${String(t).padStart(3, '0')}-8000-${String(w * 10 + t).padStart(12, '0')}`;

function commandItem(id: string, command: string, done: boolean, exitCode = 0) {
  return { type: 'commandExecution', id, command: `/bin/bash -lc '${command}'`, cwd: '/work', status: done ? 'completed' : 'inProgress', ...(done ? { exitCode } : {}) };
}

/** The start state: every workspace ready, four threads each with a running turn, approvals, 10,000 feed entries. */
export function buildState(baseMs: number): { state: SupervisorState; threads: ThreadRef[]; events: number } {
  let state = initialState({ feedLimit: FEED_ENTRIES });
  let events = 0;
  const apply = (e: SupervisorEvent) => {
    state = reduce(state, e)[0];
    events++;
  };
  const threads: ThreadRef[] = [];
  let at = baseMs;
  for (let w = 0; w < WORKSPACES; w++) {
    const workspace = wsName(w);
    apply({ type: 'host/added', atMs: at, name: 'local', kind: 'local', target: 'this machine' });
    apply({ type: 'workspace/added', atMs: at, name: workspace, host: 'local', path: `/work/${workspace}`, stallAfterMs: 3_600_000 });
    apply({ type: 'connection/ready', atMs: at, host: 'local', pid: 10_000, codexVersion: '0.171.0', transport: 'private' });
    for (let t = 0; t < THREADS_PER_WORKSPACE; t++) {
      const threadId = threadIdOf(w, t);
      const turnId = `turn-${w}-${t}-1`;
      apply({ type: 'thread/seen', atMs: at, workspace, thread: { id: threadId, title: '(new thread)', cwd: `/work/${workspace}`, status: { type: 'idle' } } });
      apply({ type: 'turn/started', atMs: at, workspace, threadId, turnId });
      apply({
        type: 'item/started',
        atMs: at,
        workspace,
        threadId,
        turnId,
        item: { type: 'userMessage', id: `user-${turnId}`, content: [{ type: 'text', text: `Task ${t + 1} in ${workspace}: make the test suite pass and tidy the lint warnings in module ${t}` }] },
      });
      threads.push({ workspace, threadId, turnId, turns: 1, items: 0 });
    }
  }
  for (let a = 0; a < APPROVALS; a++) {
    const th = threads[(a * 17) % threads.length]!;
    apply(
      normalizeServerRequest(th.workspace, {
        id: 100 + a,
        method: 'item/commandExecution/requestApproval',
        params: {
          kind: 'command',
          threadId: th.threadId,
          turnId: th.turnId,
          itemId: `call-${a}`,
          startedAtMs: at,
          environmentId: 'local',
          reason: 'needs the network to install dependencies',
          command: "/bin/bash -lc 'npm install --no-audit'",
          cwd: `/work/${th.workspace}`,
          availableDecisions: ['accept', 'acceptForSession', 'decline', 'cancel'],
        },
        receivedAtMs: at,
      }),
    );
  }
  // Completed commands across every thread until the feed holds 10,000 entries.
  let n = 0;
  while (state.activityFeed.length < FEED_ENTRIES) {
    const th = threads[n % threads.length]!;
    at += 7;
    const id = `cmd-${th.threadId.slice(-6)}-${++th.items}`;
    apply({ type: 'item/completed', atMs: at, workspace: th.workspace, threadId: th.threadId, turnId: th.turnId, item: commandItem(id, `npm test -- --shard ${n % 97}`, true, n % 13 === 0 ? 1 : 0) });
    n++;
  }
  return { state, threads, events };
}

/**
 * The storm's event stream: ~90% `item/progress` deltas, the rest command starts and ends,
 * agent messages, and turns completing and starting again, round-robin over the threads.
 */
export function stormEvents(threads: ThreadRef[]): (atMs: number) => SupervisorEvent[] {
  let i = 0;
  return (atMs) => {
    const th = threads[i % threads.length]!;
    const k = i++ % 100;
    const { workspace, threadId } = th;
    if (k < 90) return [{ type: 'item/progress', atMs, workspace, threadId, turnId: th.turnId, itemId: `cmd-${th.items}` }];
    if (k < 94) {
      const id = `cmd-${threadId.slice(-6)}-${++th.items}`;
      return [{ type: 'item/started', atMs, workspace, threadId, turnId: th.turnId, item: commandItem(id, `cargo build -p crate${th.items % 9}`, false) }];
    }
    if (k < 98) {
      const id = `cmd-${threadId.slice(-6)}-${th.items}`;
      return [{ type: 'item/completed', atMs, workspace, threadId, turnId: th.turnId, item: commandItem(id, `cargo build -p crate${th.items % 9}`, true) }];
    }
    if (k < 99) {
      return [{ type: 'item/completed', atMs, workspace, threadId, turnId: th.turnId, item: { type: 'agentMessage', id: `msg-${th.turnId}-${th.items}`, text: `Progress on ${workspace}: ${th.items} steps done, continuing.` } }];
    }
    // A turn ends and the next one starts on the same thread.
    const done = th.turnId;
    th.turnId = `turn-${threadId.slice(-4)}-${++th.turns}`;
    return [
      { type: 'turn/completed', atMs, workspace, threadId, turnId: done, status: 'completed', error: null },
      { type: 'turn/started', atMs, workspace, threadId, turnId: th.turnId },
      { type: 'item/started', atMs, workspace, threadId, turnId: th.turnId, item: { type: 'userMessage', id: `user-${th.turnId}`, content: [{ type: 'text', text: `Follow-up ${th.turns} for ${workspace}` }] } },
    ];
  };
}

// ---------------------------------------------------------------------------------------------
// The storm

export interface StormResult {
  /** CPU cores of this process over the storm's wall time (user + system). */
  cores: number;
  wallMs: number;
  events: number;
  userMs: number;
  systemMs: number;
}

/** Runs the storm at STORM_RATE for STORM_SECONDS (or `seconds`); `onEvent` sees each event after it was emitted. */
export async function storm(api: BenchApi, next: (atMs: number) => SupervisorEvent[], onEvent?: (event: SupervisorEvent) => void, seconds = STORM_SECONDS): Promise<StormResult> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(STORM_RATE * seconds, Math.floor(((now - t0) / 1000) * STORM_RATE));
      const atMs = Date.now();
      while (sent < due) {
        for (const e of next(atMs)) {
          api.emit(e);
          onEvent?.(e);
          sent++;
        }
      }
      if (now >= end) resolve();
      else setTimeout(tick, STORM_TICK_MS);
    };
    tick();
  });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { cores: (cpu.user + cpu.system) / 1000 / wallMs, wallMs, events: sent, userMs: cpu.user / 1000, systemMs: cpu.system / 1000 };
}
