// Drives the real `codex app-server` against the mock Responses API: proves the mock speaks the
// wire format Codex expects and pins the notification flow the supervisor relies on.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOfflineCodexHome, type OfflineCodexHome } from '../src/core/mockModel/codexHome.js';
import {
  defaultReply,
  startMockResponsesServer,
  type MockRequest,
  type MockResponsesServer,
} from '../src/core/mockModel/mockResponsesServer.js';
import { initializeRaw, spawnRawAppServer, type RawAppServer } from './support/rawAppServer.js';

const WAIT_MS = 30_000;

let mock: MockResponsesServer;
let workDir: string;
const homes: OfflineCodexHome[] = [];
const servers: RawAppServer[] = [];

beforeAll(async () => {
  mock = await startMockResponsesServer();
  workDir = await mkdtemp(join(tmpdir(), 'cm-mock-work-'));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.kill()));
  await Promise.all(homes.splice(0).map((h) => h.cleanup()));
});

afterAll(async () => {
  await mock?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function startThread(opts: { streamIdleTimeoutMs?: number; approvalPolicy?: string } = {}) {
  const home = await createOfflineCodexHome({
    baseUrl: mock.baseUrl,
    ...(opts.streamIdleTimeoutMs ? { streamIdleTimeoutMs: opts.streamIdleTimeoutMs } : {}),
  });
  homes.push(home);
  const server = spawnRawAppServer({ env: home.env });
  servers.push(server);
  await initializeRaw(server);
  const started = await server.request('thread/start', {
    cwd: workDir,
    ...(opts.approvalPolicy ? { approvalPolicy: opts.approvalPolicy } : {}),
  });
  const threadId: string = started.thread.id;
  return { server, threadId };
}

async function startTurn(server: RawAppServer, threadId: string, text: string) {
  const from = server.messages.length;
  const { turn } = await server.request('turn/start', { threadId, input: [{ type: 'text', text, text_elements: [] }] });
  const turnId: string = turn.id;
  const completed = () =>
    server.waitFor((m) => m.method === 'turn/completed' && m.params.turn.id === turnId, WAIT_MS, from);
  return { turnId, from, completed };
}

describe('mock Responses API with the real codex app-server', () => {
  it('runs a text turn and streams the agent message', async () => {
    const { server, threadId } = await startThread();
    const text = 'Say hello to the supervisor';
    const { turnId, from, completed } = await startTurn(server, threadId, text);
    const done = await completed();
    expect(done.params.turn.status).toBe('completed');
    expect(done.params.turn.error).toBeNull();

    const deltas = server.messages
      .slice(from)
      .filter((m) => m.method === 'item/agentMessage/delta' && m.params.turnId === turnId);
    expect(deltas.length).toBeGreaterThan(0);
    const agentMessage = server.messages
      .slice(from)
      .find((m) => m.method === 'item/completed' && m.params.item.type === 'agentMessage');
    expect(agentMessage?.params.item.text).toBe(`Done: ${text}`);
    expect(deltas.map((d) => d.params.delta).join('')).toBe(`Done: ${text}`);

    const request = mock.requests.find((r) => r.lastUserText === text);
    expect(request?.body.stream).toBe(true);
  });

  it('asks for approval of an escalated exec and runs it once accepted', async () => {
    const { server, threadId } = await startThread({ approvalPolicy: 'on-request' });
    const { turnId, from, completed } = await startTurn(server, threadId, 'please [exec echo hi]');
    const approval = await server.waitFor(
      (m) => m.method === 'item/commandExecution/requestApproval' && m.id !== undefined,
      WAIT_MS,
      from,
    );
    expect(approval.params.threadId).toBe(threadId);
    expect(approval.params.turnId).toBe(turnId);
    expect(approval.params.command).toContain('echo hi');
    server.respond(approval.id!, { decision: 'accept' });

    const item = await server.waitFor(
      (m) => m.method === 'item/completed' && m.params.item.type === 'commandExecution',
      WAIT_MS,
      from,
    );
    expect(item.params.item.id).toBe(approval.params.itemId);
    expect(item.params.item.status).toBe('completed');
    expect(item.params.item.exitCode).toBe(0);
    expect(item.params.item.aggregatedOutput).toContain('hi');

    const done = await completed();
    expect(done.params.turn.status).toBe('completed');
    const followUp = mock.requests.find((r) => r.functionCallOutputs.some((o) => o.callId === approval.params.itemId));
    expect(followUp?.functionCallOutputs.at(-1)?.output).toContain('hi');
  });

  it('fails the turn on an upstream HTTP 500', async () => {
    const { server, threadId } = await startThread();
    const { turnId, from, completed } = await startTurn(server, threadId, '[fail] please');
    const error = await server.waitFor((m) => m.method === 'error' && m.params.turnId === turnId, WAIT_MS, from);
    expect(error.params.willRetry).toBe(false);
    const done = await completed();
    expect(done.params.turn.status).toBe('failed');
    expect(done.params.turn.error.codexErrorInfo).toBe('internalServerError');
  });

  it('fails a `[fail 2x]` prompt twice with HTTP 500 (internalServerError), then completes it', async () => {
    const { server, threadId } = await startThread();
    const prompt = `[fail 2x] ${Math.random()}`;
    for (const expected of ['failed', 'failed', 'completed']) {
      const { completed } = await startTurn(server, threadId, prompt);
      const done = await completed();
      expect(done.params.turn.status).toBe(expected);
      if (expected === 'failed') expect(done.params.turn.error.codexErrorInfo).toBe('internalServerError');
    }
  });

  it('reports `[fail429 1x]` as responseTooManyFailedAttempts with HTTP 429', async () => {
    const { server, threadId } = await startThread();
    const { completed } = await startTurn(server, threadId, `[fail429 1x] ${Math.random()}`);
    const done = await completed();
    expect(done.params.turn.error.codexErrorInfo).toEqual({ responseTooManyFailedAttempts: { httpStatusCode: 429 } });
  });

  it('makes Codex report usageLimitExceeded and the reached limit with its reset time for `[usage-limit 60s]`', async () => {
    const { server, threadId } = await startThread();
    const before = Date.now();
    const { turnId, from, completed } = await startTurn(server, threadId, `[usage-limit 60s] ${Math.random()}`);
    const done = await completed();
    expect(done.params.turn.status).toBe('failed');
    expect(done.params.turn.error.codexErrorInfo).toBe('usageLimitExceeded');
    const limits = server.messages.slice(from).find((m: any) => m.method === 'account/rateLimits/updated');
    expect(limits?.params.rateLimits.primary.usedPercent).toBe(100);
    expect(limits!.params.rateLimits.primary.resetsAt * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 59_000);
    expect(turnId).toBeTruthy();
  });

  it('fails the turn when the stream is cut before response.completed', async () => {
    const { server, threadId } = await startThread();
    const { completed, from } = await startTurn(server, threadId, '[cut] please');
    const done = await completed();
    expect(done.params.turn.status).toBe('failed');
    expect(done.params.turn.error).toMatchObject({ codexErrorInfo: 'other', message: expect.stringMatching(/^stream disconnected before completion/) });
    // Nothing structured says "stream": the `error` before it carries `other` too (failureKind.ts reads the message).
    const errors = server.messages.slice(from).filter((m: any) => m.method === 'error');
    expect(errors.map((m: any) => m.params.error.codexErrorInfo)).toEqual(['other']);
  });

  it('fails the turn at once for `[fail400]`: Codex reports `other` with the error body of the API', async () => {
    const { server, threadId } = await startThread();
    const { completed } = await startTurn(server, threadId, '[fail400] please');
    const done = await completed();
    expect(done.params.turn.status).toBe('failed');
    expect(done.params.turn.error).toMatchObject({ codexErrorInfo: 'other', message: expect.stringMatching(/mock upstream error 400/) });
  });

  it('fails the turn when the stream goes silent past stream_idle_timeout_ms', async () => {
    const { server, threadId } = await startThread({ streamIdleTimeoutMs: 1500 });
    const { completed } = await startTurn(server, threadId, '[silent] please');
    const done = await completed();
    expect(done.params.turn.status).toBe('failed');
    expect(done.params.turn.error.message).toMatch(/idle timeout/);
  });
});

describe('mock Responses API on its own', () => {
  const userMsg = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
  const req = (input: unknown[], extra: Partial<MockRequest> = {}): MockRequest => ({
    body: { input },
    lastUserText: null,
    functionCallOutputs: [],
    isStructured: false,
    isToolFollowUp: false,
    goalObjective: null,
    goalTurns: 0,
    lastToolName: null,
    receivedAtMs: 0,
    repeat: 0,
    ...extra,
  });
  const post = (body: unknown) =>
    fetch(`${mock.baseUrl}/responses`, { method: 'POST', body: JSON.stringify(body) });

  it('picks the reply from the last real user message', async () => {
    await post({ stream: true, input: [userMsg('[exec ls [a]] first'), userMsg('<environment_context>cwd</environment_context>')] }).then((r) => r.text());
    const seen = mock.requests.at(-1)!;
    expect(seen.lastUserText).toBe('[exec ls [a]] first');
    expect(defaultReply(seen)).toEqual({ kind: 'exec', cmd: 'ls [a]', escalate: true });
    expect(defaultReply(req([], { lastUserText: '[exec-sandboxed pwd]' }))).toMatchObject({ cmd: 'pwd', escalate: false });
    expect(defaultReply(req([], { lastUserText: 'x [slow]' }))).toEqual({ kind: 'text', text: 'Done: x [slow]', delayMs: 1500 });
    expect(defaultReply(req([], { lastUserText: 'x [slow 2s]' }))).toMatchObject({ kind: 'text', delayMs: 2000 });
    expect(defaultReply(req([], { lastUserText: 'x [slow 250ms]' }))).toMatchObject({ kind: 'text', delayMs: 250 });
    expect(defaultReply(req([], { lastUserText: 'x [fail 2x]', repeat: 1 }))).toMatchObject({ kind: 'httpError', status: 500 });
    expect(defaultReply(req([], { lastUserText: 'x [fail 2x]', repeat: 2 }))).toMatchObject({ kind: 'text' });
    expect(defaultReply(req([], { lastUserText: 'x [usage-limit 5s]', repeat: 1 }))).toMatchObject({ kind: 'text' });
    expect(defaultReply(req([], { lastUserText: 'x [silent-once]' }))).toEqual({ kind: 'silent' });
    expect(defaultReply(req([], { lastUserText: 'x [silent-once]', repeat: 1 }))).toMatchObject({ kind: 'text' });
    expect(defaultReply(req([], { lastUserText: 'plan', isStructured: true }))).toEqual({ kind: 'json', value: { ok: true } });
    const followUp = req([userMsg('[exec echo hi]'), { type: 'function_call_output', call_id: 'c1', output: 'hi' }], {
      functionCallOutputs: [{ callId: 'c1', output: 'hi' }],
      isToolFollowUp: true,
    });
    expect(defaultReply(followUp)).toEqual({ kind: 'text', text: 'Command finished: hi' });
    expect(defaultReply({ ...followUp, lastUserText: '[exec echo hi] [then-slow 2s]' })).toEqual({ kind: 'text', text: 'Command finished: hi', delayMs: 2000 });
    await post({ stream: true, input: followUp.body.input }).then((r) => r.text());
    expect(mock.requests.at(-1)).toMatchObject({ isToolFollowUp: true, functionCallOutputs: [{ callId: 'c1', output: 'hi' }] });
  });

  it('goal mode: reads the objective and the goal turns from the input; `[goal-turns N]` completes the goal in turn N', async () => {
    const goalTurn = { type: 'message', role: 'user', content: [{ type: 'input_text', text: '<codex_internal_context source="goal">\nContinue working toward the active thread goal.' }] };
    const objective = { type: 'function_call_output', call_id: 'g', name: 'goal_objective', output: 'ship it [goal-turns 2]' };
    await post({ stream: true, input: [userMsg('start'), objective, goalTurn] }).then((r) => r.text());
    const first = mock.requests.at(-1)!;
    expect(first).toMatchObject({ goalObjective: 'ship it [goal-turns 2]', goalTurns: 1, lastToolName: null });
    expect(defaultReply(first)).toEqual({ kind: 'text', text: 'Working toward the goal (turn 1)' });
    const second = req([], { goalObjective: 'ship it [goal-turns 2]', goalTurns: 2 });
    expect(defaultReply(second)).toEqual({ kind: 'tool', name: 'update_goal', arguments: { status: 'complete' } });
    const afterUpdate = [userMsg('start'), objective, goalTurn, goalTurn, { type: 'function_call', call_id: 'u', name: 'update_goal', arguments: '{}' }, { type: 'function_call_output', call_id: 'u', output: '{}' }];
    await post({ stream: true, input: afterUpdate }).then((r) => r.text());
    expect(mock.requests.at(-1)).toMatchObject({ goalTurns: 2, lastToolName: 'update_goal' });
    expect(defaultReply(mock.requests.at(-1)!)).toEqual({ kind: 'text', text: 'Goal complete: ship it [goal-turns 2]' });
    expect(defaultReply(req([], { goalObjective: 'forever', goalTurns: 9 }))).toEqual({ kind: 'text', text: 'Working toward the goal (turn 9)' });
  });

  it('serves /v1/models, 404s the rest, and closes despite an open silent stream', async () => {
    const own = await startMockResponsesServer();
    expect(await (await fetch(`${own.baseUrl}/models`)).json()).toEqual({ models: [] });
    expect((await fetch(`${own.baseUrl}/nope`)).status).toBe(404);
    const silent = await fetch(`${own.baseUrl}/responses`, { method: 'POST', body: JSON.stringify({ input: [userMsg('[silent]')] }) });
    expect(silent.status).toBe(200);
    await own.close();
    await expect(silent.text()).rejects.toThrow();
  });
});
