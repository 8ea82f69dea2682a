import { describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '../../../src/core/state/events.js';
import type { SupervisorState } from '../../../src/core/state/model.js';
import { normalizeServerRequest } from '../../../src/core/state/normalize.js';
import { reduce } from '../../../src/core/state/reducer.js';
import { selectFeed } from '../../../src/core/state/selectors.js';
import { fold, readyEvents, readyState, WS } from '../../support/replay.js';
import { agentMessage, commandApproval, turnCompleted, turnStarted, userMessage } from '../../support/events.js';

const at = 1_795_697_000_000;

const queued = (i: number, workspace = WS): SupervisorEvent => ({
  type: 'job/queued',
  atMs: at + i,
  key: `p:${i}`,
  planId: 'p',
  actionId: `a${i}`,
  workspace,
  prompt: `task number ${i}`,
});

describe('activity feed bounds', () => {
  it('with feedLimit 10, never holds more than 12 entries and keeps the newest', () => {
    const state = readyState({ feedLimit: 10 });
    for (let i = 1; i <= 100; i++) {
      reduce(state, queued(i));
      expect(state.activityFeed.length).toBeLessThanOrEqual(12);
    }
    const feed = state.activityFeed;
    expect(feed.length).toBeGreaterThanOrEqual(10);
    expect(feed.at(-1)!.text).toBe('queued a100: task number 100');
    // Contiguous and in order: nothing newer was dropped.
    const seqs = feed.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    expect(seqs.at(-1)).toBe(state.nextFeedSeq - 1);
    expect(selectFeed(state, { limit: 10 }).map((e) => e.text)).toEqual(
      Array.from({ length: 10 }, (_, i) => `queued a${91 + i}: task number ${91 + i}`),
    );
  });
});

describe('selectFeed', () => {
  function mixed(): SupervisorState {
    const state = fold(readyEvents('other'), readyState()).state;
    return fold(
      [
        turnStarted('t1', 'u1', at),
        userMessage('t1', 'u1', 'Fix the Login bug', at + 1),
        turnCompleted('t1', 'u1', 'failed', at + 2, { message: 'upstream 500' }),
        turnStarted('t2', 'u2', at + 3, 'other'),
        userMessage('t2', 'u2', 'write docs', at + 4, 'other'),
        agentMessage('t2', 'u2', 'docs written', at + 5, 'other'),
        turnCompleted('t2', 'u2', 'completed', at + 6, null, 'other'),
        turnStarted('t3', 'u3', at + 7),
        commandApproval({ requestId: 1, threadId: 't3', turnId: 'u3', atMs: at + 8, command: 'npm publish', reason: 'release' }),
      ],
      state,
    ).state;
  }

  it('returns everything oldest first by default', () => {
    const texts = selectFeed(mixed()).map((e) => e.text);
    expect(texts).toEqual([
      'new task: Fix the Login bug',
      'failed: upstream 500',
      'new task: write docs',
      'completed: docs written',
      'needs approval: `npm publish` — release',
    ]);
  });

  it('filters by workspace', () => {
    const state = mixed();
    expect(selectFeed(state, { workspace: 'other' }).map((e) => e.text)).toEqual(['new task: write docs', 'completed: docs written']);
    expect(selectFeed(state, { workspace: WS })).toHaveLength(3);
    expect(selectFeed(state, { workspace: 'missing' })).toEqual([]);
  });

  it('filters faults', () => {
    expect(selectFeed(mixed(), { faults: true }).map((e) => e.kind)).toEqual(['turn_failed']);
  });

  it("filters by text, case-insensitively, also matching the workspace name and the thread's title", () => {
    const state = mixed();
    // The failure's entry names only the error; its thread is the login bug's.
    expect(selectFeed(state, { text: 'login' }).map((e) => e.text)).toEqual(['new task: Fix the Login bug', 'failed: upstream 500']);
    expect(selectFeed(state, { text: 'OTHER' }).map((e) => e.workspace)).toEqual(['other', 'other']);
    expect(selectFeed(state, { text: 'nothing like this' })).toEqual([]);
  });

  it('limits to the newest entries, still oldest first', () => {
    const state = mixed();
    expect(selectFeed(state, { limit: 2 }).map((e) => e.kind)).toEqual(['turn_completed', 'approval']);
    expect(selectFeed(state, { workspace: WS, limit: 1 }).map((e) => e.kind)).toEqual(['approval']);
    expect(selectFeed(state, { limit: 0 })).toEqual([]);
  });

  it('combines filters and kinds', () => {
    const state = mixed();
    expect(selectFeed(state, { kinds: ['turn_started'], workspace: WS }).map((e) => e.text)).toEqual(['new task: Fix the Login bug']);
    expect(selectFeed(state, { needsInput: true, workspace: 'other' })).toEqual([]);
    expect(selectFeed(state, { needsInput: true }).map((e) => e.requestKey)).toEqual([`${WS}#1`]);
  });
});

describe('untrusted text never reaches the feed or the digest with terminal escapes', () => {
  const CLEAR = '\u001b[2J';
  const TITLE = '\u001b]0;pwned\u0007';
  const RED = '\u001b[31m';
  // Anything a terminal would act on: C0 (but not plain spaces), DEL, C1.
  // eslint-disable-next-line no-control-regex
  const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

  function hostile(): SupervisorState {
    return fold(
      [
        { type: 'thread/renamed', atMs: at, workspace: WS, threadId: 't', name: `${TITLE}evil title` },
        turnStarted('t', 'u', at + 1),
        userMessage('t', 'u', `${CLEAR}do the ${RED}thing${TITLE}`, at + 2),
        {
          type: 'item/completed',
          atMs: at + 3,
          workspace: WS,
          threadId: 't',
          turnId: 'u',
          item: { type: 'commandExecution', id: 'c', command: `/bin/bash -lc 'echo ${CLEAR}hi'`, status: 'completed', exitCode: 0 },
        },
        {
          type: 'turn/error',
          atMs: at + 4,
          workspace: WS,
          threadId: 't',
          turnId: 'u',
          error: { message: `bad ${TITLE}gateway${CLEAR}`, codexErrorInfo: 'other' },
          willRetry: true,
        },
        commandApproval({ requestId: 1, threadId: 't', turnId: 'u', atMs: at + 5, command: `rm ${CLEAR}-rf x`, reason: `because${TITLE}\r\nok` }),
        normalizeServerRequest(WS, {
          id: 2,
          method: 'item/tool/requestUserInput',
          params: { threadId: 't', turnId: 'u', itemId: 'q', isBlocking: true, questions: [{ id: 'a', header: 'h', question: `which${CLEAR}?` }] },
          receivedAtMs: at + 6,
        }),
        { type: 'approval/answered', atMs: at + 7, key: `${WS}#1`, decision: 'accept' },
        agentMessage('t', 'u', `${CLEAR}Done${TITLE}: all ${RED}good\u001b[0m`, at + 8),
        turnCompleted('t', 'u', 'completed', at + 9),
      ],
      readyState(),
    ).state;
  }

  it('feed texts are clean and keep the readable words', () => {
    const state = hostile();
    const texts = state.activityFeed.map((e) => e.text);
    expect(texts.length).toBeGreaterThanOrEqual(6);
    for (const text of texts) expect(text).not.toMatch(CONTROL);
    expect(texts).toContain('new task: do the thing');
    expect(texts).toContain('completed: Done: all good');
    expect(texts).toContain('ran `echo hi` (exit 0)');
    expect(texts).toContain('upstream trouble, retrying: bad gateway');
  });

  it('the digest, titles and signal messages are clean', () => {
    const state = hostile();
    const thread = state.threads.t!;
    expect(thread.title).toBe('evil title');
    expect(thread.digest.currentTask).toBe('do the thing');
    expect(thread.digest.lastActivity?.text).toBe('replied: Done: all good');
    const strings = [
      thread.title,
      thread.digest.currentTask,
      thread.digest.lastActivity?.text,
      thread.digest.nextStep,
      ...thread.digest.blockers.map((b) => b.text),
      ...thread.recentItems.map((i) => i.text),
      ...Object.values(state.signals).flatMap((s) => [s.message, s.context.finalMessage ?? '', s.context.reason ?? '', s.context.errorMessage ?? '']),
    ];
    for (const s of strings) expect(s ?? '').not.toMatch(CONTROL);
  });

  it('the digest is clean after each step of the turn, not only at its end', () => {
    const state = readyState();
    const steps: SupervisorEvent[] = [
      turnStarted('t', 'u', at),
      userMessage('t', 'u', `${CLEAR}task${TITLE}`, at + 1),
      {
        type: 'item/started',
        atMs: at + 2,
        workspace: WS,
        threadId: 't',
        turnId: 'u',
        item: { type: 'commandExecution', id: 'c', command: `/bin/bash -lc 'make ${RED}all'`, status: 'inProgress' },
      },
      agentMessage('t', 'u', `${CLEAR}half${TITLE} done`, at + 3),
    ];
    const seen: string[] = [];
    for (const step of steps) {
      reduce(state, step);
      const digest = state.threads.t!.digest;
      for (const s of [digest.currentTask ?? '', digest.lastActivity?.text ?? '', digest.nextStep]) {
        expect(s).not.toMatch(CONTROL);
        seen.push(s);
      }
    }
    expect(seen).toContain('running `make all`');
    expect(seen).toContain('replied: half done');
  });

  it('the digest is clean while the hostile approval and question are open', () => {
    const state = fold(
      [
        turnStarted('t', 'u', at),
        commandApproval({ requestId: 1, threadId: 't', turnId: 'u', atMs: at + 1, command: `/bin/bash -lc 'rm ${CLEAR}-rf x'` }),
      ],
      readyState(),
    ).state;
    const digest = state.threads.t!.digest;
    expect(digest.nextStep).toBe('waiting for your approval: `rm -rf x`');
    for (const b of digest.blockers) expect(b.text).not.toMatch(CONTROL);
  });
});
