import { beforeAll, describe, expect, it } from 'vitest';
import { classifyLine } from '../../src/core/protocol/wire.js';
import { normalizeNotification, normalizeServerRequest } from '../../src/core/state/normalize.js';
import { ASKING_REQUESTS, HANDLED_METHODS, IGNORED_METHODS, PROGRESS_METHODS, REFUSED_REQUESTS } from '../../src/core/state/protocolMethods.js';
import { reduce } from '../../src/core/state/reducer.js';
import { codexProtocolSamples, type CodexProtocolSamples } from '../support/codexSchemaSamples.js';
import { HOST, readyState, WS } from '../support/replay.js';

/**
 * Everything the pinned Codex's JSON Schema allows it to send, read as the loop reads it (wire
 * classifier, normalize, reduce). The TypeScript bindings are stricter than that schema in
 * places (fields they require are optional in it): the schema is what Codex may really send.
 */
let samples: CodexProtocolSamples;
beforeAll(async () => {
  samples = await codexProtocolSamples();
});

const sorted = (methods: Iterable<string>) => [...methods].sort();

/** The first problem of each method (its other samples mostly repeat it), by method. */
class Problems {
  readonly byMethod: Record<string, string> = {};
  add(method: string, label: string, problem: string): void {
    this.byMethod[method] ??= `${label}: ${problem}`;
  }
}

describe("the pinned Codex's server notifications", () => {
  it('are each classified on purpose: progress, handled, or ignored with a reason', () => {
    const tables = [...PROGRESS_METHODS, ...HANDLED_METHODS, ...Object.keys(IGNORED_METHODS)];
    // A method new in the schema shows up on the left, one the schema dropped on the right.
    expect(sorted(samples.notifications.map((m) => m.method)), 'the schema (-) against src/core/state/protocolMethods.ts (+)').toEqual(sorted(new Set(tables)));
    expect(tables.length, 'a method in two tables').toBe(new Set(tables).size);
  });

  it('are read without an exception, a protocol error or an unknown method, minimal and full', () => {
    const ignored = new Set(Object.keys(IGNORED_METHODS));
    const problems = new Problems();
    let read = 0;
    for (const { method, lines } of samples.notifications) {
      for (const { label, line } of lines) {
        read++;
        const message = classifyLine(line);
        if (message.type !== 'notification') {
          problems.add(method, label, `classified as ${message.type}`);
          continue;
        }
        const event = normalizeNotification(HOST, WS, { method: message.method, params: message.params, emittedAtMs: message.emittedAtMs, receivedAtMs: 1 });
        if (ignored.has(method)) {
          if (event !== null) problems.add(method, label, `ignored, yet normalized to ${event.type}`);
          continue;
        }
        if (event === null) problems.add(method, label, 'dropped');
        else if (event.type === 'protocol/error') problems.add(method, label, event.reason);
        else if (event.type === 'notification/unknown') problems.add(method, label, 'unknown');
        else {
          try {
            const [state] = reduce(readyState(), event);
            if (state.protocolErrors !== 0) problems.add(method, label, 'counted as a protocol error');
          } catch (error) {
            problems.add(method, label, `reduce threw ${String(error)}`);
          }
        }
      }
    }
    expect(problems.byMethod).toEqual({});
    // Minimal and full samples of 87 methods, with every option of their unions.
    expect(read).toBeGreaterThan(2 * samples.notifications.length);
  });
});

describe("the pinned Codex's server requests", () => {
  it('are each classified on purpose: asked of the person, or refused with a reason', () => {
    const tables = [...ASKING_REQUESTS, ...Object.keys(REFUSED_REQUESTS)];
    expect(sorted(samples.requests.map((m) => m.method)), 'the schema (-) against src/core/state/protocolMethods.ts (+)').toEqual(sorted(new Set(tables)));
    expect(tables.length, 'a method in two tables').toBe(new Set(tables).size);
  });

  it('are sampled with what only the bindings forbid: no reason, no turn, every elicitation mode', () => {
    const params = (method: string) => samples.requests.find((m) => m.method === method)!.lines.map(({ line }) => (JSON.parse(line) as { params: Record<string, unknown> }).params);
    expect(params('item/permissions/requestApproval').some((p) => !('reason' in p))).toBe(true);
    const elicitations = params('mcpServer/elicitation/request');
    expect(elicitations.some((p) => !('turnId' in p))).toBe(true);
    expect(new Set(elicitations.map((p) => p.mode))).toEqual(new Set(['form', 'openai/form', 'openaiForm', 'url']));
  });

  it('that ask the person wait for them in state, even without the fields only our bindings require', () => {
    const asking = new Set<string>(ASKING_REQUESTS);
    const problems = new Problems();
    for (const { method, lines } of samples.requests.filter((m) => asking.has(m.method))) {
      for (const { label, line } of lines) {
        const message = classifyLine(line);
        if (message.type !== 'serverRequest') {
          problems.add(method, label, `classified as ${message.type}`);
          continue;
        }
        const event = normalizeServerRequest(WS, { id: message.id, method, params: message.params, receivedAtMs: 1 });
        const [state, effects] = reduce(readyState(), event);
        const key = `${WS}#${String(message.id)}`;
        const pending = state.pendingApprovals[key] ?? state.openQuestions[key];
        if (!pending) problems.add(method, label, `became ${event.type}, not a pending request`);
        else if (!state.activityFeed.some((f) => f.requestKey === key && f.needsInput)) problems.add(method, label, 'not in the feed');
        else if (!effects.some((e) => e.type === 'notify')) problems.add(method, label, 'nobody was notified');
      }
    }
    expect(problems.byMethod).toEqual({});
  });

  it('that cm-supervisor cannot answer are answered at once with a failure and say why in the feed', () => {
    const problems = new Problems();
    for (const { method, lines } of samples.requests.filter((m) => Object.hasOwn(REFUSED_REQUESTS, m.method))) {
      for (const { label, line } of lines) {
        const message = classifyLine(line);
        if (message.type !== 'serverRequest') {
          problems.add(method, label, `classified as ${message.type}`);
          continue;
        }
        const [state, effects] = reduce(readyState(), normalizeServerRequest(WS, { id: message.id, method, params: message.params, receivedAtMs: 1 }));
        const answered = effects.some((e) => (e.type === 'answerServerRequest' || e.type === 'rejectServerRequest') && e.requestId === message.id);
        if (!answered) problems.add(method, label, 'left unanswered');
        const why = REFUSED_REQUESTS[method as keyof typeof REFUSED_REQUESTS];
        if (!state.activityFeed.some((f) => f.kind === 'warning' && f.text === `answered ${method} with a failure: ${why}`)) problems.add(method, label, 'no warning in the feed');
      }
    }
    expect(problems.byMethod).toEqual({});
  });
});
