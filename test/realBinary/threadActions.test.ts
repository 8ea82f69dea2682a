// Acting on threads this app-server connection did not start: threads on disk from an earlier
// run (not loaded here) and threads another app-server process holds. One Codex env for the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SupervisorError } from '../../src/core/errors.js';
import { Supervisor } from '../../src/core/loop/supervisor.js';
import { notifications, startRealCodexEnv, textInput, type RealCodexEnv } from '../support/realCodex.js';

const WAIT_MS = 30_000;
let env: RealCodexEnv;
let path: string;

beforeAll(async () => {
  env = await startRealCodexEnv({ streamIdleTimeoutMs: 60_000 });
  path = await env.workspace('api');
});
afterAll(async () => env?.cleanup());

async function supervise(): Promise<Supervisor> {
  const supervisor = new Supervisor({ workspaces: [{ name: 'api', path }], codexBin: env.codexBin, env: env.home.env, pollIntervalMs: 200 });
  await supervisor.start();
  return supervisor;
}

describe('thread actions on threads this connection did not start', () => {
  it('a thread of an earlier run (on disk, not loaded): its transcript reads, and a reply loads it first and starts a turn', async () => {
    const first = await supervise();
    const { results } = await first.dispatch({ version: 1, id: 'earlier', actions: [{ id: 'a', workspace: 'api', prompt: 'earlier words', thread: 'new' }] });
    const threadId = results[0]!.threadId!;
    await first.waitUntil((s) => s.jobs['earlier:a']?.status === 'completed', WAIT_MS);
    await first.stop();

    const second = await supervise();
    try {
      // Caught up from disk: known, but not loaded in this app-server.
      expect((await second.snapshot()).threads[threadId]).toMatchObject({ status: 'notLoaded', currentTurnId: null });
      const before = await second.transcript(threadId);
      expect(before.turns.map((t) => t.items.map((i) => i.text))).toEqual([['earlier words', 'Done: earlier words']]);

      const replied = await second.reply(threadId, 'later words');
      expect(replied.mode).toBe('started');
      await second.waitUntil((s) => s.threads[threadId]?.lastTurn?.id === replied.turnId && s.threads[threadId]?.lastTurn?.status === 'completed', WAIT_MS);
      expect((await second.transcript(threadId)).turns.map((t) => t.status)).toEqual(['completed', 'completed']);
    } finally {
      await second.stop();
    }
  });

  it('a thread another app-server process holds: its transcript reads; a reply is refused with the reason (exit 1)', async () => {
    const other = await env.connect();
    const started = (await other.connection.request('thread/start', { cwd: path })) as { thread: { id: string } };
    const threadId = started.thread.id;
    await other.connection.request('turn/start', { threadId, input: textInput('held elsewhere') });
    await expect.poll(() => notifications(other.events, 'turn/completed').length, { timeout: WAIT_MS }).toBe(1);

    const supervisor = await supervise();
    try {
      const transcript = await supervisor.transcript(threadId);
      expect(transcript.turns).toEqual([expect.objectContaining({ status: 'completed', items: [expect.objectContaining({ text: 'held elsewhere' }), expect.objectContaining({ text: 'Done: held elsewhere' })] })]);
      const error = await supervisor.reply(threadId, 'mine now?').then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SupervisorError);
      expect((error as SupervisorError).exitCode).toBe(1);
      expect((error as Error).message).toMatch(new RegExp(`^could not reply to thread ${threadId.slice(-6)} \\(api: held elsewhere\\): thread ${threadId} already has an active writer`));
    } finally {
      await supervisor.stop();
      await other.connection.stop();
    }
  });
});
