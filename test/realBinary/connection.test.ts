import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionClosedError } from '../../src/core/errors.js';
import type { ServerRequestEvent } from '../../src/core/connection/appServerConnection.js';
import { notifications, startRealCodexEnv, textInput, type RealCodexEnv } from '../support/realCodex.js';

const WAIT = { timeout: 30_000, interval: 50 };
let env: RealCodexEnv;

beforeAll(async () => {
  env = await startRealCodexEnv();
});
afterAll(async () => {
  await env?.cleanup();
});

type Turn = { id: string; status: string; error: { message: string; codexErrorInfo: unknown } | null };

function completedTurn(events: Parameters<typeof notifications>[0], turnId: string) {
  return (notifications(events, 'turn/completed') as { turn: Turn }[]).find((n) => n.turn.id === turnId)?.turn;
}

async function startThread(connection: Awaited<ReturnType<RealCodexEnv['connect']>>['connection'], cwd: string) {
  const started = (await connection.request('thread/start', { cwd, approvalPolicy: 'on-request' })) as { thread: { id: string } };
  return started.thread.id;
}

async function startTurn(connection: Awaited<ReturnType<RealCodexEnv['connect']>>['connection'], threadId: string, text: string) {
  const res = (await connection.request('turn/start', { threadId, input: textInput(text) })) as { turn: { id: string; status: string } };
  expect(res.turn.status).toBe('inProgress');
  return res.turn.id;
}

describe('AppServerConnection against the real codex app-server', () => {
  it('handshakes and records the Codex version without a mismatch warning', async () => {
    const { connection, events } = await env.connect();
    expect(connection.serverInfo?.codexVersion).toBe('0.171.0');
    expect(connection.serverInfo?.codexHome).toBe(env.home.dir);
    expect(events.filter((e) => e.type === 'warning')).toEqual([]);
    expect(await connection.request('thread/loaded/list', {})).toMatchObject({ data: [] });
  });

  it('runs a turn: streamed agent text, then turn/completed', async () => {
    const { connection, events } = await env.connect();
    const threadId = await startThread(connection, await env.workspace());
    const turnId = await startTurn(connection, threadId, 'say hello');
    await expect.poll(() => completedTurn(events, turnId), WAIT).toMatchObject({ status: 'completed', error: null });
    const deltas = (notifications(events, 'item/agentMessage/delta') as { turnId: string; delta: string }[])
      .filter((d) => d.turnId === turnId)
      .map((d) => d.delta)
      .join('');
    expect(deltas).toBe('Done: say hello');
    for (const e of events) if (e.type === 'notification') expect(e.notification.emittedAtMs).toEqual(expect.any(Number));
  });

  it('approval accepted: the command runs and its output reaches the model', async () => {
    const { connection, events } = await env.connect();
    const requests: ServerRequestEvent[] = [];
    connection.onServerRequest((req) => {
      requests.push(req);
      return Promise.resolve({ decision: 'accept' });
    });
    const cwd = await env.workspace();
    const threadId = await startThread(connection, cwd);
    const turnId = await startTurn(connection, threadId, '[exec echo approved-run] please');
    await expect.poll(() => completedTurn(events, turnId), WAIT).toMatchObject({ status: 'completed' });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: 'item/commandExecution/requestApproval', params: { threadId, turnId, cwd } });
    const commands = (notifications(events, 'item/completed') as { item: { type: string; status: string; exitCode: number; aggregatedOutput: string } }[])
      .map((n) => n.item)
      .filter((i) => i.type === 'commandExecution');
    expect(commands).toMatchObject([{ status: 'completed', exitCode: 0, aggregatedOutput: expect.stringContaining('approved-run') }]);
    expect(notifications(events, 'serverRequest/resolved')).toHaveLength(1);
  });

  it('approval declined: the command does not run and the turn continues', async () => {
    const { connection, events } = await env.connect();
    connection.onServerRequest(() => Promise.resolve({ decision: 'decline' }));
    const cwd = await env.workspace();
    const threadId = await startThread(connection, cwd);
    const turnId = await startTurn(connection, threadId, `[exec touch ${cwd}/should-not-exist] now`);
    await expect.poll(() => completedTurn(events, turnId), WAIT).toMatchObject({ status: 'completed' });
    const commands = (notifications(events, 'item/completed') as { item: { type: string; status: string } }[])
      .map((n) => n.item)
      .filter((i) => i.type === 'commandExecution');
    expect(commands).toMatchObject([{ status: 'declined' }]);
    const { existsSync } = await import('node:fs');
    expect(existsSync(`${cwd}/should-not-exist`)).toBe(false);
  });

  it('upstream HTTP 500: an error notification and a failed turn', async () => {
    const { connection, events } = await env.connect();
    const threadId = await startThread(connection, await env.workspace());
    const turnId = await startTurn(connection, threadId, '[fail] this breaks');
    const turn = await expect.poll(() => completedTurn(events, turnId), WAIT).toMatchObject({ status: 'failed' });
    void turn;
    expect(completedTurn(events, turnId)?.error).toMatchObject({ codexErrorInfo: 'internalServerError' });
    expect(notifications(events, 'error')).toContainEqual(expect.objectContaining({ threadId, turnId, willRetry: false }));
  });

  it('SIGKILL of the child: a disconnect event, pending requests rejected', async () => {
    const { connection, events } = await env.connect();
    const threadId = await startThread(connection, await env.workspace());
    // A silent upstream keeps the turn open; turn/interrupt is then pending when the child dies.
    await startTurn(connection, threadId, '[silent] wait');
    connection.kill('SIGKILL');
    const pending = connection.request('thread/read', { threadId }, { timeoutMs: 30_000 });
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect.poll(() => events.find((e) => e.type === 'disconnected'), WAIT).toMatchObject({
      disconnect: { signal: 'SIGKILL', code: null, reason: 'exit' },
    });
    expect(connection.isClosed).toBe(true);
  });

  it('resumes an earlier thread from a new process', async () => {
    const first = await env.connect();
    const cwd = await env.workspace();
    const threadId = await startThread(first.connection, cwd);
    const turnId = await startTurn(first.connection, threadId, 'remember the number 42');
    await expect.poll(() => completedTurn(first.events, turnId), WAIT).toMatchObject({ status: 'completed' });
    await first.connection.stop();

    const second = await env.connect();
    const resumed = (await second.connection.request('thread/resume', { threadId, excludeTurns: true })) as {
      thread: { id: string; preview: string; cwd: string };
    };
    expect(resumed.thread).toMatchObject({ id: threadId, preview: 'remember the number 42' });
    const next = await startTurn(second.connection, threadId, 'what was it?');
    await expect.poll(() => completedTurn(second.events, next), WAIT).toMatchObject({ status: 'completed' });
    const last = env.mock.requests.at(-1)?.body as { input: unknown[] };
    expect(JSON.stringify(last.input)).toContain('remember the number 42');
  });
});
