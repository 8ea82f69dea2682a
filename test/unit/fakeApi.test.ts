// The TUI's tests drive FakeApi: its thread actions answer as the Supervisor's do on the same state.
import { describe, expect, it } from 'vitest';
import { SupervisorError } from '../../src/core/errors.js';
import { FakeApi } from '../support/fakeApi.js';
import { threadSeen, turnCompleted, turnStarted } from '../support/events.js';
import { fold, readyState, T0 } from '../support/replay.js';

const api = (events: Parameters<typeof fold>[0]) => new FakeApi(fold(events, readyState()).state);

async function refused(promise: Promise<unknown>): Promise<SupervisorError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SupervisorError);
  return error as SupervisorError;
}

describe('FakeApi thread actions', () => {
  it('reply: an idle thread gets a started turn (running at once); a running one is steered; empty or unknown is exit 2', async () => {
    const fake = api([threadSeen('t', T0 + 1)]);
    const started = await fake.reply('t', 'go');
    expect(started).toEqual({ threadId: 't', turnId: 'fake-turn-1', mode: 'started' });
    expect(fake.state.threads.t!.currentTurnId).toBe('fake-turn-1');
    expect(await fake.reply('t', 'more')).toEqual({ threadId: 't', turnId: 'fake-turn-1', mode: 'steered' });
    expect(fake.actions().map((c) => [c.method, c.args])).toEqual([
      ['reply', ['t', 'go']],
      ['reply', ['t', 'more']],
    ]);
    expect((await refused(fake.reply('t', ' '))).exitCode).toBe(2);
    expect((await refused(fake.reply('nope', 'x'))).exitCode).toBe(2);
  });

  it('retryTurn: only after a failed or interrupted last turn, with none running (else exit 1)', async () => {
    const failed = api([turnStarted('t', 'u', T0 + 1), turnCompleted('t', 'u', 'failed', T0 + 2, { message: 'boom' })]);
    expect(await failed.retryTurn('t')).toMatchObject({ mode: 'started' });
    expect((await refused(failed.retryTurn('t'))).exitCode).toBe(1);
    const completed = api([turnStarted('t', 'u', T0 + 1), turnCompleted('t', 'u', 'completed', T0 + 2)]);
    expect((await refused(completed.retryTurn('t'))).message).toContain('retry sends again only a failed or interrupted turn');
  });

  it('archiveThread removes the thread; threadDiff reads the state; transcript defaults to the recent items as one turn', async () => {
    const fake = api([turnStarted('t', 'u', T0 + 1), { type: 'diff/updated', atMs: T0 + 2, workspace: 'ws1', threadId: 't', turnId: 'u', diff: '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n' }]);
    expect((await fake.threadDiff('t')).files).toEqual([{ path: 'x', added: 1, removed: 1 }]);
    expect((await fake.transcript('t')).turns).toEqual([expect.objectContaining({ id: 'u', status: 'inProgress' })]);
    await fake.archiveThread('t');
    expect(fake.state.threads.t).toBeUndefined();
    expect((await refused(fake.archiveThread('t'))).exitCode).toBe(2);
  });
});
