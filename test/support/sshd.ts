// A real OpenSSH server on 127.0.0.1 for tests of ssh hosts: its own host key, a client key
// in its authorized_keys, a known_hosts file for the client, all in one temp directory.
// Verified as root on Debian 12 (OpenSSH 9.2); CI installs openssh-server in .ci/run.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sshArgv } from '../../src/core/hosts/ssh.js';
import type { SshTarget } from '../../src/core/hosts/hostSpec.js';
import { childPids, isAlive } from './processes.js';

const SSHD = '/usr/sbin/sshd';
const HOST = '127.0.0.1';
const execFileAsync = promisify(execFile);

export interface SshdHandle {
  port: number;
  /** The user the client logs in as: whoever runs the tests. */
  user: string;
  /** `ssh://USER@127.0.0.1:PORT` */
  url: string;
  target: SshTarget;
  /** `-o` options for the client: the key, known_hosts (already holding the host key), quiet logs. */
  sshOptions: string[];
  dir: string;
  sshdPid: number;
  /** The sshd processes serving connections now (children of the listener, and theirs). */
  connectionPids(): number[];
  /**
   * SIGKILLs the sshd processes of every open connection: the ssh clients see the link drop.
   * Remote commands are left running, as after a real dropped link; stop() ends them.
   */
  killConnections(): number[];
  /** The last lines sshd logged (it runs with -e), for failure messages. */
  log(): string;
  /** Kills sshd and everything it started, waits until they are gone, removes the directory. */
  stop(): Promise<void>;
}

/** Starts sshd on a free port of 127.0.0.1 and waits until `ssh … true` works. */
export async function startSshd(): Promise<SshdHandle> {
  if (!existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: install OpenSSH's server to run the ssh host tests (apt-get install openssh-server; .ci/run does it)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'cm-sshd-'));
  try {
    await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cm-test-host', '-f', join(dir, 'hostkey')]);
    await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cm-test-client', '-f', join(dir, 'id')]);
    await copyFile(join(dir, 'id.pub'), join(dir, 'authorized_keys'));
    // sshd's privilege separation directory; only root can (and needs to) create it.
    await mkdir('/run/sshd', { recursive: true }).catch(() => {});
    return await startOnFreePort(dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startOnFreePort(dir: string): Promise<SshdHandle> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const started = spawnSshd(dir, port);
    const gone = () => started.child.exitCode !== null || started.child.signalCode !== null;
    try {
      await waitUntil(async () => gone() || (await accepts(port)), 10_000, `sshd to listen on ${HOST}:${port}`, started.log);
    } catch (error) {
      await started.stop();
      throw error;
    }
    if (!gone()) return finishStart(dir, port, started);
    await started.stop();
    const log = started.log();
    // Another process took the port between our probe and sshd's bind: try another.
    if (/Address already in use/i.test(log) && attempt < 5) continue;
    throw new Error(`sshd did not start on ${HOST}:${port}:\n${log}`);
  }
}

interface StartedSshd {
  child: ChildProcess;
  exited: Promise<void>;
  log(): string;
  stop(): Promise<void>;
}

function spawnSshd(dir: string, port: number): StartedSshd {
  const child = spawn(
    SSHD,
    [
      '-D',
      '-e',
      '-p',
      String(port),
      '-o',
      `ListenAddress=${HOST}`,
      '-o',
      `HostKey=${join(dir, 'hostkey')}`,
      '-o',
      `AuthorizedKeysFile=${join(dir, 'authorized_keys')}`,
      '-o',
      `PidFile=${join(dir, 'sshd.pid')}`,
      '-o',
      'StrictModes=no',
      '-o',
      'UsePAM=no',
      '-o',
      'PermitRootLogin=yes',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const lines: string[] = [];
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      lines.push(`spawn failed: ${String(error)}`);
      resolve();
    });
  });
  return {
    child,
    exited,
    log: () => [...lines, partial].filter((l) => l !== '').join('\n'),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function finishStart(dir: string, port: number, started: StartedSshd): Promise<SshdHandle> {
  const sshdPid = started.child.pid!;
  const user = userInfo().username;
  const target: SshTarget = { user, host: HOST, port };
  // The host key is known from the start: StrictHostKeyChecking stays on and nothing is written
  // to known_hosts while tests run ssh clients side by side.
  const [keyType, keyData] = (await readFile(join(dir, 'hostkey.pub'), 'utf8')).trim().split(/\s+/);
  await writeFile(join(dir, 'known_hosts'), `[${HOST}]:${port} ${keyType} ${keyData}\n`);
  const sshOptions = [
    `IdentityFile=${join(dir, 'id')}`,
    // Only that key: an ssh-agent of the machine running the tests must not spend MaxAuthTries.
    'IdentitiesOnly=yes',
    'StrictHostKeyChecking=yes',
    `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
    'LogLevel=ERROR',
  ];
  const leftovers = new Set<number>();
  const sshdDescendants = () => childPids(sshdPid);
  const connectionPids = () => sshdDescendants().filter((pid) => isSshd(pid));
  const handle: SshdHandle = {
    port,
    user,
    url: `ssh://${user}@${HOST}:${port}`,
    target,
    sshOptions,
    dir,
    sshdPid,
    connectionPids,
    killConnections() {
      const all = sshdDescendants();
      const connections = all.filter((pid) => isSshd(pid));
      for (const pid of all) if (!connections.includes(pid)) leftovers.add(pid);
      for (const pid of connections) signal(pid, 'SIGKILL');
      return connections;
    },
    log: started.log,
    async stop() {
      const all = [...sshdDescendants(), ...leftovers];
      await started.stop();
      for (const pid of all) signal(pid, 'SIGKILL');
      await waitUntil(() => [sshdPid, ...all].every((pid) => !isAlive(pid)), 5000, 'sshd and its children to exit');
      await rm(dir, { recursive: true, force: true });
    },
  };
  let lastFailure: string | null = null;
  try {
    await waitUntil(
      async () => (lastFailure = await sshTrue(target, sshOptions)) === null,
      10_000,
      `ssh ${handle.url} true to work`,
      () => `${lastFailure ?? ''}\nsshd log:\n${started.log()}`,
    );
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

/** null when `ssh … true` succeeds, else why not. */
async function sshTrue(target: SshTarget, sshOptions: string[]): Promise<string | null> {
  const [file, ...args] = sshArgv(target, sshOptions, ['true']);
  try {
    await execFileAsync(file!, args, { timeout: 5000 });
    return null;
  } catch (error) {
    const e = error as { code?: unknown; stderr?: string };
    return `ssh exited ${String(e.code)}: ${e.stderr ?? ''}`;
  }
}

/** OpenSSH 9.8 and later serve connections from `sshd-session` (and `sshd-auth`) processes. */
function isSshd(pid: number): boolean {
  return commandName(pid)?.startsWith('sshd') ?? false;
}

function commandName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
