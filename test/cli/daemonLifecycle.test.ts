// How the BUILT CLI's daemon starts and ends when things go wrong: a home whose socket path is
// too long, and SIGTERM while the daemon is still starting its hosts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../../src/core/daemon/client.js';
import { daemonPaths, MAX_SOCKET_PATH_BYTES } from '../../src/core/daemon/home.js';
import { SupervisorError } from '../../src/core/errors.js';
import { childPids, isAlive } from '../support/processes.js';
import { CLI, runBuiltCli } from '../support/runBuiltCli.js';

const FAKE_APP_SERVER = fileURLToPath(new URL('../support/fakeAppServer.mjs', import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];
/** Processes a test saw: none may outlive it. */
const seenPids = new Set<number>();

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  for (const pid of seenPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  seenPids.clear();
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Every running process whose command line names `text`. */
function processesNaming(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter(isAlive);
}

describe('a home whose socket path is too long for a Unix socket', () => {
  it('`daemon start` and `daemon run` exit 2 at once, naming the limit, the length and a shorter home; nothing is left running or created', async () => {
    const base = await tempDir('cm-long-');
    // One byte over: the socket path is MAX_SOCKET_PATH_BYTES + 1 bytes long.
    const home = join(base, 'h'.repeat(MAX_SOCKET_PATH_BYTES + 1 - base.length - '/'.length - '/daemon.sock'.length));
    const socket = daemonPaths(home).socket;
    expect(Buffer.byteLength(socket)).toBe(MAX_SOCKET_PATH_BYTES + 1);
    const expected = `cm-supervisor: the daemon socket ${socket} is ${MAX_SOCKET_PATH_BYTES + 1} bytes long, over the ${MAX_SOCKET_PATH_BYTES}-byte limit of Unix socket paths; use a shorter home (--home or CM_SUPERVISOR_HOME) of at most ${MAX_SOCKET_PATH_BYTES - 12} bytes, such as ~/.cm-supervisor`;
    for (const command of [['daemon', 'start'], ['daemon', 'run']]) {
      const startedAt = Date.now();
      const r = await runBuiltCli(['--home', home, ...command]);
      expect(r.code, command.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(expected);
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      expect(processesNaming(home)).toEqual([]);
      expect(existsSync(home)).toBe(false);
    }
    // The same home through CM_SUPERVISOR_HOME.
    const viaEnv = await runBuiltCli(['daemon', 'run'], { env: { ...process.env, CM_SUPERVISOR_HOME: home } });
    expect(viaEnv.code).toBe(2);
    expect(viaEnv.stderr).toBe(expected);
    // A client is refused the same way instead of connecting to a truncated path.
    const refused = await DaemonClient.connect(socket).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(SupervisorError);
    expect((refused as SupervisorError).exitCode).toBe(2);
    expect((refused as SupervisorError).message).toBe(expected.replace('cm-supervisor: ', ''));
  });

  it('a home right at the limit still works', async () => {
    const base = await tempDir('cm-long-');
    const home = join(base, 'h'.repeat(MAX_SOCKET_PATH_BYTES - base.length - '/'.length - '/daemon.sock'.length));
    expect(Buffer.byteLength(daemonPaths(home).socket)).toBe(MAX_SOCKET_PATH_BYTES);
    const daemon = spawn(process.execPath, [CLI, '--home', home, 'daemon', 'run'], { stdio: 'ignore' });
    children.push(daemon);
    const exited = new Promise<number | null>((resolve) => daemon.once('exit', resolve));
    await expect.poll(async () => (await DaemonClient.connect(daemonPaths(home).socket, { timeoutMs: 2_000 }).then((c) => (c.close(), true), () => false)), { timeout: 20_000 }).toBe(true);
    daemon.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('`daemon start` never leaves a daemon behind', () => {
  it('a daemon that does not answer within 20 s is ended, and the message says so', async () => {
    const dir = await tempDir('cm-stuck-');
    // Preloaded into every node process of the command: only `daemon run` blocks, before any of its code runs.
    const stuck = join(dir, 'stuck.cjs');
    await writeFile(stuck, `if (process.argv.includes('run')) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600000);\n`);
    const home = join(dir, 'home');
    const r = await runBuiltCli(['--home', home, 'daemon', 'start'], { env: { ...process.env, NODE_OPTIONS: `--require ${stuck}` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cm-supervisor: the daemon did not answer within 20s and was stopped; see ${daemonPaths(home).log}`);
    expect(processesNaming(home)).toEqual([]);
  }, 60_000);
});

describe('SIGTERM ends `daemon run` in every phase', () => {
  it('while its host is still starting (an app-server that never answers initialize): the daemon and the app-server end', async () => {
    const dir = await tempDir('cm-sigterm-');
    const home = join(dir, 'home');
    const workspace = join(dir, 'ws');
    await mkdir(workspace);
    const codex = join(dir, 'codex-never-ready');
    await writeFile(codex, `#!/bin/sh\nexec "${process.execPath}" "${FAKE_APP_SERVER}" --no-init-reply\n`);
    await chmod(codex, 0o755);
    await mkdir(home, { mode: 0o700 });
    await writeFile(join(home, 'config.json'), JSON.stringify({ workspaces: [{ name: 'ws', path: workspace }] }));
    let log = '';
    const daemon = spawn(process.execPath, [CLI, '--home', home, '--codex-bin', codex, 'daemon', 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(daemon);
    daemon.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    daemon.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => daemon.once('exit', (code, signal) => resolve({ code, signal })));
    // Listening, its one host still connecting to an app-server that never gets ready.
    let appServers: number[] = [];
    await expect
      .poll(
        () => {
          appServers = childPids(daemon.pid!).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('fakeAppServer'));
          return appServers.length > 0 && existsSync(daemonPaths(home).socket);
        },
        { timeout: 20_000, message: `the daemon did not start its host; its log:\n${log}` },
      )
      .toBe(true);
    for (const pid of appServers) seenPids.add(pid);
    const client = await DaemonClient.connect(daemonPaths(home).socket, { timeoutMs: 5_000 });
    expect((await client.status()).workspaces).toEqual([{ name: 'ws', host: 'local', status: expect.not.stringMatching(/^ready$/) }]);
    client.close();

    daemon.kill('SIGTERM');
    const ended = await Promise.race([exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000))]);
    expect(ended, `the daemon ignored SIGTERM; its log:\n${log}`).toEqual({ code: 0, signal: null });
    expect(log).toContain('stopped by SIGTERM');
    for (const pid of appServers) await expect.poll(() => isAlive(pid), { timeout: 10_000 }).toBe(false);
    expect(existsSync(daemonPaths(home).lock)).toBe(false);
    expect(existsSync(daemonPaths(home).socket)).toBe(false);
  });
});
