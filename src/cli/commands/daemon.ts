import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DaemonClient } from '../../core/daemon/client.js';
import { checkSocketPath, daemonPaths, describeHolder, readLiveLock } from '../../core/daemon/home.js';
import { DAEMON_NODE_FLAGS } from '../../core/daemon/nodeFlags.js';
import { startDaemon } from '../../core/daemon/runDaemon.js';
import { SupervisorError } from '../../core/errors.js';
import { ensurePrivateHome } from '../../core/persistence/privateHome.js';
import { spawnDetached } from '../../core/process/spawnDetached.js';
import { sleep, within } from '../../core/util/timeout.js';
import { formatDuration } from '../../core/util/time.js';
import { connectToDaemon } from '../apiHandle.js';
import { ConfigStore } from '../../core/config/config.js';
import { codexBinFor, codexBinIsExplicit, type GlobalOptions } from '../globalOptions.js';
import type { CliIo } from '../io.js';
import { shutdownSignal } from '../shutdown.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

/** `daemon run`: the daemon in the foreground (for systemd, tmux, or `daemon start`). */
export async function daemonRun(globals: GlobalOptions, io: CliIo): Promise<void> {
  checkSocketPath(daemonPaths(globals.home).socket);
  // Handed to the daemon, which stops on it in every phase (before its listener is up, too).
  const signal = shutdownSignal();
  const daemon = await startDaemon({
    home: globals.home,
    codexBin: codexBinFor(globals, new ConfigStore(globals.home).read()),
    codexBinExplicit: codexBinIsExplicit(globals),
    log: (line) => io.err(`${new Date().toISOString()} ${line}\n`),
    signal,
  });
  await daemon.stopped;
}

function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** `daemon start`: starts `daemon run` in the background and returns once it answers. */
export async function daemonStart(globals: GlobalOptions, io: CliIo): Promise<void> {
  checkSocketPath(daemonPaths(globals.home).socket);
  const running = readLiveLock(globals.home);
  if (running) {
    throw new SupervisorError(
      running.holder === 'daemon' ? `a cm-supervisor daemon is already running for ${globals.home} (pid ${running.pid})` : `${describeHolder(running)} runs the loop of ${globals.home}; quit it first, then start the daemon`,
      1,
    );
  }
  ensurePrivateHome(globals.home);
  const paths = daemonPaths(globals.home);
  // Only an explicit choice is passed on: otherwise `daemon run` decides, reading config.json.
  const explicit = globals.codex.source === 'flag' || globals.codex.source === 'env' ? ['--codex-bin', globals.codex.path] : [];
  const child = spawnDetached([process.execPath, ...DAEMON_NODE_FLAGS, MAIN, '--home', globals.home, ...explicit, 'daemon', 'run'], { logFile: paths.log });
  let exitCode: number | null | undefined;
  void child.exited.then((code) => (exitCode = code));
  try {
    io.out(await waitUntilAnswering(globals.home, () => exitCode));
  } catch (error) {
    // A daemon that did not come up is not left running, half-started.
    if (exitCode === undefined) await endProcess(child.pid, child.exited);
    throw error;
  }
}

/** How long `daemon start` waits for the daemon to answer, and for it to end after SIGTERM when it did not. */
const START_TIMEOUT_MS = 20_000;
const KILL_GRACE_MS = 5_000;

/** Waits for the daemon just started to answer on its socket; what to print then. */
async function waitUntilAnswering(home: string, exitCode: () => number | null | undefined): Promise<string> {
  const paths = daemonPaths(home);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const code = exitCode();
    if (code !== undefined) {
      throw new SupervisorError(`the daemon exited during start (code ${code}); its log ${paths.log} ends with:\n${logTail(paths.log)}`, 1);
    }
    if (readLiveLock(home)) {
      try {
        const client = await DaemonClient.connect(paths.socket, { timeoutMs: 5_000 });
        const status = await client.status();
        client.close();
        return `daemon started: pid ${status.pid}, socket ${status.socket}, log ${paths.log}\n`;
      } catch {
        // Not listening yet.
      }
    }
    await sleep(100);
  }
  throw new SupervisorError(`the daemon did not answer within ${START_TIMEOUT_MS / 1000}s and was stopped; see ${paths.log}:\n${logTail(paths.log)}`, 1);
}

/** SIGTERM to the daemon's process group (its app-servers too), SIGKILL if it has not ended after the grace. */
async function endProcess(pid: number | undefined, exited: Promise<unknown>): Promise<void> {
  if (pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // Gone already.
    }
  };
  signalGroup('SIGTERM');
  if ((await within(exited.then(() => true), KILL_GRACE_MS)) === null) signalGroup('SIGKILL');
}

/** `daemon stop`: graceful (state saved, app-servers stopped); returns once it is gone. */
export async function daemonStop(globals: GlobalOptions, opts: { graceSeconds: number }, io: CliIo): Promise<void> {
  const lock = readLiveLock(globals.home);
  if (lock && lock.holder !== 'daemon') throw new SupervisorError(`no daemon runs for ${globals.home}: ${describeHolder(lock)} runs its loop; quit it there`, 1);
  const client = await connectToDaemon(globals);
  if (!client) throw new SupervisorError(`no cm-supervisor daemon is running for ${globals.home}`, 1);
  const { pid } = await client.status();
  await client.stop(opts.graceSeconds * 1000);
  client.close();
  const deadline = Date.now() + opts.graceSeconds * 1000 + 30_000;
  while (readLiveLock(globals.home)) {
    if (Date.now() > deadline) throw new SupervisorError(`the daemon (pid ${pid}) did not stop within 30s`, 1);
    await sleep(100);
  }
  io.out(`daemon stopped (pid ${pid})\n`);
}

export async function daemonStatus(globals: GlobalOptions, opts: { json?: boolean }, io: CliIo): Promise<number> {
  const client = await connectToDaemon(globals);
  if (!client) {
    io.out(opts.json ? `${JSON.stringify({ running: false, home: globals.home })}\n` : `no cm-supervisor daemon is running for ${globals.home}\n`);
    return 1;
  }
  try {
    const status = await client.status();
    const uptimeMs = Date.now() - status.startedAtMs;
    if (opts.json) io.out(`${JSON.stringify({ running: true, ...status, uptimeMs }, null, 2)}\n`);
    else {
      io.out(
        [
          `daemon running: pid ${status.pid}, up ${formatDuration(uptimeMs)}, cm-supervisor ${status.version}`,
          `  home    ${status.home}`,
          `  socket  ${status.socket}`,
          ...status.hosts.map((h) => `  host ${h.name}  [${h.status}]${h.transport ? ` ${h.transport}` : ''}${h.pid ? ` pid ${h.pid}` : ''}`),
          ...status.workspaces.map((w) => `  ${w.name}  [${w.status}] on ${w.host}`),
          '',
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    client.close();
  }
}
