import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultReply, type MockReply, type MockRequest } from '../../src/core/mockModel/mockResponsesServer.js';
import { orderedPlanReply } from '../../src/core/mockModel/scriptedPlanner.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { runBuiltCli } from '../support/runBuiltCli.js';

let env: RealCodexEnv;
let home: string;
let cliEnv: Record<string, string>;
/** What the mock answers to the planner's structured-output requests, in order. */
const plannerAnswers: MockReply[] = [];

const TWO_WORKSPACE_PLAN = {
  version: 1,
  id: null,
  actions: [
    { id: 'api-tests', workspace: 'api', prompt: 'Run the api tests', thread: 'new', model: null, effort: null, approvalPolicy: null, sandbox: null },
    { id: 'web-lint', workspace: 'web', prompt: 'Fix the web lint', thread: null, model: null, effort: null, approvalPolicy: null, sandbox: null },
  ],
};

function reply(req: MockRequest): MockReply {
  if (req.isStructured) return plannerAnswers.shift() ?? orderedPlanReply(req) ?? { kind: 'json', value: { unexpected: true } };
  return defaultReply(req);
}

const chat = (args: string[]) => runBuiltCli(['chat', ...args], { env: cliEnv });

beforeAll(async () => {
  env = await startRealCodexEnv({ reply });
  home = await mkdtemp(join(tmpdir(), 'cm-chat-home-'));
  cliEnv = { ...env.home.env, CM_SUPERVISOR_HOME: home };
  for (const name of ['api', 'web']) {
    const path = await env.workspace(name);
    expect((await runBuiltCli(['workspace', 'add', path, '--name', name], { env: cliEnv })).code).toBe(0);
  }
});
afterAll(async () => {
  await env?.cleanup();
  await rm(home, { recursive: true, force: true });
});

describe('cm-supervisor chat (built CLI, real codex)', () => {
  it('a slash command prints its answer; a malformed one is a usage error (exit 2)', async () => {
    const status = await chat(['/status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/workspace api \(.*\): app-server ready/);
    expect(status.stdout).toMatch(/workspace web \(.*\): app-server ready/);

    const bad = await chat(['/dispatch api']);
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({ code: 2, stderr: expect.stringContaining('cm-supervisor: usage: /dispatch <ws>[,<ws>…] <prompt>') });
  });

  it('a free-form request with --yes: planned, dispatched to both workspaces, results printed', async () => {
    plannerAnswers.push({ kind: 'json', value: TWO_WORKSPACE_PLAN });
    const r = await chat(['run the api tests and fix the web lint', '--yes', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.status).toBe('ok');
    expect(doc.proposal).toMatchObject({ status: 'confirmed', plan: { id: doc.proposal.id, actions: [{ workspace: 'api' }, { workspace: 'web' }] } });
    expect(doc.results).toEqual([
      expect.objectContaining({ id: 'api-tests', workspace: 'api', status: 'completed', finalMessage: 'Done: Run the api tests' }),
      expect.objectContaining({ id: 'web-lint', workspace: 'web', status: 'completed', finalMessage: 'Done: Fix the web lint' }),
    ]);
    const said = doc.messages.map((m: { role: string; text: string }) => `${m.role}: ${m.text}`).join('\n');
    expect(said).toContain('planner: proposed plan');
    expect(said).toContain('result: api (api-tests) completed: Done: Run the api tests');
    expect(said).toContain('result: web (web-lint) completed: Done: Fix the web lint');
  });

  it('without --yes and without a terminal the plan is shown and nothing is dispatched', async () => {
    plannerAnswers.push({ kind: 'json', value: TWO_WORKSPACE_PLAN });
    const turns = env.mock.requests.filter((q) => !q.isStructured).length;
    const r = await chat(['run the api tests and fix the web lint']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1. api · new thread · "Run the api tests"');
    expect(r.stdout).toContain('2. web · latest thread (new if none) · "Fix the web lint"');
    expect(r.stderr).toContain('nothing was dispatched: run again with --yes');
    expect(env.mock.requests.filter((q) => !q.isStructured).length).toBe(turns);
  });

  it('a request that implies an order is proposed as a v2 plan: the later action comes after the earlier one', async () => {
    const turns = env.mock.requests.filter((q) => !q.isStructured).length;
    const r = await chat(['first build the api, then run the web tests']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1. api · latest thread (new if none) · "Build the api"  [build]');
    expect(r.stdout).toContain('2. web · latest thread (new if none) · "Run the web tests" (after build)  [run]');
    expect(r.stderr).toContain('nothing was dispatched');
    // The planner was told when to use "after", and asked for a version 2 plan.
    const request = env.mock.requests.filter((q) => q.isStructured).at(-1)!;
    expect(JSON.stringify(request.body)).toContain('the later action lists the ids of the earlier ones in \\"after\\"');
    expect(request.body.text.format.schema.properties.version).toMatchObject({ enum: [2] });
    expect(env.mock.requests.filter((q) => !q.isStructured).length).toBe(turns);

    const json = await chat(['first build the api, then run the web tests', '--json']);
    expect(JSON.parse(json.stdout).proposal.plan).toMatchObject({ version: 2, actions: [{ id: 'build', workspace: 'api' }, { id: 'run', workspace: 'web', after: ['build'] }] });
  });

  it('a v2 plan confirmed with --yes: the chat says the run started, waits for it, and reports each action in order', async () => {
    const r = await chat(['first build the api, then run the web tests', '--yes', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const said: string[] = doc.messages.map((m: { role: string; text: string }) => `${m.role}: ${m.text}`);
    expect(said).toContain(`supervisor: plan ${doc.proposal.id} started: 2 actions, 1 ready, 1 waiting on build`);
    expect(said.join('\n')).not.toContain('turn started on thread');
    const build = said.indexOf('result: api (build) completed: Done: Build the api');
    const run = said.indexOf('result: web (run) completed: Done: Run the web tests');
    expect(build).toBeGreaterThan(-1);
    expect(run).toBeGreaterThan(build);
    expect(said.at(-1)).toBe(`supervisor: plan ${doc.proposal.id} ended: 2 completed`);
    expect(doc.results).toEqual([
      expect.objectContaining({ id: 'build', workspace: 'api', status: 'completed', finalMessage: 'Done: Build the api' }),
      expect.objectContaining({ id: 'run', workspace: 'web', status: 'completed', finalMessage: 'Done: Run the web tests' }),
    ]);
  });

  it("--timeout bounds a confirmed v2 plan's run: the hung action and the one after it end `timeout`, exit 1", async () => {
    const r = await chat(['first hang [silent] in the api, then run the web tests', '--yes', '--timeout', '2', '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.results).toEqual([
      expect.objectContaining({ id: 'hang', workspace: 'api', status: 'timeout' }),
      expect.objectContaining({ id: 'run', workspace: 'web', status: 'timeout' }),
    ]);
  });

  it('a planner answer invalid twice exits 1 with the problems', async () => {
    const bad = { kind: 'json', value: { ...TWO_WORKSPACE_PLAN, actions: [{ ...TWO_WORKSPACE_PLAN.actions[0], workspace: 'nope' }] } } as const;
    plannerAnswers.push(bad, bad);
    const r = await chat(['do it', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the planner's answer was not a valid plan, also after one retry");
    expect(r.stderr).toContain('actions[0].workspace: unknown workspace "nope"');
  });
});
