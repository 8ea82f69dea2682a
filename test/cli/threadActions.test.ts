import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFilePrompt } from '../support/mockPrompts.js';
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
function dispatch(id: string, prompt: string, extra: Record<string, unknown> = {}) {
  const plan = join(home, `${id}.json`);
  return writeFile(plan, JSON.stringify({ version: 1, id, actions: [{ id: 'a', workspace: 'api', prompt, thread: 'new', ...extra }] })).then(() =>
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

  /** The thread a finished dispatch ran on. */
  async function finished(id: string, prompt: string, extra: Record<string, unknown> = {}): Promise<string> {
    const result = await dispatch(id, prompt, extra);
    return (JSON.parse(result.stdout) as { results: { threadId: string }[] }).results[0]!.threadId;
  }

  type TranscriptJson = { turns: { id: string; status: string; items: { type: string; text: string }[] }[] };
  const transcript = async (ref: string) => JSON.parse((await cli(['thread', 'show', ref, '--json'])).stdout) as TranscriptJson;

  it('retry sends a failed turn again; reply starts a turn on an idle thread; thread show prints the turns; bad input is exit 2, nothing to retry exit 1', async () => {
    const threadId = await finished('broken', '[fail] broken build');
    const short = threadId.slice(-6);
    const retried = await cli(['retry', short]);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(new RegExp(`^retried: new turn \\S{6} on api: \\[fail\\] broken build \\(${threadId}\\)$`));
    await expect.poll(async () => (await transcript(short)).turns.map((t) => t.status), { timeout: WAIT_MS }).toEqual(['failed', 'failed']);
    expect((await transcript(short)).turns[1]!.items[0]).toEqual({ id: expect.any(String), type: 'userMessage', text: '[fail] broken build', status: null });

    const replied = await cli(['reply', short, 'all', 'good now', '--json']);
    expect(replied.code).toBe(0);
    const turn = JSON.parse(replied.stdout) as { threadId: string; turnId: string; mode: string; workspace: string };
    expect(turn).toEqual({ threadId, turnId: expect.any(String), mode: 'started', workspace: 'api' });
    await expect.poll(async () => (await transcript(short)).turns.at(-1)?.status, { timeout: WAIT_MS }).toBe('completed');

    const shown = await cli(['thread', 'show', short]);
    expect(shown.code).toBe(0);
    const lines = shown.stdout.split('\n');
    expect(lines[0]).toBe(`thread ${threadId}  api: [fail] broken build`);
    expect(lines.filter((l) => l.startsWith('── turn'))).toEqual([
      expect.stringMatching(/^── turn 1 {2}failed: .+ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+\.\ds\) {2}\S{6}$/),
      expect.stringMatching(/^── turn 2 {2}failed: /),
      expect.stringMatching(`^── turn 3 {2}completed {2}.* {2}${turn.turnId.slice(-6)}$`),
    ]);
    expect(shown.stdout).toContain('  › [fail] broken build\n');
    expect(shown.stdout.endsWith('  › all good now\n  ● Done: all good now')).toBe(true);

    const nothing = await cli(['retry', short]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('is completed; retry sends again only a failed or interrupted turn');
    const empty = await cli(['reply', short, ' ']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('the reply is empty');
    for (const args of [['reply', 'zzzzzz', 'hi'], ['retry', 'zzzzzz'], ['thread', 'show', 'zzzzzz'], ['diff', 'zzzzzz'], ['archive', 'zzzzzz']]) {
      const unknown = await cli(args);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('no thread "zzzzzz"');
    }
  });

  it('reply while a turn runs adds to it: the dispatch that started it completes with the reply', async () => {
    const hanging = dispatch('steer', '[silent] wait for more');
    let threadId = '';
    await expect
      .poll(
        async () => {
          const status = JSON.parse((await cli(['status', '--json'])).stdout) as { workspaces: { threads: { id: string; title: string; currentTurnId: string | null }[] }[] };
          threadId = status.workspaces[0]!.threads.find((t) => t.title.includes('wait for more') && t.currentTurnId)?.id ?? '';
          return threadId;
        },
        { timeout: WAIT_MS },
      )
      .not.toBe('');
    const steered = await cli(['reply', threadId, 'go on']);
    expect(steered.code).toBe(0);
    expect(steered.stdout).toMatch(new RegExp(`^added to the running turn \\S{6} of api: \\[silent\\] wait for more \\(${threadId}\\)$`));
    const result = JSON.parse((await hanging).stdout) as { results: { status: string; finalMessage: string }[] };
    expect(result.results[0]).toMatchObject({ status: 'completed', finalMessage: 'Done: go on' });
  });

  it('diff prints the files with +/- and the unified diff, plain when not on a terminal; archive removes the thread', async () => {
    const threadId = await finished('notes', addFilePrompt('notes.txt', ['one', 'two'], 'write notes'), { sandbox: 'workspace-write' });
    const short = threadId.slice(-6);
    const diff = await cli(['diff', short]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/^turn \S{6}: 1 file changed\n {2}\+2 -0 {2}notes\.txt\n\ndiff --git a\/notes\.txt b\/notes\.txt\n/);
    expect(diff.stdout).toContain('+++ b/notes.txt\n@@ -0,0 +1,2 @@\n+one\n+two');
    expect(diff.stdout).not.toContain('\u001b');
    const json = JSON.parse((await cli(['diff', short, '--json'])).stdout) as { files: unknown[]; diff: string };
    expect(json.files).toEqual([{ path: 'notes.txt', added: 2, removed: 0 }]);
    expect(existsSync(join(repo, 'notes.txt'))).toBe(true);

    const quiet = await finished('quiet', 'just talk');
    expect((await cli(['diff', quiet.slice(-6)])).stdout).toBe(`thread ${quiet.slice(-6)}: its latest turn changed no files`);

    const archived = await cli(['archive', short, '--json']);
    expect(archived.code).toBe(0);
    expect(JSON.parse(archived.stdout)).toEqual({ threadId, workspace: 'api', archived: true });
    const gone = await cli(['thread', 'show', short]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`no thread "${short}"`);
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as { workspaces: { threads: { id: string }[] }[] };
    expect(status.workspaces[0]!.threads.map((t) => t.id)).not.toContain(threadId);
  });
});

describe('reply without a daemon (built CLI, real codex)', () => {
  it("waits for the turn it started, since the command's own app-server ends with it, and says so", async () => {
    const ownHome = await mkdtemp(join(tmpdir(), 'cm-actions-nodaemon-'));
    const ownEnv = { ...cliEnv, CM_SUPERVISOR_HOME: ownHome };
    const run = (args: string[]) => runBuiltCli(args, { env: ownEnv });
    try {
      expect((await run(['workspace', 'add', repo, '--name', 'api'])).code).toBe(0);
      const plan = join(ownHome, 'first.json');
      await writeFile(plan, JSON.stringify({ version: 1, id: 'first', actions: [{ id: 'a', workspace: 'api', prompt: 'first words', thread: 'new' }] }));
      const dispatched = await run(['dispatch', '--plan', plan, '--json', '--on-approval', 'decline']);
      const threadId = (JSON.parse(dispatched.stdout) as { results: { threadId: string }[] }).results[0]!.threadId;

      const replied = await run(['reply', threadId.slice(-6), 'more words']);
      expect(replied.code).toBe(0);
      expect(replied.stderr).toContain(`no daemon runs for ${ownHome}: waiting up to 600s for the turn to finish`);
      const shown = await run(['thread', 'show', threadId.slice(-6), '--json']);
      const turns = (JSON.parse(shown.stdout) as { turns: { status: string; items: { text: string }[] }[] }).turns;
      expect(turns.map((t) => t.status)).toEqual(['completed', 'completed']);
      expect(turns[1]!.items.map((i) => i.text)).toEqual(['more words', 'Done: more words']);
    } finally {
      await rm(ownHome, { recursive: true, force: true });
    }
  });
});
