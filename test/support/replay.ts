import { classifyLine } from '../../src/core/protocol/wire.js';
import type { Effect, SupervisorEvent } from '../../src/core/state/events.js';
import { initialState, type SupervisorState } from '../../src/core/state/model.js';
import { normalizeNotification, normalizeServerRequest } from '../../src/core/state/normalize.js';
import { reduce } from '../../src/core/state/reducer.js';

export interface ReplayResult {
  state: SupervisorState;
  effects: Effect[];
  events: SupervisorEvent[];
}

export const WS = 'ws1';
/** Time of the start-state events: before every `emittedAtMs` in the recorded transcripts. */
export const T0 = 1_795_696_000_000;
export const STALL_AFTER_MS = 60_000;

/** The host of the replayed workspaces unless a test names another. */
export const HOST = 'local';

/** `host/added` + `workspace/added` + `connection/ready`: a workspace whose host's app-server is up. */
export function readyEvents(workspace = WS, atMs = T0, stallAfterMs = STALL_AFTER_MS, host = HOST): SupervisorEvent[] {
  return [
    { type: 'host/added', atMs, name: host, kind: host === HOST ? 'local' : 'ssh', target: host === HOST ? 'this machine' : `ssh://${host}` },
    { type: 'workspace/added', atMs, name: workspace, host, path: `/work/${workspace}`, stallAfterMs },
    { type: 'connection/ready', atMs, host, pid: 4242, codexVersion: '0.171.0', transport: 'private' },
  ];
}

/** A fresh state with one ready workspace. */
export function readyState(options: { workspace?: string; feedLimit?: number; stallAfterMs?: number } = {}): SupervisorState {
  const workspace = options.workspace ?? WS;
  return fold(readyEvents(workspace, T0, options.stallAfterMs), initialState({ feedLimit: options.feedLimit })).state;
}

/** Reduces hand-written events, in order, onto `start` (a fresh state by default). */
export function fold(events: SupervisorEvent[], start: SupervisorState = initialState()): ReplayResult {
  let state = start;
  const effects: Effect[] = [];
  for (const event of events) {
    const [next, produced] = reduce(state, event);
    state = next;
    effects.push(...produced);
  }
  return { state, effects, events };
}

/**
 * What the loop does with an app-server's stdout, minus the IO: classify each line, normalize
 * notifications and server requests (responses answer our own requests and are ignored), reduce.
 * Server requests get `receivedAtMs` = the last seen `emittedAtMs` (1 ms later), as if read at once.
 */
export function replayTranscript(
  lines: readonly string[],
  workspace: string = WS,
  options: { startState?: SupervisorState } = {},
): ReplayResult {
  const state = options.startState ?? readyState({ workspace });
  const events: SupervisorEvent[] = [];
  let clock = T0;
  for (const line of lines) {
    const m = classifyLine(line);
    if (m.type === 'invalid') throw new Error(`transcript line does not classify: ${m.reason}: ${line.slice(0, 200)}`);
    if (m.type === 'notification') {
      clock = m.emittedAtMs ?? clock + 1;
      const event = normalizeNotification(HOST, workspace, { method: m.method, params: m.params, emittedAtMs: m.emittedAtMs, receivedAtMs: clock });
      if (event) events.push(event);
    } else if (m.type === 'serverRequest') {
      clock += 1;
      events.push(normalizeServerRequest(workspace, { id: m.id, method: m.method, params: m.params, receivedAtMs: clock }));
    }
  }
  const result = fold(events, state);
  return { ...result, events };
}

/** The recorded lines up to and including the first one that contains `marker`. */
export function linesThrough(lines: readonly string[], marker: string): string[] {
  const index = lines.findIndex((l) => l.includes(marker));
  if (index === -1) throw new Error(`no transcript line contains ${marker}`);
  return lines.slice(0, index + 1);
}
