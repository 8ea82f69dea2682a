import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatReply } from '../../src/core/api/supervisorApi.js';
import { ChatService } from '../../src/core/chat/chatService.js';
import { Planner } from '../../src/core/chat/planner.js';
import { Supervisor } from '../../src/core/loop/supervisor.js';
import { defaultReply, type MockReply, type MockRequest } from '../../src/core/mockModel/mockResponsesServer.js';
import type { SupervisorState } from '../../src/core/state/model.js';
import { openSignals } from '../../src/core/state/selectors.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';

const WAIT_MS = 30_000;
let env: RealCodexEnv;
let supervisor: Supervisor;
let chat: ChatService;
let planner: Planner;
let unfollow: () => void;
let api: string;
let web: string;
let plannerDir: string;
/** What the mock answers to the planner's structured-output requests, in order. */
const plannerAnswers: MockReply[] = [];

function reply(req: MockRequest): MockReply {
  if (req.isStructured) return plannerAnswers.shift() ?? { kind: 'json', value: { unexpected: true } };
  return defaultReply(req);
}

const structured = () => env.mock.requests.filter((r) => r.isStructured);
const texts = (r: ChatReply) => r.messages.map((m) => m.text).join('\n');
const errorOf = (r: ChatReply) => r.messages.find((m) => m.role === 'error')?.text ?? '';
const jobsDone = (s: SupervisorState, keys: string[]) => keys.every((k) => s.jobs[k]?.status === 'completed');

beforeAll(async () => {
  env = await startRealCodexEnv({ reply });
  api = await env.workspace('api');
  web = await env.workspace('web');
  plannerDir = join(await env.workspace('home'), 'planner');
  supervisor = new Supervisor({
    workspaces: [
      { name: 'api', path: api },
      { name: 'web', path: web },
    ],
    codexBin: env.codexBin,
    env: env.home.env,
    pollIntervalMs: 200,
    plannerDir,
  });
  await supervisor.start();
  planner = new Planner({ connection: () => supervisor.plannerConnection(), turnTimeoutMs: WAIT_MS });
  chat = new ChatService({
    api: supervisor,
    planner,
    emit: (event) => supervisor.recordChat(event.message),
  });
  unfollow = chat.follow();
});

afterAll(async () => {
  unfollow?.();
  await supervisor?.stop();
  await env?.cleanup();
});

describe('chat against the real codex app-server', () => {
  it('slash commands: help, status, feed, usage errors, /dispatch to two workspaces, @mention, /ack', async () => {
    const help = await chat.send('/help');
    expect(help.status).toBe('ok');
    expect(help.messages.map((m) => m.role)).toEqual(['user', 'supervisor']);
    expect(texts(help)).toContain('/dispatch <ws>[,<ws>…] <prompt>');

    const status = await chat.send('/status');
    expect(texts(status)).toContain(`workspace api (${api}): app-server ready, no threads`);
    expect(texts(status)).toContain(`workspace web (${web}): app-server ready`);
    expect(texts(await chat.send('/feed needs-input'))).toContain('nothing needs your input');

    for (const [line, expected] of [
      ['/dispatch', 'usage: /dispatch <ws>[,<ws>…] <prompt>'],
      ['/dispatch api', 'usage: /dispatch <ws>[,<ws>…] <prompt>'],
      ['/frobnicate', 'unknown command /frobnicate; known: /dispatch, /status'],
      ['/dispatch api,wbe go', 'unknown workspace "wbe" (did you mean "web"?); configured: api, web'],
      ['@nope hi', 'unknown workspace "nope"'],
      ['/status nope', 'unknown workspace "nope"'],
      ['/ack s999', 'no signal with id "s999"'],
      ['/approve', 'no approval is waiting'],
    ] as const) {
      const r = await chat.send(line);
      expect(r.status, line).toBe('invalid');
      expect(errorOf(r), line).toContain(expected);
      expect(r.dispatched).toBeNull();
    }

    const dispatched = await chat.send('/dispatch api,web do X');
    expect(dispatched.status).toBe('ok');
    expect(dispatched.dispatched!.results.map((r) => [r.workspace, r.status])).toEqual([
      ['api', 'dispatched'],
      ['web', 'dispatched'],
    ]);
    expect(texts(dispatched)).toMatch(/dispatched plan chat-\S+:\n {2}api \(api\): turn started on thread \S+\n {2}web \(web\): turn started/);
    const keys = dispatched.dispatched!.results.map((r) => r.jobKey);
    const done = await supervisor.waitUntil((s) => jobsDone(s, keys) && s.chat.filter((m) => m.role === 'result').length >= 2, WAIT_MS);
    expect(done.chat.filter((m) => m.role === 'result').map((m) => m.text).sort()).toEqual(['api (api) completed: Done: do X', 'web (web) completed: Done: do X']);

    // A mention continues the workspace's latest thread: the one /dispatch just used.
    const mention = await chat.send('@api hello');
    const apiThread = dispatched.dispatched!.results[0]!.threadId;
    expect(mention.dispatched!.results).toEqual([expect.objectContaining({ workspace: 'api', status: 'dispatched', threadId: apiThread })]);
    const after = await supervisor.waitUntil((s) => s.chat.some((m) => m.text === 'api (api) completed: Done: hello'), WAIT_MS);
    expect(after.jobs[mention.dispatched!.results[0]!.jobKey]!.status).toBe('completed');

    const statusNow = texts(await chat.send('/status api'));
    expect(statusNow).toContain(`thread ${apiThread} "do X" idle`);
    expect(statusNow).not.toContain('workspace web');
    const signal = openSignals(after).find((s) => s.kind === 'completed')!;
    expect(statusNow).toContain(`${signal.id} completed`);
    const ack = await chat.send(`/ack ${signal.id}`);
    expect(ack.status).toBe('ok');
    expect(texts(ack)).toContain(`acknowledged ${signal.id}`);
    expect((await supervisor.snapshot()).signals[signal.id]!.acknowledgedAtMs).not.toBeNull();
  });

  it('approvals of chat work come back with their key; /approve takes the oldest, /decline the selected one', async () => {
    const first = await chat.send(`@web [exec touch ${web}/approved.txt] make the marker`);
    expect(first.status).toBe('ok');
    const asked = await supervisor.waitUntil((s) => s.chat.some((m) => m.text.includes('needs approval') && m.text.includes('approved.txt')), WAIT_MS);
    const key = Object.values(asked.pendingApprovals)[0]!.key;
    expect(asked.chat.find((m) => m.text.includes('approved.txt') && m.role === 'supervisor' && m.text.includes('needs approval'))!.text).toContain(
      `Approval ${key}: press 3, or /approve ${key} or /decline ${key}`,
    );
    expect(texts(await chat.send('/feed needs-input'))).toContain(`[${key}]`);

    const approved = await chat.send('/approve');
    expect(approved.status).toBe('ok');
    expect(texts(approved)).toContain(`approved \`touch ${web}/approved.txt\` on web (approval ${key}, the oldest pending one)`);
    await supervisor.waitUntil((s) => s.jobs[first.dispatched!.results[0]!.jobKey]?.status === 'completed', WAIT_MS);
    expect(existsSync(join(web, 'approved.txt'))).toBe(true);

    const second = await chat.send(`@web [exec touch ${web}/declined.txt] try again`);
    const pending = await supervisor.waitUntil((s) => Object.keys(s.pendingApprovals).length === 1, WAIT_MS);
    const selected = Object.keys(pending.pendingApprovals)[0]!;
    const declined = await chat.send('/decline', { approvalKey: selected });
    expect(texts(declined)).toContain(`declined \`touch ${web}/declined.txt\` on web (approval ${selected})`);
    await supervisor.waitUntil((s) => s.jobs[second.dispatched!.results[0]!.jobKey]?.status === 'completed', WAIT_MS);
    expect(existsSync(join(web, 'declined.txt'))).toBe(false);
  });

  it('a free-form request becomes a validated proposal; confirmed, both workspaces run their turns', async () => {
    plannerAnswers.push({
      kind: 'json',
      value: {
        version: 1,
        id: null,
        actions: [
          { id: 'api-tests', workspace: 'api', prompt: 'Run the api tests', thread: 'new', model: null, effort: null, approvalPolicy: null, sandbox: null },
          { id: 'web-lint', workspace: 'web', prompt: 'Fix the web lint', thread: null, model: null, effort: null, approvalPolicy: null, sandbox: null },
        ],
      },
    });
    const before = structured().length;
    const proposed = await chat.send('run the api tests and fix the lint in web');
    expect(proposed.status).toBe('ok');
    const proposal = proposed.proposal!;
    expect(proposal.plan).toMatchObject({ id: proposal.id, actions: [{ workspace: 'api', thread: 'new' }, { workspace: 'web', thread: 'latest' }] });
    const shown = proposed.messages.find((m) => m.role === 'planner')!;
    expect(shown).toMatchObject({ proposalId: proposal.id, plan: proposal.plan });
    expect(shown.text).toContain(`proposed plan ${proposal.id}, 2 actions:`);
    expect(shown.text).toContain('1. api · new thread · "Run the api tests"  [api-tests]');
    expect(shown.text).toContain('2. web · latest thread (new if none) · "Fix the web lint"  [web-lint]');

    // One structured request: role instructions, the request with a state digest, the strict schema.
    expect(structured().length).toBe(before + 1);
    const request = structured().at(-1)!;
    expect(request.lastUserText).toContain('Request: run the api tests and fix the lint in web');
    expect(request.lastUserText).toContain(`- workspace api (${api}): app-server ready, 1 thread(s)`);
    expect(JSON.stringify(request.body)).toContain('You are the planner of cm-supervisor');
    expect(JSON.stringify(request.body.input)).toContain(plannerDir);
    expect(request.body.text.format).toMatchObject({ type: 'json_schema', strict: true });
    expect(request.body.text.format.schema.properties.actions.items.required).toContain('sandbox');
    // The planner's thread is its own: it never shows up among the workspaces' threads.
    expect(Object.values((await supervisor.snapshot()).threads).every((t) => t.workspace === 'api' || t.workspace === 'web')).toBe(true);

    const confirmed = await chat.confirm(proposal.id);
    expect(confirmed.status).toBe('ok');
    expect(confirmed.dispatched!.planId).toBe(proposal.id);
    expect(confirmed.dispatched!.results.map((r) => [r.id, r.status])).toEqual([
      ['api-tests', 'dispatched'],
      ['web-lint', 'dispatched'],
    ]);
    const keys = confirmed.dispatched!.results.map((r) => r.jobKey);
    const done = await supervisor.waitUntil((s) => jobsDone(s, keys) && s.chat.filter((m) => m.proposalId === proposal.id && m.role === 'result').length === 2, WAIT_MS);
    expect(done.chat.filter((m) => m.proposalId === proposal.id && m.role === 'result').map((m) => m.text).sort()).toEqual([
      'api (api-tests) completed: Done: Run the api tests',
      'web (web-lint) completed: Done: Fix the web lint',
    ]);
    const prompts = env.mock.requests.filter((r) => !r.isStructured).map((r) => r.lastUserText);
    expect(prompts).toEqual(expect.arrayContaining(['Run the api tests', 'Fix the web lint']));

    const again = await chat.confirm(proposal.id);
    expect(again.status).toBe('invalid');
    expect(errorOf(again)).toBe(`proposal ${proposal.id} was already confirmed`);
  });

  it('an invalid planner answer is sent back once with its problems; a valid second answer is proposed; edits are validated', async () => {
    plannerAnswers.push(
      { kind: 'json', value: { version: 1, id: null, actions: [{ id: 'x', workspace: 'nope', prompt: 'p', thread: null, model: null, effort: null, approvalPolicy: null, sandbox: null }] } },
      { kind: 'json', value: { version: 1, id: null, actions: [{ id: 'x', workspace: 'api', prompt: 'p', thread: null, model: null, effort: null, approvalPolicy: null, sandbox: null }] } },
    );
    const before = structured().length;
    const proposed = await chat.send('do p somewhere');
    expect(proposed.status).toBe('ok');
    expect(structured().length).toBe(before + 2);
    const retry = structured().at(-1)!;
    expect(retry.lastUserText).toContain('Your answer was not a valid cm-supervisor plan');
    expect(retry.lastUserText).toContain('actions[0].workspace: unknown workspace "nope"');
    expect(texts(proposed)).toContain("the planner's first answer was invalid; corrected after one retry");
    const id = proposed.proposal!.id;

    const badEdit = await chat.confirm(id, { version: 1, actions: [{ id: 'x', workspace: 'nowhere', prompt: 'p' }] });
    expect(badEdit.status).toBe('invalid');
    expect(errorOf(badEdit)).toContain('unknown workspace "nowhere"');
    expect(chat.proposal(id)!.status).toBe('pending');
    const rejected = await chat.reject(id);
    expect(texts(rejected)).toContain(`proposal ${id} rejected; nothing was dispatched`);
    expect(chat.proposal(id)!.status).toBe('rejected');
  });

  it('/plan FILE proposes the file\'s plan (invalid files are explained); confirmed, it is dispatched', async () => {
    const dir = await env.workspace('plans');
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ version: 1, actions: [{ id: 'a', workspace: 'apj', prompt: 'x' }] }));
    const bad = await chat.send(`/plan ${join(dir, 'bad.json')}`);
    expect(bad.status).toBe('invalid');
    expect(errorOf(bad)).toContain('actions[0].workspace: unknown workspace "apj" (did you mean "api"?)');

    await writeFile(join(dir, 'good.json'), JSON.stringify({ version: 1, id: 'from-file', actions: [{ id: 'one', workspace: 'web', prompt: 'from a file', thread: 'new' }] }));
    const proposed = await chat.send(`/plan ${join(dir, 'good.json')}`);
    expect(proposed.status).toBe('ok');
    expect(texts(proposed)).toContain(`proposal ${proposed.proposal!.id}: plan from-file from ${join(dir, 'good.json')}, 1 action:\n  1. web · new thread · "from a file"  [one]`);
    const confirmed = await chat.confirm(proposed.proposal!.id);
    expect(confirmed.dispatched!.planId).toBe('from-file');
    await supervisor.waitUntil((s) => s.chat.some((m) => m.text === 'web (one) completed: Done: from a file'), WAIT_MS);
  });

  it('the planner thread is resumed by its id after its app-server died', async () => {
    const threadId = planner.threadId!;
    expect(threadId).toEqual(expect.any(String));
    const connection = await supervisor.plannerConnection();
    const gone = new Promise<void>((resolve) => connection.on((e) => e.type === 'disconnected' && resolve()));
    connection.kill('SIGKILL');
    await gone;
    plannerAnswers.push({ kind: 'json', value: { version: 1, id: null, actions: [{ id: 'y', workspace: 'web', prompt: 'q', thread: null, model: null, effort: null, approvalPolicy: null, sandbox: null }] } });
    const proposed = await chat.send('do q in web');
    expect(proposed.status).toBe('ok');
    expect(await supervisor.plannerConnection()).not.toBe(connection);
    expect(planner.threadId).toBe(threadId);
  });

  it('a planner answer that is invalid twice is a clear error with the problems, after exactly one retry', async () => {
    plannerAnswers.push(
      { kind: 'text', text: 'You should run the tests.' },
      { kind: 'json', value: { version: 1, id: null, actions: [{ id: 'x', workspace: 'nope', prompt: 'p', thread: null, model: null, effort: null, approvalPolicy: null, sandbox: null }] } },
    );
    const before = structured().length;
    const jobs = Object.keys((await supervisor.snapshot()).jobs).length;
    const failed = await chat.send('do something vague');
    expect(failed.status).toBe('failed');
    expect(failed.proposal).toBeNull();
    expect(structured().length).toBe(before + 2);
    expect(structured().at(-1)!.lastUserText).toContain('(plan): not JSON: "You should run the tests."');
    const error = errorOf(failed);
    expect(error).toContain("the planner's answer was not a valid plan, also after one retry (1 problem); nothing was dispatched");
    expect(error).toContain('actions[0].workspace: unknown workspace "nope"');
    expect(Object.keys((await supervisor.snapshot()).jobs).length).toBe(jobs);
  });
});
