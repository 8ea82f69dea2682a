// One loop per home (built CLI, real codex): the same commands answer the same with and without
// a daemon, config changes reach the running loop, and a second loop is never started.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { daemonPaths } from '../../src/core/daemon/home.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { execa } from 'execa';
import { CLI, runBuiltCli } from '../support/runBuiltCli.js';
import { spawnInTerminal } from '../support/terminal.js';

const WAIT_MS = 30_000;
let env: RealCodexEnv;
const homes: string[] = [];

beforeAll(async () => {
  env = await startRealCodexEnv();
});
afterEach(async () => {
  // A daemon a failed test left behind is stopped with its home.
  for (const home of homes.splice(0)) {
    if (existsSync(daemonPaths(home).lock)) await runBuiltCli(['daemon', 'stop', '--grace', '0'], { env: { ...env.home.env, CM_SUPERVISOR_HOME: home } });
    await rm(home, { recursive: true, force: true });
  }
});
afterAll(async () => env?.cleanup());

async function newHome(): Promise<{ home: string; cliEnv: Record<string, string>; cli: (args: string[]) => ReturnType<typeof runBuiltCli> }> {
  const home = await mkdtemp(join(tmpdir(), 'cm-home-loop-'));
  homes.push(home);
  const cliEnv = { ...env.home.env, CM_SUPERVISOR_HOME: home, NO_COLOR: '1' };
  return { home, cliEnv, cli: (args) => runBuiltCli(args, { env: cliEnv }) };
}

/** The same commands as a user types them; the JSON documents they print. */
async function sequence(cli: (args: string[]) => ReturnType<typeof runBuiltCli>, home: string, api: string, web: string) {
  expect((await cli(['workspace', 'add', api, '--name', 'api'])).code).toBe(0);
  expect((await cli(['workspace', 'add', web, '--name', 'web'])).code).toBe(0);
  const plan = join(home, 'plan.json');
  await writeFile(
    plan,
    JSON.stringify({
      version: 1,
      id: 'p',
      actions: [
        { id: 'ok', workspace: 'api', prompt: 'summarize the repo', thread: 'new' },
        { id: 'bad', workspace: 'web', prompt: '[fail] upgrade everything', thread: 'new' },
      ],
    }),
  );
  const dispatched = await cli(['dispatch', '--plan', plan, '--json']);
  expect(dispatched.code).toBe(1);
  const status = await cli(['status', '--json']);
  expect(status.code).toBe(0);
  const feed = await cli(['feed', '--json']);
  expect(feed.code).toBe(0);
  const again = await cli(['dispatch', '--plan', plan, '--dry-run', '--json']);
  // Like the real re-run would: the action whose turn failed is reported failed (exit 1).
  expect(again.code).toBe(1);
  expect(JSON.parse(again.stdout).results.map((r: { status: string }) => r.status)).toEqual(['skipped', 'failed']);
  const failedThread = (JSON.parse(dispatched.stdout) as { results: { threadId: string }[] }).results[1]!.threadId;
  const transcript = await cli(['thread', 'show', failedThread, '--json']);
  expect(transcript.code).toBe(0);
  const diff = await cli(['diff', failedThread, '--json']);
  expect(diff.code).toBe(0);
  return { status: JSON.parse(status.stdout), feed: JSON.parse(feed.stdout), dryRun: JSON.parse(again.stdout), transcript: JSON.parse(transcript.stdout), diff: JSON.parse(diff.stdout) };
}

/**
 * What may differ between two runs: ids (threads, turns, items, requests), times, pids, the
 * mode, the run's temporary paths. Ids are replaced by their order of first appearance, so
 * the same structure compares equal.
 */
function normalized(value: unknown, paths: Record<string, string>): unknown {
  const ids = new Map<string, string>();
  const id = (s: string) => {
    if (!ids.has(s)) ids.set(s, `<id${ids.size + 1}>`);
    return ids.get(s)!;
  };
  const text = (s: string) => {
    let out = s;
    for (const [path, name] of Object.entries(paths)) out = out.split(path).join(name);
    return out.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, id);
  };
  const live = /Ms$|Bytes$|^pid$|^seq$|^nextFeedSeq$/;
  const walk = (v: unknown, key = ''): unknown => {
    if (typeof v === 'string') return key === 'mode' ? '<…>' : text(v);
    if (typeof v === 'number' || (v === null && live.test(key))) return live.test(key) ? 0 : v;
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), walk(x, k)]));
    return v;
  };
  return walk(value);
}

/**
 * Live facts that differ by nature: whether the app-server has a thread loaded right now (a
 * command's own loop starts a fresh one), and the order in which two workspaces' concurrent
 * turns ended (the feed's order, the signals' numbers).
 */
function withoutLiveOrder(run: {
  status: { workspaces: { threads: { status: string }[] }[]; openSignals: { id: string; workspace: string }[] };
  feed: { entries: { workspace: string; text: string }[] };
}) {
  for (const ws of run.status.workspaces) for (const t of ws.threads) t.status = '<loaded or not>';
  run.feed.entries.sort((a, b) => a.workspace.localeCompare(b.workspace) || a.text.localeCompare(b.text));
  run.status.openSignals.sort((a, b) => a.workspace.localeCompare(b.workspace));
  for (const signal of run.status.openSignals) signal.id = '<signal>';
  return run;
}

describe('one loop per home (built CLI, real codex)', () => {
  it('status, feed, a dry run, a transcript and a diff answer the same with and without a daemon (modulo ids, times and pids)', async () => {
    const runs: unknown[] = [];
    for (const withDaemon of [false, true]) {
      const { home, cli } = await newHome();
      const api = await env.workspace('api');
      const web = await env.workspace('web');
      if (withDaemon) expect((await cli(['daemon', 'start'])).code).toBe(0);
      const out = await sequence(cli, home, api, web);
      if (withDaemon) expect((await cli(['daemon', 'stop'])).code).toBe(0);
      expect(out.status.mode).toBe(withDaemon ? 'daemon' : 'in-process');
      runs.push(withoutLiveOrder(normalized(out, { [api]: '<api>', [web]: '<web>', [home]: '<home>' }) as Parameters<typeof withoutLiveOrder>[0]));
    }
    expect(runs[1]).toEqual(runs[0]);
    // And what they say is the truth of the work done, not an empty or stale picture.
    const status = runs[0] as { status: { workspaces: { name: string; threads: { lastTurn: { status: string } | null }[] }[]; openSignals: { kind: string; workspace: string }[] } };
    expect(status.status.workspaces.map((w) => [w.name, w.threads.map((t) => t.lastTurn?.status)])).toEqual([
      ['api', ['completed']],
      ['web', ['failed']],
    ]);
    expect(status.status.openSignals.map((s) => [s.kind, s.workspace]).sort()).toEqual([
      ['completed', 'api'],
      ['failed', 'web'],
    ]);
    const { transcript } = runs[0] as { transcript: { workspace: string; turns: { status: string; items: { text: string }[] }[] } };
    expect(transcript.workspace).toBe('web');
    expect(transcript.turns.map((t) => [t.status, t.items.map((i) => i.text)])).toEqual([['failed', ['[fail] upgrade everything']]]);
  });

  it('the running daemon takes workspace add and remove at once; a config broken by hand is reported and the last good one kept', async () => {
    const { home, cli } = await newHome();
    const api = await env.workspace('api');
    expect((await cli(['workspace', 'add', api, '--name', 'api'])).code).toBe(0);
    expect((await cli(['daemon', 'start'])).code).toBe(0);
    const fresh = await env.workspace('new');
    const added = await cli(['workspace', 'add', fresh, '--name', 'new']);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('the cm-supervisor daemon');
    expect(added.stdout).toContain('applied it: workspace new added');
    const chat = await cli(['chat', '@new say hi', '--json']);
    expect(chat.stderr).toBe('');
    expect(chat.code).toBe(0);
    expect(JSON.parse(chat.stdout).results).toEqual([expect.objectContaining({ workspace: 'new', status: 'completed' })]);

    const removed = await cli(['workspace', 'remove', 'new']);
    expect(removed.stdout).toContain('applied it: workspace new removed');
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as { workspaces: { name: string }[] };
    expect(status.workspaces.map((w) => w.name)).toEqual(['api']);

    // Broken by hand: said once, the last good configuration stays in use; fixed: the problem goes.
    const config = join(home, 'config.json');
    const good = readFileSync(config, 'utf8');
    await writeFile(config, '{ "workspaces": [ { "name": "api" ');
    await expect
      .poll(async () => JSON.parse((await cli(['status', '--json'])).stdout).openSignals.map((s: { message: string }) => s.message).join('\n'), { timeout: WAIT_MS })
      .toContain('the last good configuration stays in use until the file is fixed');
    const during = JSON.parse((await cli(['status', '--json'])).stdout) as { workspaces: { name: string; status: string }[] };
    expect(during.workspaces).toEqual([expect.objectContaining({ name: 'api', status: 'ready' })]);
    await writeFile(config, good);
    await expect
      .poll(async () => JSON.parse((await cli(['status', '--json'])).stdout).openSignals.filter((s: { message: string }) => s.message.includes('last good configuration')).length, { timeout: WAIT_MS })
      .toBe(0);
    expect((await cli(['daemon', 'stop'])).code).toBe(0);
  });

  it('--on-approval ask without a terminal: with no daemon, exit 2 before anything is sent', async () => {
    const { home, cli } = await newHome();
    const api = await env.workspace('api');
    expect((await cli(['workspace', 'add', api, '--name', 'api'])).code).toBe(0);
    const plan = join(home, 'ask.json');
    await writeFile(plan, JSON.stringify({ version: 1, id: 'ask', actions: [{ id: 'a', workspace: 'api', prompt: `[exec touch ${api}/x] mark it`, thread: 'new' }] }));
    const r = await cli(['dispatch', '--plan', plan, '--on-approval', 'ask']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--on-approval ask needs someone to ask: there is no terminal here and no daemon runs for');
    expect(existsSync(join(home, 'dispatch-ledger.json')) ? readFileSync(join(home, 'dispatch-ledger.json'), 'utf8') : '').not.toContain('ask:a');
  });

  it('with a daemon, `--on-approval ask` without a terminal leaves the approval to the TUI and says so; a normal stop interrupts the turn, says so, and it survives the restart', async () => {
    const { home, cliEnv, cli } = await newHome();
    const api = await env.workspace('api');
    expect((await cli(['workspace', 'add', api, '--name', 'api'])).code).toBe(0);
    expect((await cli(['daemon', 'start'])).code).toBe(0);
    const plan = join(home, 'ask.json');
    await writeFile(plan, JSON.stringify({ version: 1, id: 'ask', actions: [{ id: 'a', workspace: 'api', prompt: `[exec touch ${api}/x] mark it`, thread: 'new' }] }));
    const waiting = execa(process.execPath, [CLI, 'dispatch', '--plan', plan, '--on-approval', 'ask'], { env: cliEnv, input: '', reject: false, timeout: 60_000 });
    let stderr = '';
    waiting.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await expect.poll(() => stderr, { timeout: WAIT_MS }).toContain('api: approve `touch');
    expect(stderr).toContain('waiting for an answer in the TUI (cm-supervisor) or with --on-approval');
    // Nobody declined it: it waits in the daemon for a person.
    const needs = JSON.parse((await cli(['feed', '--needs-input', '--json'])).stdout) as { entries: { text: string }[] };
    expect(needs.entries.map((e) => e.text)).toEqual([expect.stringContaining('needs approval: `touch')]);

    expect((await cli(['daemon', 'stop', '--grace', '1'])).code).toBe(0);
    const lost = await waiting;
    expect(lost.exitCode).toBe(1);
    expect((await cli(['daemon', 'start'])).code).toBe(0);
    const feed = JSON.parse((await cli(['feed', '--json'])).stdout) as { entries: { text: string }[] };
    expect(feed.entries.map((e) => e.text)).toContain('interrupted (stopped by daemon stop)');
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as { openSignals: { kind: string; message: string }[] };
    expect(status.openSignals).toEqual([expect.objectContaining({ kind: 'failed', message: expect.stringContaining('interrupted (stopped by daemon stop)') })]);
    expect(JSON.parse((await cli(['feed', '--needs-input', '--json'])).stdout).entries).toEqual([]);
    expect((await cli(['daemon', 'stop'])).code).toBe(0);
  });

  it('an attached TUI joins the daemon again after it restarts; a TUI run here serves other commands, and --no-daemon is refused', async () => {
    const { cliEnv, cli } = await newHome();
    const api = await env.workspace('api');
    expect((await cli(['workspace', 'add', api, '--name', 'api'])).code).toBe(0);
    expect((await cli(['daemon', 'start'])).code).toBe(0);
    const attached = spawnInTerminal(process.execPath, [CLI, 'attach'], { cols: 100, rows: 30, env: cliEnv });
    try {
      await attached.waitForText('· daemon · codex 0.171.0', WAIT_MS);
      expect((await cli(['daemon', 'stop'])).code).toBe(0);
      await attached.waitForText('(stopped by daemon stop; reconnecting)', WAIT_MS);
      expect((await cli(['daemon', 'start'])).code).toBe(0);
      await attached.waitForText('connected to the daemon again', WAIT_MS);
      await attached.waitForText(/● ready\s+api/, WAIT_MS);
      attached.write('q');
      expect((await attached.waitForExit(15_000)).exitCode).toBe(0);
    } finally {
      attached.dispose();
    }
    expect((await cli(['daemon', 'stop'])).code).toBe(0);

    // The TUI without a daemon runs the home's loop itself, and lets other commands use it.
    const tui = spawnInTerminal(process.execPath, [CLI], { cols: 100, rows: 30, env: cliEnv });
    try {
      await tui.waitForText('· in-process · codex 0.171.0', WAIT_MS);
      const status = await cli(['status', '--json']);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout).mode).toBe('daemon');
      const chat = await cli(['--no-daemon', 'chat', '@api hi']);
      expect(chat.code).toBe(2);
      expect(chat.stderr).toContain('`cm-supervisor tui` (pid');
      expect(chat.stderr).toContain('--no-daemon would start a second loop on the same threads');
      const stop = await cli(['daemon', 'stop']);
      expect(stop.code).toBe(1);
      expect(stop.stderr).toContain('runs its loop; quit it there');
      tui.write('q');
      expect((await tui.waitForExit(15_000)).exitCode).toBe(0);
    } finally {
      tui.dispose();
    }
    // Its state was saved: the next command finds it.
    expect(JSON.parse((await cli(['status', '--json'])).stdout).workspaces).toEqual([expect.objectContaining({ name: 'api' })]);
  });

  it('feed --follow prints each new entry as it comes (--json: one object a line), also from the daemon, until Ctrl-C', async () => {
    const { home, cliEnv, cli } = await newHome();
    const api = await env.workspace('api');
    expect((await cli(['workspace', 'add', api, '--name', 'api'])).code).toBe(0);
    expect((await cli(['daemon', 'start'])).code).toBe(0);
    const follow = execa(process.execPath, [CLI, 'feed', '--follow', '--json'], { env: cliEnv, reject: false, timeout: 60_000 });
    let out = '';
    follow.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const plan = join(home, 'p.json');
    await writeFile(plan, JSON.stringify({ version: 1, id: 'f', actions: [{ id: 'a', workspace: 'api', prompt: 'follow me', thread: 'new' }] }));
    // Whether it subscribed before the dispatch or listed the entries after, each is printed once.
    expect((await cli(['dispatch', '--plan', plan])).code).toBe(0);
    await expect.poll(() => out, { timeout: WAIT_MS }).toContain('completed: Done: follow me');
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; text: string });
    expect(lines.map((l) => l.text)).toEqual(expect.arrayContaining(['queued a: follow me', 'new task: follow me', 'completed: Done: follow me']));
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.seq).toBeGreaterThan(lines[i - 1]!.seq);
    // The daemon going away and coming back is said on stderr; stdout stays JSON lines.
    let err = '';
    follow.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    expect((await cli(['daemon', 'stop'])).code).toBe(0);
    await expect.poll(() => err, { timeout: WAIT_MS }).toMatch(/cm-supervisor: .*; waiting for it to come back \(Ctrl-C ends\)/);
    expect((await cli(['daemon', 'start'])).code).toBe(0);
    await expect.poll(() => err, { timeout: WAIT_MS }).toContain('cm-supervisor: connected to the daemon again');
    follow.kill('SIGINT');
    expect((await follow).exitCode).toBe(0);
    for (const line of out.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect((await cli(['daemon', 'stop'])).code).toBe(0);
  });

  it('commands started together share one loop: one takes the home, the others wait for it or use it', async () => {
    const { cli } = await newHome();
    const api = await env.workspace('api');
    expect((await cli(['workspace', 'add', api, '--name', 'api'])).code).toBe(0);
    const runs = await Promise.all([cli(['status', '--json']), cli(['feed', '--json']), cli(['status', '--json']), cli(['feed', '--json'])]);
    for (const r of runs) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  });
});
