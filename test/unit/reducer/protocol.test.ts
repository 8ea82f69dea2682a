import { describe, expect, it } from 'vitest';
import { classifyLine } from '../../../src/core/protocol/wire.js';
import type { SupervisorEvent } from '../../../src/core/state/events.js';
import { normalizeNotification } from '../../../src/core/state/normalize.js';
import { reduce } from '../../../src/core/state/reducer.js';
import { loadTranscripts, seededRandom } from '../../support/transcripts.js';
import { fold, HOST, readyState, WS } from '../../support/replay.js';
import { WARNINGS_KEPT } from '../../../src/core/state/warnings.js';

const at = 1_795_697_000_000;
const note = (method: string, params: unknown, emittedAtMs: number | null = at) =>
  normalizeNotification(HOST, WS, { method, params, emittedAtMs: emittedAtMs ?? undefined, receivedAtMs: at + 999 });

describe('unknown notifications', () => {
  it('are counted by method and change nothing else', () => {
    const state = readyState();
    const feedBefore = state.activityFeed.length;
    const events = [note('future/thing', { threadId: 't' }), note('future/thing', null), note('future/other', { threadId: 't' })];
    expect(events.every((e) => e?.type === 'notification/unknown')).toBe(true);
    const { effects } = fold(events as SupervisorEvent[], state);
    expect(effects).toEqual([]);
    expect(state.unknownMethods).toEqual({ 'future/thing': 2, 'future/other': 1 });
    expect(state.threads).toEqual({});
    expect(state.activityFeed).toHaveLength(feedBefore);
    expect(state.protocolErrors).toBe(0);
  });

  it('deliberately ignored methods produce no event at all', () => {
    expect(note('account/updated', { authMode: null, planType: null })).toBeNull();
    expect(note('remoteControl/status/changed', { status: 'disabled' })).toBeNull();
    expect(note('skills/changed', {})).toBeNull();
    expect(note('deprecationNotice', { summary: 's', details: null })).toBeNull();
  });
});

describe('notifications with unexpected params', () => {
  it('become protocol/error events, counted in protocolErrors with a warning', () => {
    const bad = [
      note('turn/started', { threadId: 42, turn: { id: 'x', status: 'inProgress' } }),
      note('item/agentMessage/delta', { threadId: 't', turnId: 'u', delta: 'no item id' }),
      note('turn/completed', undefined),
      note('error', { error: { message: 'x' }, threadId: 't', turnId: 'u' }),
    ];
    for (const event of bad) expect(event).toMatchObject({ type: 'protocol/error', host: HOST, atMs: at });
    expect((bad[0] as { reason: string }).reason).toContain('turn/started');
    const state = readyState();
    const { effects } = fold(bad as SupervisorEvent[], state);
    expect(effects).toEqual([]);
    expect(state.protocolErrors).toBe(4);
    expect(state.warnings.filter((w) => w.startsWith(`${HOST}: protocol error: unexpected params for`))).toHaveLength(4);
    expect(state.threads).toEqual({});
  });

  it('warnings stay bounded', () => {
    const state = readyState();
    for (let i = 0; i < 200; i++) reduce(state, { type: 'protocol/error', atMs: at + i, host: HOST, reason: `r${i}`, line: '' });
    expect(state.protocolErrors).toBe(200);
    expect(state.warnings.length).toBeGreaterThanOrEqual(WARNINGS_KEPT);
    expect(state.warnings.length).toBeLessThan(2 * WARNINGS_KEPT);
    expect(state.warnings.at(-1)).toContain('r199');
  });

  it('uses receivedAtMs when the server sent no emittedAtMs', () => {
    expect(note('thread/closed', { threadId: 't' }, null)).toMatchObject({ type: 'thread/closed', atMs: at + 999 });
  });

  it('never throws on mangled params of any recorded notification', () => {
    const transcripts = loadTranscripts();
    const random = seededRandom(7);
    const junk: unknown[] = [null, undefined, 0, 'str', [], {}, { threadId: null }, { item: null, threadId: 't', turnId: 'u' }];
    const mangle = (value: unknown, depth: number): unknown => {
      if (depth > 0 && random() < 0.15) return junk[Math.floor(random() * junk.length)];
      if (Array.isArray(value)) return value.map((v) => mangle(v, depth + 1));
      if (typeof value === 'object' && value !== null) {
        return Object.fromEntries(Object.entries(value).filter(() => random() > 0.1).map(([k, v]) => [k, mangle(v, depth + 1)]));
      }
      return value;
    };
    let protocolErrors = 0;
    for (let round = 0; round < 20; round++) {
      const state = readyState();
      for (const lines of Object.values(transcripts)) {
        for (const line of lines) {
          const c = classifyLine(line);
          if (c.type !== 'notification') continue;
          const event = note(c.method, mangle(c.params, 0));
          if (event?.type === 'protocol/error') protocolErrors++;
          if (event) expect(() => reduce(state, event)).not.toThrow();
        }
      }
    }
    // The mangling did hit the validation, so the loop above exercised the error path.
    expect(protocolErrors).toBeGreaterThan(50);
  });
});

describe('notifications of the pinned Codex that the bindings do not describe fully', () => {
  it('a reasoning item with raw content (plain strings) is read, not a protocol error', () => {
    const item = { type: 'reasoning', id: 'rs-1', summary: ['thinking'], content: ['raw reasoning text'] };
    const event = note('item/completed', { threadId: 't', turnId: 'u', completedAtMs: at, item });
    expect(event).toMatchObject({ type: 'item/completed', item: { id: 'rs-1' } });
    expect(fold([event!], readyState()).state.protocolErrors).toBe(0);
  });

  it("Codex's warnings for the person are kept as warnings: the auto-reviewer's and the Windows sandbox's", () => {
    const { state } = fold(
      [
        note('guardianWarning', { threadId: 't', message: 'the reviewer could not check this command' }),
        note('windows/worldWritableWarning', { samplePaths: ['C:\\Temp', 'C:\\Shared'], extraCount: 3, failedScan: false }),
        note('windows/worldWritableWarning', { samplePaths: [], extraCount: 0, failedScan: true }),
      ] as SupervisorEvent[],
      readyState(),
    );
    expect(state.warnings.slice(-3)).toEqual([
      `${WS}: the reviewer could not check this command`,
      `${HOST}: the Windows sandbox cannot protect world-writable directories: C:\\Temp, C:\\Shared and 3 more`,
      `${HOST}: the Windows sandbox could not scan for world-writable directories; writes there may be unprotected`,
    ]);
    expect(state.unknownMethods).toEqual({});
  });
});
