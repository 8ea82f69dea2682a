// Plans as untrusted input, through the built CLI against the real codex binary: fields that
// widen what an agent may do need the opt-in; stdin is streamed with the limit applied while
// reading; bytes that are not UTF-8 and symbolic link loops are named as such.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultReply, type MockReply, type MockRequest } from '../../src/core/mockModel/mockResponsesServer.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { CLI, runBuiltCli } from '../support/runBuiltCli.js';

let env: RealCodexEnv;
let home: string;
let plans: string;
let api: string;
let outside: string;
let cliEnv: Record<string, string>;
/** What the mock answers to the planner's structured-output requests, in order. */
const plannerAnswers: MockReply[] = [];

function reply(req: MockRequest): MockReply {
  if (req.isStructured) return plannerAnswers.shift() ?? { kind: 'json', value: { unexpected: true } };
  return defaultReply(req);
}

async function writePlan(name: string, plan: unknown): Promise<string> {
  const file = join(plans, name);
  await writeFile(file, typeof plan === 'string' || plan instanceof Buffer ? plan : JSON.stringify(plan));
  return file;
}

const cli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) =>
  runBuiltCli(args, { env: { ...cliEnv, ...options.env }, cwd: plans, ...(options.input === undefined ? {} : { input: options.input }) });

/** The action the issue ran: a command writing outside its workspace, with no sandbox and no approval. */
function dangerousPlan(id: string, marker: string) {
  return {
    version: 1,
    id,
    actions: [{ id: 'escape', workspace: 'api', prompt: `[exec-sandboxed touch ${marker}] write outside`, thread: 'new', sandbox: 'danger-full-access', approvalPolicy: 'never' }],
  };
}

beforeAll(async () => {
  env = await startRealCodexEnv({ reply });
  home = await mkdtemp(join(tmpdir(), 'cm-planinput-home-'));
  plans = await mkdtemp(join(tmpdir(), 'cm-planinput-plans-'));
  api = await env.workspace('api');
  outside = await env.workspace('outside');
  cliEnv = { ...env.home.env, CM_SUPERVISOR_HOME: home };
  expect((await runBuiltCli(['workspace', 'add', api, '--name', 'api'], { env: cliEnv })).code).toBe(0);
});
afterAll(async () => {
  await env?.cleanup();
  await rm(home, { recursive: true, force: true });
  await rm(plans, { recursive: true, force: true });
});

describe('plan fields that widen what an agent may do need --allow-unsafe (built CLI, real codex)', () => {
  it('sandbox danger-full-access with approvalPolicy never: exit 2 naming both fields and the opt-in; with --allow-unsafe it runs', async () => {
    const marker = join(outside, 'escaped.txt');
    const file = await writePlan('danger.json', dangerousPlan('danger', marker));
    const requests = env.mock.requests.length;
    const refused = await cli(['dispatch', '--plan', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('nothing was dispatched');
    expect(refused.stderr).toMatch(/actions\[0\]\.sandbox: "danger-full-access" lifts the sandbox above "workspace-write".*--allow-unsafe/);
    expect(refused.stderr).toMatch(/actions\[0\]\.approvalPolicy: "never" .*--allow-unsafe/);
    expect(refused.stderr).toContain('"allowUnsafePlans": true in config.json');
    expect(env.mock.requests.length).toBe(requests);
    expect(existsSync(marker)).toBe(false);

    const allowed = await cli(['dispatch', '--plan', file, '--allow-unsafe', '--json']);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout).results[0]).toMatchObject({ id: 'escape', status: 'completed' });
    expect(existsSync(marker)).toBe(true);
  });

  it('a directory outside the plan file\'s directory (../../..) is refused; configured workspaces and directories inside are not', async () => {
    const file = await writePlan('climb.json', { version: 1, actions: [{ id: 'up', workspace: '../../../..', prompt: 'look around', thread: 'new' }] });
    const refused = await cli(['dispatch', '--plan', file, '--dry-run']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`actions[0].workspace: / is not a configured workspace and not inside the plan's directory ${plans}`);
    expect(refused.stderr).toContain('--allow-unsafe');
    // The same directory through a symbolic link inside the plan's directory is no way around it.
    await symlink('/', join(plans, 'root-link'));
    const linked = await writePlan('linked.json', { version: 1, actions: [{ id: 'up', workspace: './root-link', prompt: 'look around', thread: 'new' }] });
    expect((await cli(['dispatch', '--plan', linked, '--dry-run'])).code).toBe(2);

    await mkdir(join(plans, 'inside'));
    const inside = await writePlan('inside.json', { version: 1, actions: [{ id: 'in', workspace: './inside', prompt: 'fine', thread: 'new' }] });
    expect(await cli(['dispatch', '--plan', inside, '--dry-run'])).toMatchObject({ code: 0 });
    const allowed = await cli(['dispatch', '--plan', file, '--dry-run', '--allow-unsafe', '--json']);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout).results[0]).toMatchObject({ id: 'up', status: 'planned' });
  });

  it('"allowUnsafePlans": true in config.json is the standing opt-in', async () => {
    const configHome = await mkdtemp(join(tmpdir(), 'cm-planinput-config-'));
    try {
      await writeFile(join(configHome, 'config.json'), JSON.stringify({ workspaces: [{ name: 'api', path: api }], allowUnsafePlans: true }));
      const file = await writePlan('config-optin.json', dangerousPlan('config-optin', join(outside, 'config.txt')));
      const r = await cli(['dispatch', '--plan', file, '--dry-run', '--json'], { env: { CM_SUPERVISOR_HOME: configHome } });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).results[0]).toMatchObject({ id: 'escape', status: 'planned' });
    } finally {
      await rm(configHome, { recursive: true, force: true });
    }
  });

  it("the chat planner's plan gets the same check: shown with the problems, not dispatched by --yes alone; with --allow-unsafe it is", async () => {
    const marker = join(outside, 'planned-escape.txt');
    const answer = () => ({
      kind: 'json' as const,
      value: {
        version: 1,
        id: null,
        actions: [{ id: 'escape', workspace: 'api', prompt: `[exec-sandboxed touch ${marker}] write outside`, thread: 'new', model: null, effort: null, approvalPolicy: 'never', sandbox: 'danger-full-access' }],
      },
    });
    plannerAnswers.push(answer());
    const refused = await cli(['chat', 'escape the workspace', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain('it widens what the agents may do, so it is dispatched only with the opt-in');
    expect(refused.stdout).toMatch(/actions\[0\]\.sandbox: "danger-full-access"/);
    expect(refused.stderr).toContain('nothing was dispatched');
    expect(refused.stderr).toMatch(/actions\[0\]\.approvalPolicy: "never" .*--allow-unsafe/);
    expect(existsSync(marker)).toBe(false);

    plannerAnswers.push(answer());
    const allowed = await cli(['chat', 'escape the workspace', '--yes', '--allow-unsafe', '--json']);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout).results[0]).toMatchObject({ id: 'escape', status: 'completed' });
    expect(existsSync(marker)).toBe(true);
  });
});

describe('reading a plan: stdin streamed, limits, encodings, links (built CLI)', () => {
  it('--plan - fed in 64 KiB pieces with pauses is read whole and dispatched', async () => {
    const plan = JSON.stringify({ version: 1, id: 'chunked', actions: [{ id: 'c', workspace: 'api', prompt: 'from a slow pipe', thread: 'new' }] });
    // Padding (JSON whitespace) makes the plan several pieces long.
    const bytes = Buffer.from(`${plan.slice(0, -1)}${' '.repeat(300 * 1024)}}`);
    const child = execa(process.execPath, [CLI, 'dispatch', '--plan', '-', '--json'], { env: cliEnv, cwd: plans, reject: false, timeout: 60_000 });
    // A pause before every piece, the first too: reading fd 0 at once failed with EAGAIN on an empty pipe.
    for (let at = 0; at < bytes.length; at += 64 * 1024) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      child.stdin!.write(bytes.subarray(at, at + 64 * 1024));
    }
    child.stdin!.end();
    const r = await child;
    expect(r.stderr).not.toContain('EAGAIN');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ id: 'c', status: 'completed', finalMessage: 'Done: from a slow pipe' });
  });

  it('10 MB on stdin: exit 2 with the limit as soon as 1 MB has arrived, the rest unread', async () => {
    const started = Date.now();
    const child = execa(process.execPath, [CLI, 'dispatch', '--plan', '-'], { env: cliEnv, cwd: plans, reject: false, timeout: 60_000 });
    // Written piece by piece; the writer stops at the first error (the reader went away).
    const piece = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    child.stdin!.on('error', () => {});
    for (; written < 10 * 1024 * 1024 && !child.stdin!.destroyed && child.exitCode === null; written += piece.length) {
      if (!child.stdin!.write(piece)) await new Promise((resolve) => child.stdin!.once('drain', resolve).once('close', resolve));
    }
    child.stdin!.end();
    const r = await child;
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('the plan on stdin is over the 1 MB limit (1048576 bytes); reading stopped there');
    expect(r.stderr).not.toContain('    at ');
    expect(written).toBeLessThan(10 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('bytes that are not UTF-8: exit 2 naming the byte offset (file and stdin)', async () => {
    const text = '{"version":1,"actions":[{"id":"a","workspace":"api","prompt":"caf';
    const bytes = Buffer.concat([Buffer.from(text), Buffer.from([0xe9]), Buffer.from('"}]}')]);
    const file = await writePlan('latin1.json', bytes);
    const fromFile = await cli(['dispatch', '--plan', file]);
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain(`plan file ${file} is not valid UTF-8 at byte ${text.length} (0xe9; bytes counted from 0); save the plan as UTF-8`);

    const child = execa(process.execPath, [CLI, 'dispatch', '--plan', '-'], { env: cliEnv, cwd: plans, reject: false, timeout: 60_000, input: bytes });
    const fromStdin = await child;
    expect(fromStdin.exitCode).toBe(2);
    expect(fromStdin.stderr).toContain(`the plan on stdin is not valid UTF-8 at byte ${text.length} (0xe9`);
  });

  it('a symbolic link loop as the plan file says so', async () => {
    await symlink(join(plans, 'loop-b.json'), join(plans, 'loop-a.json'));
    await symlink(join(plans, 'loop-a.json'), join(plans, 'loop-b.json'));
    const r = await cli(['dispatch', '--plan', join(plans, 'loop-a.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`plan file ${join(plans, 'loop-a.json')} is a symbolic link loop`);
    expect(r.stderr).not.toContain('not found');
  });
});
