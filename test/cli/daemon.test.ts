// The daemon commands of the BUILT CLI (npm test builds first), against the real codex binary.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonClient } from '../../src/core/daemon/client.js';
import { daemonPaths } from '../../src/core/daemon/home.js';
import { DAEMON_NODE_FLAGS } from '../../src/core/daemon/nodeFlags.js';
import { isAlive } from '../support/processes.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { CLI, runBuiltCli } from '../support/runBuiltCli.js';
import { spawnInTerminal } from '../support/terminal.js';

const WAIT_MS = 30_000;
let env: RealCodexEnv;
let home: string;
let repo: string;
let cliEnv: Record<string, string>;
/** Every process the daemon ran: none may survive the file. */
const seenPids = new Set<number>();

const cli = (args: string[], input?: string) => runBuiltCli(args, { env: cliEnv, ...(input !== undefined ? { input } : {}) });

beforeAll(async () => {
  // A `[silent]` turn must still be running when the daemon is stopped under it.
  env = await startRealCodexEnv({ streamIdleTimeoutMs: 60_000 });
  home = await mkdtemp(join(tmpdir(), 'cm-cli-daemon-'));
  repo = await env.workspace('api');
  cliEnv = { ...env.home.env, CM_SUPERVISOR_HOME: home, NO_COLOR: '1' };
  expect((await cli(['workspace', 'add', repo, '--name', 'api'])).code).toBe(0);
});
afterAll(async () => {
  // Normally `daemon stop` ended everything; after a failure nothing may be left running.
  // Only if the pid still runs one of ours: pids are recycled.
  for (const pid of seenPids) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('app-server') || cmdline.includes(home)) process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  await env?.cleanup();
  await rm(home, { recursive: true, force: true });
});

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail' && existsSync(daemonPaths(home).log)) console.error(`daemon log:\n${readFileSync(daemonPaths(home).log, 'utf8')}`);
});

describe('cm-supervisor daemon (built CLI, real codex)', () => {
  it('with no daemon: `daemon status` exits 1 and says so; `attach` and `daemon stop` fail clearly', async () => {
    const status = await cli(['daemon', 'status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toBe(`no cm-supervisor daemon is running for ${home}`);
    const json = await cli(['daemon', 'status', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ running: false, home });
    const attach = await cli(['attach']);
    expect(attach.code).toBe(1);
    expect(attach.stderr).toContain(`no cm-supervisor daemon is running for ${home}; start one with \`cm-supervisor daemon start\``);
    const stop = await cli(['daemon', 'stop']);
    expect(stop.code).toBe(1);
    expect(stop.stderr).toContain(`no cm-supervisor daemon is running for ${home}`);
    // Without a daemon, commands run in-process.
    const inProcess = await cli(['status', '--json']);
    expect(inProcess.code).toBe(0);
    expect(JSON.parse(inProcess.stdout).mode).toBe('in-process');
  });

  describe('with a daemon started by `daemon start`', () => {
    let pid: number;
    let socket: string;

    beforeAll(async () => {
      const start = await cli(['daemon', 'start']);
      expect(start.stderr).toBe('');
      expect(start.code).toBe(0);
      const match = /^daemon started: pid (\d+), socket (\S+), log (\S+)$/.exec(start.stdout);
      expect(match, start.stdout).not.toBeNull();
      pid = Number(match![1]);
      socket = match![2]!;
      seenPids.add(pid);
      expect(socket).toBe(daemonPaths(home).socket);
      expect(match![3]).toBe(daemonPaths(home).log);
    });

    it('`daemon start` returned with the daemon answering; a second start is refused', async () => {
      expect(isAlive(pid)).toBe(true);
      expect(JSON.parse(readFileSync(daemonPaths(home).lock, 'utf8')).pid).toBe(pid);
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      // The daemon runs with its own V8 flags (a young generation sized for its event stream).
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(argv.slice(1, 1 + DAEMON_NODE_FLAGS.length)).toEqual(DAEMON_NODE_FLAGS);
      const again = await cli(['daemon', 'start']);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`a cm-supervisor daemon is already running for ${home} (pid ${pid})`);
      expect(isAlive(pid)).toBe(true);
    });

    it('`status` and `feed` use the daemon; `--no-daemon` would start a second loop and is refused', async () => {
      let doc: { mode: string; workspaces: { name: string; status: string; host: string }[]; hosts: { name: string; codexVersion: string | null }[] } | null = null;
      await expect
        .poll(
          async () => {
            const r = await cli(['status', '--json']);
            doc = JSON.parse(r.stdout);
            return doc!.workspaces[0]?.status;
          },
          { timeout: WAIT_MS, interval: 200 },
        )
        .toBe('ready');
      expect(doc!.mode).toBe('daemon');
      expect(doc!.workspaces[0]).toMatchObject({ name: 'api', host: 'local' });
      expect(doc!.hosts).toEqual([expect.objectContaining({ name: 'local', codexVersion: '0.171.0', workspaces: ['api'] })]);
      const text = await cli(['status']);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('cm-supervisor (daemon)');
      const feed = await cli(['feed', '--json']);
      expect(feed.code).toBe(0);
      expect(JSON.parse(feed.stdout).mode).toBe('daemon');
      const forced = await cli(['--no-daemon', 'status', '--json']);
      expect(forced.code).toBe(2);
      expect(forced.stdout).toBe('');
      expect(forced.stderr).toBe(
        `cm-supervisor: the cm-supervisor daemon (pid ${pid}) already supervises ${home}; --no-daemon would start a second loop on the same threads. Leave out --no-daemon to use it, or stop it first with \`cm-supervisor daemon stop\``,
      );
    });

    it('`dispatch` goes through the daemon and completes; the daemon keeps the job', async () => {
      const plan = join(home, 'plan.json');
      await writeFile(plan, JSON.stringify({ version: 1, id: 'cli', actions: [{ id: 'one', workspace: 'api', prompt: 'write the summary', thread: 'new' }] }));
      const r = await cli(['dispatch', '--plan', plan, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).results).toEqual([expect.objectContaining({ id: 'one', status: 'completed', finalMessage: 'Done: write the summary' })]);
      const client = await DaemonClient.connect(socket);
      try {
        const state = await client.snapshot();
        expect(state.jobs['cli:one']).toMatchObject({ status: 'completed', finalMessage: 'Done: write the summary' });
      } finally {
        client.close();
      }
      // The daemon's ledger: the same plan again is skipped.
      const again = await cli(['dispatch', '--plan', plan, '--json']);
      expect(JSON.parse(again.stdout).results[0].status).toBe('skipped');
      const feed = await cli(['feed', '--json']);
      expect(JSON.parse(feed.stdout).entries).toContainEqual(expect.objectContaining({ kind: 'turn_completed', text: 'completed: Done: write the summary' }));
    });

    it('`attach` without a terminal exits 2 with a clear message', async () => {
      const r = await cli(['attach']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('attach needs an interactive terminal');
      expect(isAlive(pid)).toBe(true);
    });

    it('quitting an attached TUI leaves the daemon and its app-servers running', async () => {
      const client = await DaemonClient.connect(socket);
      const before = await client.status();
      client.close();
      const appServers = before.hosts.flatMap((h) => (h.pid ? [h.pid] : []));
      for (const p of appServers) seenPids.add(p);
      const session = spawnInTerminal(process.execPath, [CLI, 'attach'], { cols: 120, rows: 30, env: cliEnv });
      try {
        await session.waitForText('· daemon · codex 0.171.0', WAIT_MS);
        await session.waitForText('write the summary', WAIT_MS);
        session.write('q');
        const exit = await session.waitForExit(15_000);
        expect(exit.exitCode).toBe(0);
        expect(session.isAlternateScreen()).toBe(false);
      } finally {
        session.dispose();
      }
      expect(isAlive(pid)).toBe(true);
      for (const p of appServers) expect(isAlive(p)).toBe(true);
      const after = await cli(['daemon', 'status', '--json']);
      expect(after.code).toBe(0);
      expect(JSON.parse(after.stdout)).toMatchObject({ running: true, pid, hosts: [{ name: 'local', status: 'ready', pid: appServers[0] }], workspaces: [{ name: 'api', host: 'local', status: 'ready' }] });
    });

    it('`daemon stop` is graceful: turns get --grace, then are interrupted and say so; state saved, lock and socket removed, app-servers gone; waiting commands are told, an attached TUI waits for the daemon', async () => {
      const status = await cli(['daemon', 'status', '--json']);
      expect(status.code).toBe(0);
      const doc = JSON.parse(status.stdout);
      expect(doc).toMatchObject({ running: true, pid, home, socket, version: expect.any(String), uptimeMs: expect.any(Number) });
      const appServers: number[] = doc.hosts.map((h: { pid: number }) => h.pid);
      expect(appServers).toHaveLength(1);
      for (const p of appServers) seenPids.add(p);
      const text = await cli(['daemon', 'status']);
      expect(text.stdout).toContain(`daemon running: pid ${pid}`);
      expect(text.stdout).toContain(`host local  [ready] private pid ${appServers[0]}`);
      expect(text.stdout).toContain('api  [ready] on local');

      // A `dispatch` still waiting on the daemon when it stops.
      const plan = join(home, 'hang.json');
      await writeFile(plan, JSON.stringify({ version: 1, id: 'hang', actions: [{ id: 'h', workspace: 'api', prompt: '[silent] never answers', thread: 'new' }] }));
      const waiting = execa(process.execPath, [CLI, 'dispatch', '--plan', plan], { env: cliEnv, input: '', reject: false, timeout: 60_000 });
      const client = await DaemonClient.connect(socket);
      try {
        await expect.poll(async () => (await client.snapshot()).jobs['hang:h']?.status, { timeout: WAIT_MS }).toBe('running');
      } finally {
        client.close();
      }

      // An attached TUI, too.
      let stoppedScreen = '';
      const attached = spawnInTerminal(process.execPath, [CLI, 'attach'], { cols: 120, rows: 30, env: cliEnv });
      try {
        await attached.waitForText('· daemon · codex 0.171.0', WAIT_MS);
        const stop = await cli(['daemon', 'stop', '--grace', '1']);
        expect(stop.stderr).toBe('');
        expect(stop.code).toBe(0);
        expect(stop.stdout).toBe(`daemon stopped (pid ${pid})`);
        // It says why, and waits for the daemon to come back.
        await attached.waitForText('· daemon (stopped by daemon stop; reconnecting)', WAIT_MS);
        expect(attached.isAlternateScreen()).toBe(true);
        stoppedScreen = attached.screen();
        attached.write('q');
        const exit = await attached.waitForExit(15_000);
        expect(exit.exitCode).toBe(0);
        expect(attached.isAlternateScreen()).toBe(false);
      } finally {
        attached.dispose();
      }
      expect(stoppedScreen).toContain('stopped by daemon stop; waiting for it to come back (q quits)');

      expect(existsSync(daemonPaths(home).lock)).toBe(false);
      expect(existsSync(socket)).toBe(false);
      await expect.poll(() => isAlive(pid), { timeout: WAIT_MS }).toBe(false);
      for (const p of appServers) await expect.poll(() => isAlive(p), { timeout: WAIT_MS, message: `app-server ${p} survived the daemon` }).toBe(false);
      // The waiting dispatch fails clearly instead of waiting for ever.
      const lost = await waiting;
      expect(lost.timedOut).toBe(false);
      expect(lost.exitCode).toBe(1);
      expect(lost.stderr).toContain('the connection to the cm-supervisor daemon was lost');
      // The state was saved on the way out, after the app-servers were stopped.
      const saved = JSON.parse(readFileSync(daemonPaths(home).state, 'utf8'));
      expect(saved.state.jobs['cli:one'].status).toBe('completed');
      // The turn that would not finish within the grace was interrupted, and says so.
      expect(saved.state.jobs['hang:h']).toMatchObject({ status: 'interrupted', error: 'interrupted (stopped by daemon stop)' });
      const lostSignal = Object.values(saved.state.signals as Record<string, { kind: string; message: string; resolvedAtMs: number | null }>).find((s) => s.kind === 'failed');
      expect(lostSignal).toMatchObject({ message: 'interrupted (stopped by daemon stop): [silent] never answers', resolvedAtMs: null });
      expect((saved.state.activityFeed as { text: string }[]).map((e) => e.text)).toContain('interrupted (stopped by daemon stop)');
      expect(saved.state.workspaces.api).toMatchObject({ status: 'stopped' });
      expect(saved.state.hosts.local).toMatchObject({ status: 'stopped', pid: null });

      const after = await cli(['daemon', 'status']);
      expect(after.code).toBe(1);
      const inProcess = await cli(['status', '--json']);
      expect(JSON.parse(inProcess.stdout).mode).toBe('in-process');
    });
  });
});
