import type { SupervisorApi } from '../core/api/supervisorApi.js';
import { ConfigStore } from '../core/config/config.js';
import { DaemonClient } from '../core/daemon/client.js';
import { daemonPaths, describeHolder, readLiveLock, type DaemonLock } from '../core/daemon/home.js';
import { startDaemon, type RunningDaemon } from '../core/daemon/runDaemon.js';
import { SupervisorError } from '../core/errors.js';
import type { StopOptions, SupervisorOptions } from '../core/loop/supervisor.js';
import { sleep } from '../core/util/timeout.js';
import { codexBinFor, codexBinIsExplicit, type GlobalOptions } from './globalOptions.js';

export interface ApiHandle {
  api: SupervisorApi;
  /** `daemon`: another process runs the home's loop and this command talks to it. */
  mode: 'daemon' | 'in-process';
  /** Ends this command's use: disconnects, or stops the loop it ran (saving the state). */
  close(options?: StopOptions): Promise<void>;
}

/** How a command runs the home's loop when no other process does. */
export interface InProcessLoop {
  /** The command, named in the lock and in messages to other commands: `status`, `tui`, … */
  holder: string;
  /** Listen on the home's socket, so other commands use this loop while it runs (long-running commands). */
  serve: boolean;
  /** Return as soon as the loop runs, before every host connected (dispatch sends each action as its host is ready). */
  awaitStart?: boolean;
  supervisor?: Partial<SupervisorOptions>;
  /** When using another process's loop: wait for it and join again if it goes away (long-running commands). */
  reconnect?: boolean;
}

/** How long a command waits for a quick one (`status`, `feed`) that holds the home without serving it. */
const QUICK_HOLDER_WAIT_MS = 30_000;

/** The loop of this home that other commands can use, if one runs; waits out a quick command's loop. */
async function liveLoop(home: string): Promise<DaemonLock | null> {
  const deadline = Date.now() + QUICK_HOLDER_WAIT_MS;
  for (;;) {
    const lock = readLiveLock(home);
    if (!lock || lock.serves) return lock;
    if (Date.now() > deadline) throw new SupervisorError(`${describeHolder(lock)} has held ${home} for more than ${QUICK_HOLDER_WAIT_MS / 1000}s; try again, or end that process`, 1);
    await sleep(100);
  }
}

/**
 * How long a loop whose socket does not answer is waited for: it may be starting (the socket
 * comes after the lock) or stopping (the lock goes after the socket).
 */
const SETTLE_MS = 10_000;

/** The daemon of this home (or a command serving its loop), when one runs; an error when it does not answer. */
export async function connectToDaemon(globals: GlobalOptions, options: { reconnect?: boolean } = {}): Promise<DaemonClient | null> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const lock = await liveLoop(globals.home);
    if (!lock) return null;
    try {
      return await DaemonClient.connect(daemonPaths(globals.home).socket, { timeoutMs: 30_000, ...options });
    } catch (error) {
      if (Date.now() < deadline) {
        await sleep(100);
        continue;
      }
      throw new SupervisorError(
        `${describeHolder(lock)} runs for ${globals.home} but does not answer on its socket: ${error instanceof Error ? error.message : String(error)}`,
        1,
        { cause: error },
      );
    }
  }
}

/**
 * The SupervisorApi a command talks to. One loop per home: when the daemon (or another command)
 * runs it, every command uses that one; otherwise this command runs the home's loop itself, from
 * the persisted state, and saves it back when done. `--no-daemon` while a loop runs would start a
 * second one on the same threads, so it is refused.
 */
export async function openApi(globals: GlobalOptions & { noDaemon?: boolean }, loop: InProcessLoop): Promise<ApiHandle> {
  for (let attempt = 0; ; attempt++) {
    const lock = await liveLoop(globals.home);
    if (lock) {
      if (globals.noDaemon) {
        throw new SupervisorError(
          `${describeHolder(lock)} already supervises ${globals.home}; --no-daemon would start a second loop on the same threads. Leave out --no-daemon to use it${lock.holder === 'daemon' ? ', or stop it first with `cm-supervisor daemon stop`' : ''}`,
          2,
        );
      }
      const client = await connectToDaemon(globals, { reconnect: loop.reconnect ?? false });
      if (client) return { api: client, mode: 'daemon', close: async () => client.close() };
    }
    try {
      const running = await runLoopHere(globals, loop);
      return { api: running.supervisor, mode: 'in-process', close: (options) => running.stop(options) };
    } catch (error) {
      // Another command took the home between our look and our lock: use its loop.
      if (attempt === 0 && readLiveLock(globals.home)) continue;
      throw error;
    }
  }
}

function runLoopHere(globals: GlobalOptions, loop: InProcessLoop): Promise<RunningDaemon> {
  const config = new ConfigStore(globals.home).read();
  return startDaemon({
    home: globals.home,
    codexBin: codexBinFor(globals, config),
    codexBinExplicit: codexBinIsExplicit(globals),
    holder: loop.holder,
    serve: loop.serve,
    ...(loop.awaitStart === undefined ? {} : { awaitStart: loop.awaitStart }),
    ...(loop.supervisor ? { supervisor: loop.supervisor } : {}),
  });
}
