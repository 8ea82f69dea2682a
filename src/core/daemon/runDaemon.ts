import { unlinkSync } from 'node:fs';
import { ConfigStore, hostSpecs, withNamedCodexBin, workspaceSpecs, type Config } from '../config/config.js';
import { DispatchLedger } from '../dispatch/ledger.js';
import { Supervisor } from '../loop/supervisor.js';
import { packageInfo } from '../packageInfo.js';
import { StateStore } from '../persistence/stateStore.js';
import type { SupervisorState } from '../state/model.js';
import { acquireDaemonLock, daemonPaths, ensurePrivateHome } from './home.js';
import { DaemonServer } from './server.js';

export interface DaemonOptions {
  home: string;
  /** Decided by the caller (flag, environment, config.json, bundled). */
  codexBin: string;
  /** The user named it (flag or environment): it is the binary of every local host, whatever config.json says. */
  codexBinExplicit?: boolean;
  /** Added to every app-server's environment (tests point CODEX_HOME at a mock). */
  env?: Record<string, string>;
  pollIntervalMs?: number;
  stallAfterMs?: number;
  saveDebounceMs?: number;
  /** Replaces the state file writer (tests simulate a full disk). */
  writeState?: (path: string, data: string) => void;
  log?: (line: string) => void;
}

export interface RunningDaemon {
  supervisor: Supervisor;
  socketPath: string;
  /** Resolves once the daemon has stopped (after `stop()`, `daemon.stop` or a signal). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the daemon: private home, one-per-home lock, restored state, the supervisor loop for
 * the configured workspaces, the owner-only socket, and debounced saves of the state. Stopping
 * saves the state, stops every app-server and removes the socket and the lock.
 */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const log = options.log ?? (() => {});
  const startedAtMs = Date.now();
  ensurePrivateHome(options.home);
  const paths = daemonPaths(options.home);
  const releaseLock = acquireDaemonLock(options.home, startedAtMs);
  try {
    const config: Config = new ConfigStore(options.home).read();
    let writeFailing = false;
    let supervisor: Supervisor | null = null;
    const store = new StateStore(paths.state, {
      debounceMs: options.saveDebounceMs ?? 500,
      ...(options.writeState ? { write: options.writeState } : {}),
      onError: (error) => {
        // Reported once per failing spell: reporting is itself a change, which would schedule
        // another (failing) save and add a feed entry on every attempt.
        if (writeFailing) return;
        writeFailing = true;
        log(`state save failed: ${error.message}`);
        supervisor?.reportProblem('state-write', `could not save the state to ${paths.state} (${error.message}); the previous file is intact`);
      },
      onSaved: () => {
        if (!writeFailing) return;
        writeFailing = false;
        log('state saved again');
        supervisor?.clearProblem('state-write');
      },
    });
    const loaded = store.load();
    const hosts = hostSpecs(config);
    supervisor = new Supervisor({
      hosts: options.codexBinExplicit ? withNamedCodexBin(hosts) : hosts,
      workspaces: workspaceSpecs(config),
      codexBin: options.codexBin,
      ledger: new DispatchLedger(paths.ledger),
      plannerDir: paths.planner,
      ...(options.env ? { env: options.env } : {}),
      ...(loaded.kind === 'loaded' ? { restored: loaded.state } : {}),
      ...((options.pollIntervalMs ?? config.pollIntervalSec) ? { pollIntervalMs: options.pollIntervalMs ?? config.pollIntervalSec! * 1000 } : {}),
      ...((options.stallAfterMs ?? config.stallAfterSec) ? { stallAfterMs: options.stallAfterMs ?? config.stallAfterSec! * 1000 } : {}),
    });
    const sup = supervisor;
    if (loaded.kind === 'setAside') {
      log(`state file unreadable (${loaded.reason}); moved to ${loaded.movedTo}`);
      sup.reportProblem('state-corrupt', `the state file was unreadable (${loaded.reason}); it was moved to ${loaded.movedTo} and the daemon started fresh`);
    }
    const stopSaving = sup.subscribe((change) => {
      // Streamed deltas change only activity times; they are saved with the next real change.
      if (change.eventType !== 'item/progress') store.schedule(sup.liveState() as SupervisorState);
    });

    let resolveStopped: () => void = () => {};
    const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
    let stopping: Promise<void> | null = null;
    const server = new DaemonServer(sup, {
      version: packageInfo().version,
      status: () => ({
        pid: process.pid,
        startedAtMs,
        version: packageInfo().version,
        home: options.home,
        socket: paths.socket,
        hosts: Object.values(sup.liveState().hosts).map((h) => ({ name: h.name, status: h.status, transport: h.transport, pid: h.pid })),
        workspaces: Object.values(sup.liveState().workspaces).map((w) => ({ name: w.name, host: w.host, status: w.status })),
      }),
      stop: () => void stop(),
    });
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        log('stopping');
        await server.close();
        await sup.stop();
        // The last save: an app-server's exit may still be reported after stop() resolved, and
        // must not schedule a write after the lock is released (a new daemon may own the file).
        stopSaving();
        store.schedule(sup.liveState() as SupervisorState);
        store.flush();
        releaseLock();
        try {
          unlinkSync(paths.socket);
        } catch {
          // Already gone.
        }
        log('stopped');
        resolveStopped();
      })();
      return stopping;
    };

    await server.listen(paths.socket);
    log(`listening on ${paths.socket} (pid ${process.pid})`);
    await sup.start();
    store.schedule(sup.liveState() as SupervisorState);
    return { supervisor: sup, socketPath: paths.socket, stopped, stop };
  } catch (error) {
    releaseLock();
    throw error;
  }
}
