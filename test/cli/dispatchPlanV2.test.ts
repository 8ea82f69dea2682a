// v2 plans through the built CLI against the real codex app-server and the mock model: the
// loop's scheduler orders by `after`, limits concurrency, retries transient failures only,
// blocks dependents of a failure, pauses on the usage limit and resumes, and re-runs are idempotent.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { runBuiltCli } from '../support/runBuiltCli.js';

let env: RealCodexEnv;
let home: string;
let cliEnv: Record<string, string>;

interface Attempt {
  n: number;
  turnId: string | null;
  outcome: string;
  failure: string | null;
  startedAtMs: number;
  endedAtMs: number | null;
}
interface Row {
  id: string;
  status: string;
  attempts: Attempt[];
  tokens: number | null;
  durationMs: number | null;
  worktree: null;
  branch: null;
  diffstat: null;
  finalMessage: string | null;
  error: string | null;
}

async function run(plan: Record<string, unknown>, args: string[] = []): Promise<{ code: number; rows: Map<string, Row>; stderr: string }> {
  const file = join(home, `${String(plan.id)}.json`);
  await writeFile(file, JSON.stringify({ version: 2, ...plan }));
  const result = await runBuiltCli(['dispatch', '--plan', file, '--json', ...args], { env: cliEnv });
  const doc = JSON.parse(result.stdout) as { results: Row[] };
  return { code: result.code ?? -1, rows: new Map(doc.results.map((r) => [r.id, r])), stderr: result.stderr };
}

const turn = (id: string, prompt: string, extra: Record<string, unknown> = {}) => ({ id, workspace: 'api', prompt: `${prompt} ${id} ${Math.random()}`, thread: 'new', ...extra });

beforeAll(async () => {
  env = await startRealCodexEnv();
  home = await mkdtemp(join(tmpdir(), 'cm-plan-v2-home-'));
  const api = await env.workspace('api');
  cliEnv = { ...env.home.env, CM_SUPERVISOR_HOME: home };
  expect((await runBuiltCli(['workspace', 'add', api, '--name', 'api'], { env: cliEnv })).code).toBe(0);
});
afterAll(async () => {
  await env?.cleanup();
  await rm(home, { recursive: true, force: true });
});

describe('dispatch of a v2 plan (built CLI, real codex)', () => {
  it('starts B only after A completed, and reports each action with attempts, tokens and duration', async () => {
    const { code, rows } = await run({ id: 'order', actions: [turn('b', '[slow 300ms] second', { after: ['a'] }), turn('a', '[slow 300ms] first')] });
    expect(code).toBe(0);
    const a = rows.get('a')!;
    const b = rows.get('b')!;
    expect([a.status, b.status]).toEqual(['completed', 'completed']);
    expect(b.attempts[0]!.startedAtMs).toBeGreaterThanOrEqual(a.attempts[0]!.endedAtMs!);
    expect(a).toMatchObject({ worktree: null, branch: null, diffstat: null, error: null, finalMessage: expect.stringMatching(/^Done: \[slow 300ms\] first a/) });
    expect(a.attempts).toEqual([expect.objectContaining({ n: 1, outcome: 'completed', failure: null })]);
    expect(a.tokens).toBeGreaterThan(0);
    expect(a.durationMs).toBeGreaterThanOrEqual(300);
  });

  it('runs independent actions together without a limit and one at a time with concurrency 1', async () => {
    const actions = ['x', 'y', 'z'].map((id) => turn(id, '[slow 600ms] parallel'));
    const overlapping = (rows: Map<string, Row>) => {
      const spans = [...rows.values()].map((r) => r.attempts[0]!);
      return spans.some((s) => spans.some((o) => o !== s && o.startedAtMs < s.endedAtMs! && s.startedAtMs < o.endedAtMs!));
    };
    const free = await run({ id: 'free', actions });
    expect(free.code).toBe(0);
    expect(overlapping(free.rows)).toBe(true);
    const serial = await run({ id: 'serial', concurrency: 1, actions: actions.map((a) => ({ ...a, prompt: `${a.prompt} again` })) });
    expect(serial.code).toBe(0);
    expect(overlapping(serial.rows)).toBe(false);
  });

  it('retries a transient failure (HTTP 500, a cut stream); a permanent failure (HTTP 400) is not retried and blocks its dependents', async () => {
    const { code, rows } = await run({
      id: 'failures',
      actions: [
        turn('flaky', '[fail 1x] flaky', { retry: { attempts: 2, backoffSec: 0.2 } }),
        turn('broken', '[fail400] broken', { retry: { attempts: 2, backoffSec: 0.2 } }),
        turn('cut', '[cut] cut', { retry: { attempts: 1, backoffSec: 0.2 } }),
        turn('after-broken', 'dependent', { after: ['broken'] }),
        turn('after-that', 'transitive', { after: ['after-broken'] }),
      ],
    });
    expect(code).toBe(1);
    expect(rows.get('flaky')).toMatchObject({ status: 'completed', attempts: [{ n: 1, outcome: 'failed', failure: 'transient' }, { n: 2, outcome: 'completed' }] });
    expect(rows.get('broken')).toMatchObject({ status: 'failed', attempts: [{ n: 1, outcome: 'failed', failure: 'permanent' }] });
    // The mock cuts every request of this prompt: retried once, then it fails for good.
    expect(rows.get('cut')).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^stream disconnected before completion/),
      attempts: [{ n: 1, outcome: 'failed', failure: 'transient' }, { n: 2, outcome: 'failed', failure: 'transient' }],
    });
    expect(rows.get('after-broken')).toMatchObject({ status: 'blocked', attempts: [], error: 'blocked: broken did not complete' });
    expect(rows.get('after-that')).toMatchObject({ status: 'blocked', attempts: [] });
  });

  it('pauses an action on the usage limit and resumes it by itself at the reset time', async () => {
    const started = Date.now();
    const { code, rows } = await run({ id: 'quota', actions: [turn('q', '[usage-limit 3s] quota'), turn('next', 'after quota', { after: ['q'] })] });
    expect(code).toBe(0);
    const q = rows.get('q')!;
    expect(q.status).toBe('completed');
    expect(q.attempts.map((a) => [a.outcome, a.failure])).toEqual([
      ['failed', 'quota'],
      ['completed', null],
    ]);
    // Resumed at the reset (whole seconds), not at once.
    expect(q.attempts[1]!.startedAtMs - started).toBeGreaterThanOrEqual(1_900);
    expect(rows.get('next')!.status).toBe('completed');
  });

  it('does not send completed actions again when the same plan is dispatched again; --force starts it over; --retry-failed sends only the failed and blocked ones', async () => {
    const plan = { id: 'again', actions: [turn('one', 'once'), turn('two', 'twice', { after: ['one'] })] };
    const first = await run(plan);
    expect(first.code).toBe(0);
    const requests = env.mock.requests.length;
    const second = await run(plan);
    expect(second.code).toBe(0);
    // The run as recorded: the same turns, nothing sent.
    expect([...second.rows.values()].map((r) => [r.status, r.attempts.length])).toEqual([
      ['completed', 1],
      ['completed', 1],
    ]);
    expect(second.rows.get('one')!.attempts[0]).toEqual(first.rows.get('one')!.attempts[0]);
    expect(env.mock.requests.length).toBe(requests);
    const forced = await run(plan, ['--force']);
    expect(forced.code).toBe(0);
    expect(forced.rows.get('one')!.attempts[0]!.turnId).not.toBe(first.rows.get('one')!.attempts[0]!.turnId);
    expect(env.mock.requests.length).toBe(requests + 2);

    const broken = { id: 'again-broken', actions: [turn('ok', 'fine'), turn('bad', '[fail 1x] bad'), turn('later', 'later', { after: ['bad'] })] };
    const failed = await run(broken);
    expect([...failed.rows.values()].map((r) => r.status)).toEqual(['completed', 'failed', 'blocked']);
    const retried = await run(broken, ['--retry-failed']);
    expect(retried.code).toBe(0);
    expect([...retried.rows.values()].map((r) => [r.status, r.attempts.length])).toEqual([
      ['completed', 1],
      ['completed', 2],
      ['completed', 1],
    ]);
  });

  it('interrupts a turn whose thread used more tokens than its budget', async () => {
    const { code, rows } = await run({ id: 'budget', actions: [turn('big', '[exec-sandboxed true] [then-slow 5s] spend', { budget: { tokens: 50 } })] });
    expect(code).toBe(1);
    const big = rows.get('big')!;
    expect(big).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/^over its budget of 50 tokens \(used \d+\); the turn was interrupted$/) });
    expect(big.durationMs).toBeLessThan(5_000);
  });

  it('waits for a goal action until its goal is complete (3 goal turns), not for its first turn', async () => {
    const { code, rows } = await run({ id: 'goal', actions: [turn('green', 'start', { goal: 'the tests pass [goal-turns 3]' }), turn('after', 'then', { after: ['green'] })] });
    expect(code).toBe(0);
    const green = rows.get('green')!;
    expect(green).toMatchObject({ status: 'completed', error: null, finalMessage: 'Goal complete: the tests pass [goal-turns 3]', attempts: [{ n: 1, outcome: 'completed' }] });
    expect(green.tokens).toBeGreaterThan(0);
    expect(rows.get('after')!.attempts[0]!.startedAtMs).toBeGreaterThanOrEqual(green.attempts[0]!.endedAtMs!);
  });

  it('--timeout ends the run: the running turn is interrupted and its dependents end timeout', async () => {
    const { code, rows } = await run({ id: 'late', actions: [turn('long', '[slow 20s] long'), turn('then', 'then', { after: ['long'] })] }, ['--timeout', '1']);
    expect(code).toBe(1);
    expect(rows.get('long')).toMatchObject({ status: 'timeout', error: 'timed out after 1s; the turn was interrupted' });
    expect(rows.get('then')).toMatchObject({ status: 'timeout', error: 'timed out after 1s before it started' });
  });
});
