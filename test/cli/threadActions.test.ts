import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { CLI, runBuiltCli } from '../support/runBuiltCli.js';

const WAIT_MS = 30_000;
let env: RealCodexEnv;
let home: string;
let repo: string;
let cliEnv: Record<string, string>;
const cli = (args: string[]) => runBuiltCli(args, { env: cliEnv });

beforeAll(async () => {
  env = await startRealCodexEnv({ streamIdleTimeoutMs: 60_000 });
  home = await mkdtemp(join(tmpdir(), 'cm-actions-'));
  repo = await env.workspace('api');
  cliEnv = { ...env.home.env, CM_SUPERVISOR_HOME: home, NO_COLOR: '1' };
  expect((await cli(['workspace', 'add', repo, '--name', 'api'])).code).toBe(0);
  expect((await cli(['daemon', 'start'])).code).toBe(0);
});
afterAll(async () => {
  await cli(['daemon', 'stop', '--grace', '0']);
  await env?.cleanup();
  await rm(home, { recursive: true, force: true });
});

/** Dispatches in the background (the daemon keeps its approvals for a person); its result later. */
function dispatch(id: string, prompt: string) {
  const plan = join(home, `${id}.json`);
  return writeFile(plan, JSON.stringify({ version: 1, id, actions: [{ id: 'a', workspace: 'api', prompt, thread: 'new' }] })).then(() =>
    execa(process.execPath, [CLI, 'dispatch', '--plan', plan, '--on-approval', 'ask', '--json'], { env: cliEnv, input: '', reject: false, timeout: 60_000 }),
  );
}

async function waiting(): Promise<{ key: string; command: string }[]> {
  return (JSON.parse((await cli(['status', '--json'])).stdout) as { pendingApprovals: { key: string; command: string }[] }).pendingApprovals;
}
const waitingKeys = async () => (await waiting()).map((a) => a.key);

describe('acting on threads from the CLI (built CLI, real codex, through the daemon)', () => {
  it('approve: without a key it lists what waits (exit 2); a wrong key or decision is refused; KEY answers one; --all answers the rest', async () => {
    const first = dispatch('one', `[exec touch ${repo}/one] mark one`);
    const second = dispatch('two', `[exec touch ${repo}/two] mark two`);
    await expect.poll(waitingKeys, { timeout: WAIT_MS }).toHaveLength(2);
    // The two dispatches race: which approval came first is not known.
    const pending = await waiting();
    const key1 = pending.find((a) => a.command.includes('/one'))!.key;
    const key2 = pending.find((a) => a.command.includes('/two'))!.key;

    const bare = await cli(['approve']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('give the KEY of an approval, or --all; waiting:');
    expect(bare.stderr).toContain(`${key1}  api: \`touch ${repo}/one\``);
    expect(bare.stderr).toContain(`${key2}  api: \`touch ${repo}/two\``);
    const wrong = await cli(['approve', 'api#999']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('no approval "api#999" is waiting');
    const badDecision = await cli(['approve', key1, '--decision', 'maybe']);
    expect(badDecision.code).toBe(2);
    expect(badDecision.stderr).toContain('Allowed choices are accept, acceptForSession, decline, cancel');

    const one = await cli(['approve', key1]);
    expect(one).toMatchObject({ code: 0, stdout: `approved: ${key1}  api: \`touch ${repo}/one\`` });
    expect(JSON.parse((await first).stdout).results[0].status).toBe('completed');
    expect(existsSync(join(repo, 'one'))).toBe(true);

    const all = await cli(['approve', '--all', '--decision', 'decline', '--json']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ decision: 'decline', answered: [{ key: key2, workspace: 'api' }], skipped: [] });
    await second;
    expect(existsSync(join(repo, 'two'))).toBe(false);
    expect(await waitingKeys()).toEqual([]);
    expect(await cli(['approve', '--all'])).toMatchObject({ code: 0, stdout: 'no approval is waiting' });
  });

  it('interrupt: a running turn by its short id stops (the dispatch says so); an idle thread is exit 1, an unknown one exit 2', async () => {
    const hanging = dispatch('hang', '[silent] hang');
    let threadId = '';
    await expect
      .poll(
        async () => {
          const status = JSON.parse((await cli(['status', '--json'])).stdout) as { workspaces: { threads: { id: string; title: string; currentTurnId: string | null }[] }[] };
          threadId = status.workspaces[0]!.threads.find((t) => t.title.includes('hang') && t.currentTurnId)?.id ?? '';
          return threadId;
        },
        { timeout: WAIT_MS },
      )
      .not.toBe('');
    const short = threadId.slice(-6);
    const stopped = await cli(['interrupt', short]);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toBe(`interrupted api: [silent] hang (${threadId})`);
    const result = await hanging;
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout).results[0].status).toBe('interrupted');

    await expect.poll(async () => (await cli(['interrupt', short])).code, { timeout: WAIT_MS }).toBe(1);
    expect((await cli(['interrupt', short])).stderr).toContain(`thread ${threadId} (api: [silent] hang) has no running turn`);
    const unknown = await cli(['interrupt', 'zzzzzz']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no thread "zzzzzz"');
  });
});
