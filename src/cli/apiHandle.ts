import type { SupervisorApi } from '../core/api/supervisorApi.js';
import { DaemonClient } from '../core/daemon/client.js';
import { daemonPaths, readLiveLock } from '../core/daemon/home.js';
import { SupervisorError } from '../core/errors.js';
import type { Supervisor } from '../core/loop/supervisor.js';
import type { GlobalOptions } from './globalOptions.js';

export interface ApiHandle {
  api: SupervisorApi;
  mode: 'daemon' | 'in-process';
  close(): Promise<void>;
}

/** The daemon of this home, when one runs; an error when its lock is live but it does not answer. */
export async function connectToDaemon(globals: GlobalOptions): Promise<DaemonClient | null> {
  const lock = readLiveLock(globals.home);
  if (!lock) return null;
  try {
    return await DaemonClient.connect(daemonPaths(globals.home).socket, { timeoutMs: 30_000 });
  } catch (error) {
    throw new SupervisorError(
      `the daemon for ${globals.home} (pid ${lock.pid}) is running but does not answer on its socket: ${error instanceof Error ? error.message : String(error)}`,
      1,
      { cause: error },
    );
  }
}

/**
 * The SupervisorApi the command talks to: the daemon's when one runs for this home (unless
 * --no-daemon), else a supervisor started in this process. Both behave the same.
 */
export async function openApi(globals: GlobalOptions & { noDaemon?: boolean }, inProcess: () => Promise<Supervisor>): Promise<ApiHandle> {
  const client = globals.noDaemon ? null : await connectToDaemon(globals);
  if (client) return { api: client, mode: 'daemon', close: async () => client.close() };
  const supervisor = await inProcess();
  return { api: supervisor, mode: 'in-process', close: () => supervisor.stop() };
}
