import { execa } from 'execa';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodexClient } from '../../src/core/connection/codexClient.js';
import type { ConnectionEvent } from '../../src/core/connection/appServerConnection.js';
import { RpcRequestError } from '../../src/core/errors.js';
import { normalizeNotification } from '../../src/core/state/normalize.js';
import { reduce } from '../../src/core/state/reducer.js';
import type { SupervisorState } from '../../src/core/state/model.js';
import { openSignals } from '../../src/core/state/selectors.js';
import { notifications, startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { readyState, WS } from '../support/replay.js';

const WAIT = { timeout: 30_000, interval: 50 };
let env: RealCodexEnv;

beforeAll(async () => {
  env = await startRealCodexEnv();
});
afterAll(async () => {
  await env?.cleanup();
});

/** The real binary's notifications through normalize and reduce, as the loop feeds them. */
function stateOf(events: ConnectionEvent[]): SupervisorState {
  let state = readyState();
  for (const e of events) {
    if (e.type !== 'notification') continue;
    const event = normalizeNotification('local', WS, e.notification);
    if (event) [state] = reduce(state, event);
  }
  return state;
}

describe('goal mode against the real codex app-server (0.171)', () => {
  it('thread/goal/set → Codex runs goal turns by itself → the goal completes in turn 3: the state holds the thread\'s completion until then', async () => {
    const { connection, events } = await env.connect();
    const client = new CodexClient(connection);
    const { thread } = await client.threadStart({ cwd: await env.workspace() });
    expect(await client.threadGoalGet(thread.id)).toEqual({ goal: null });

    const set = await client.threadGoalSet({ threadId: thread.id, objective: 'write the changelog [goal-turns 3]', origin: 'user', tokenBudget: 1_000_000 });
    expect(set.goal).toMatchObject({ threadId: thread.id, objective: 'write the changelog [goal-turns 3]', status: 'active', tokenBudget: 1_000_000, tokensUsed: 0 });
    // No turn/start from us: Codex starts the goal turns itself, until the model marks the goal complete.
    await expect.poll(() => (notifications(events, 'thread/goal/updated') as { goal: { status: string } }[]).some((n) => n.goal.status === 'complete'), WAIT).toBe(true);
    await expect.poll(() => notifications(events, 'turn/completed').length, WAIT).toBe(3);

    const updates = notifications(events, 'thread/goal/updated') as { turnId: string | null; goal: { status: string; tokensUsed: number } }[];
    expect(updates[0]).toMatchObject({ turnId: null, goal: { status: 'active', tokensUsed: 0 } });
    expect(updates.at(-1)!.goal.tokensUsed).toBeGreaterThan(0);

    // Midway (after the first goal turn completed): no "completed" yet, the next step names the goal.
    const firstDone = events.findIndex((e) => e.type === 'notification' && e.notification.method === 'turn/completed');
    const midway = stateOf(events.slice(0, firstDone + 1));
    expect(openSignals(midway)).toEqual([]);
    expect(midway.threads[thread.id]!.digest.nextStep).toBe('goal: write the changelog [goal-turns 3] (turn 1)');

    const state = stateOf(events);
    expect(state.threads[thread.id]!.goal).toMatchObject({ objective: 'write the changelog [goal-turns 3]', status: 'complete', turns: 3, heldCompletion: false, tokenBudget: 1_000_000 });
    expect(openSignals(state).map((s) => s.message)).toEqual([expect.stringContaining('— goal complete — Goal complete: write the changelog')]);
    expect((await client.threadGoalGet(thread.id)).goal).toMatchObject({ status: 'complete' });
  });

  it('thread/goal/clear → thread/goal/cleared: goal mode ends, the goal leaves the state, no more goal turns', async () => {
    const { connection, events } = await env.connect();
    const client = new CodexClient(connection);
    const { thread } = await client.threadStart({ cwd: await env.workspace() });
    // A goal the mock never completes: Codex would go on forever.
    await client.threadGoalSet({ threadId: thread.id, objective: 'keep going', origin: 'user' });
    await expect.poll(() => notifications(events, 'turn/completed').length, WAIT).toBeGreaterThanOrEqual(2);
    expect(await client.threadGoalClear({ threadId: thread.id, origin: 'user' })).toEqual({ cleared: true });
    await expect.poll(() => notifications(events, 'thread/goal/cleared'), WAIT).toEqual([{ threadId: thread.id }]);
    await expect.poll(() => stateOf(events).threads[thread.id]!.currentTurnId, WAIT).toBeNull();
    const turns = notifications(events, 'turn/started').length;
    const state = stateOf(events);
    expect(state.threads[thread.id]!.goal).toBeNull();
    expect(openSignals(state).map((s) => s.message)).toEqual([expect.stringContaining('goal cleared')]);
    expect(await client.threadGoalClear({ threadId: thread.id })).toEqual({ cleared: false });
    // Nothing starts after the clear (one more turn start would come within ~50 ms).
    await new Promise((r) => setTimeout(r, 500));
    expect(notifications(events, 'turn/started').length).toBe(turns);
  });
});

describe('review/start against the real codex app-server (0.171)', () => {
  it('reviews uncommitted changes inline as a turn of the thread: enteredReviewMode, the findings in exitedReviewMode; "detached" is refused', async () => {
    const repo = await env.workspace('review');
    const git = (...args: string[]) => execa('git', args, { cwd: repo, env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_GLOBAL: '/dev/null' } });
    await git('init', '-q');
    await writeFile(join(repo, 'a.txt'), 'a\n');
    await git('add', 'a.txt');
    await git('commit', '-qm', 'base');
    await writeFile(join(repo, 'a.txt'), 'a\nb\n');

    const { connection, events } = await env.connect();
    const client = new CodexClient(connection);
    const { thread } = await client.threadStart({ cwd: repo });
    const detached = await client.reviewStart({ threadId: thread.id, target: { type: 'uncommittedChanges' }, delivery: 'detached' as 'inline' }).catch((e: unknown) => e);
    expect(detached).toBeInstanceOf(RpcRequestError);
    expect((detached as RpcRequestError).rpcMessage).toContain('unknown variant `detached`, expected `inline`');

    const review = await client.reviewStart({ threadId: thread.id, target: { type: 'uncommittedChanges' } });
    expect(review).toMatchObject({ reviewThreadId: thread.id, turn: { status: 'inProgress' } });
    await expect.poll(() => (notifications(events, 'turn/completed') as { turn: { id: string; status: string } }[]).find((n) => n.turn.id === review.turn.id)?.turn.status, WAIT).toBe('completed');
    const items = (notifications(events, 'item/completed') as { turnId: string; item: { type: string; review?: string; text?: string } }[]).filter((n) => n.turnId === review.turn.id).map((n) => n.item);
    // The model's own message is started but never completed: its text becomes the review's.
    expect(items.map((i) => i.type)).toEqual(['enteredReviewMode', 'userMessage', 'exitedReviewMode', 'agentMessage']);
    const findings = 'Done: Review the current code changes (staged, unstaged, and untracked files) and provide prioritized findings.';
    expect(items[2]!.review).toBe(findings);
    expect(items[3]!.text).toBe(findings);
    // The model got Codex's review instructions and the review request as the user's message.
    const request = env.mock.requests.at(-1)!;
    expect(request.lastUserText).toBe('Review the current code changes (staged, unstaged, and untracked files) and provide prioritized findings.');
    expect(JSON.stringify(request.body.input)).toContain('# Review guidelines');
    // The thread's state reads the review turn like any other.
    const state = stateOf(events);
    expect(state.threads[thread.id]!.lastTurn).toEqual({ id: review.turn.id, status: 'completed', error: null });
    expect(state.threads[thread.id]!.lastAgentMessage).toBe(findings);
  });
});
