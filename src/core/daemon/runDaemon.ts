import { unlinkSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigStore, hostSpecs, withNamedCodexBin, workspaceSpecs, type Config } from '../config/config.js';
import { DispatchLedger } from '../dispatch/ledger.js';
import { worktreeManager } from '../git/worktrees.js';
import { Supervisor, type StopOptions, type SupervisorOptions } from '../loop/supervisor.js';
import { packageInfo } from '../packageInfo.js';
import { StateStore } from '../persistence/stateStore.js';
import type { SupervisorState } from '../state/model.js';
import { ensurePrivateHome } from '../persistence/privateHome.js';
import { acquireDaemonLock, checkSocketPath, daemonPaths } from './home.js';
import { DaemonServer } from './server.js';

export interface DaemonOptions {
  home: string;
  /** Decided by the caller (flag, environment, config.json, bundled). */
  codexBin: string;
  /** The user named it (flag or environment): it is the binary of every local host, whatever config.json says. */
  codexBinExplicit?: boolean;
  /** Added to every app-server's environment (tests point CODEX_HOME at a mock). */
  env?: Record<string, string>;
  /** Who runs the loop, for the lock and messages: `daemon`, or the command running it in-process. */
  holder?: string;
  /** Listen on the home's socket, so other commands use this loop (off for a quick `status`). */
  serve?: boolean;
  /** Resolve once every host's first connection settled (default); off: as soon as the loop runs. */
  awaitStart?: boolean;
  /** More options for the supervisor (an in-process `dispatch` does not catch up). */
  supervisor?: Partial<SupervisorOptions>;
  pollIntervalMs?: number;
  stallAfterMs?: number;
  saveDebounceMs?: number;
  /** How soon after config.json changed it is read again (edits come in bursts). */
  configSettleMs?: number;
  /** Replaces the state file writer (tests simulate a full disk). */
  writeState?: (path: string, data: string) => void;
  log?: (line: string) => void;
  /** Stops the daemon when aborted, whatever it is doing (starting included). */
  signal?: AbortSignal;
}

export interface RunningDaemon {
  supervisor: Supervisor;
  socketPath: string;
  /** Resolves once the daemon has stopped (after `stop()`, `daemon.stop` or a signal). */
  stopped: Promise<void>;
  stop(options?: StopOptions): Promise<void>;
  /** Reads config.json again and applies it; what changed, in words. Invalid: the last good one stays. */
  reloadConfig(): Promise<ConfigReload>;
}

export type ConfigReload = { ok: true; changes: string[] } | { ok: false; problem: string };

/** How long `daemon stop` (and SIGTERM) lets turns of private app-servers finish. */
export const DEFAULT_STOP_GRACE_MS = 10_000;

/**
 * The home's one loop: private home, the one-per-home lock, the persisted state restored, the
 * supervisor for the configured hosts and workspaces, config.json followed while it runs, the
 * owner-only socket (so every other command uses this loop), and debounced saves. The daemon
 * runs it; so does an in-process command when no daemon runs, which is why both answer alike.
 * Stopping saves the state, stops every private app-server, and removes the socket and the lock.
 */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const log = options.log ?? (() => {});
  const startedAtMs = Date.now();
  const paths = daemonPaths(options.home);
  const serve = options.serve ?? true;
  if (serve) checkSocketPath(paths.socket);
  ensurePrivateHome(options.home);
  const releaseLock = acquireDaemonLock(options.home, startedAtMs, { holder: options.holder ?? 'daemon', serves: serve });
  let stopWatching = () => {};
  // What a failed start has to undo; set as each part starts.
  let supervisor: Supervisor | null = null;
  let server: DaemonServer | null = null;
  let listening = false;
  try {
    const configStore = new ConfigStore(options.home);
    const config: Config = configStore.read();
    const hostsOf = (c: Config) => (options.codexBinExplicit ? withNamedCodexBin(hostSpecs(c)) : hostSpecs(c));
    let writeFailing = false;
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
    const ledger = new DispatchLedger(paths.ledger);
    supervisor = new Supervisor({
      hosts: hostsOf(config),
      workspaces: workspaceSpecs(config),
      codexBin: options.codexBin,
      ledger,
      worktrees: worktreeManager(options.home),
      plannerDir: paths.planner,
      ...(options.env ? { env: options.env } : {}),
      ...(loaded.kind === 'loaded' ? { restored: loaded.state } : {}),
      ...((options.pollIntervalMs ?? config.pollIntervalSec) ? { pollIntervalMs: options.pollIntervalMs ?? config.pollIntervalSec! * 1000 } : {}),
      ...((options.stallAfterMs ?? config.stallAfterSec) ? { stallAfterMs: options.stallAfterMs ?? config.stallAfterSec! * 1000 } : {}),
      ...options.supervisor,
    });
    const sup = supervisor;
    const notificationsOf = (c: Config) => ({ enabled: c.notifications?.enabled ?? true, kinds: c.notifications?.kinds ?? null, muted: c.notifications?.muted ?? [] });
    sup.setNotifications(notificationsOf(config));
    if (loaded.kind === 'setAside') {
      log(`state file unreadable (${loaded.reason}); moved to ${loaded.movedTo}`);
      sup.reportProblem('state-corrupt', `the state file was unreadable (${loaded.reason}); it was moved to ${loaded.movedTo} and the daemon started fresh`);
    }
    if (ledger.setAside) sup.reportProblem('ledger-corrupt', `the dispatch ledger was unreadable; it was moved to ${ledger.setAside} and a new one started (plans sent before may be sent again)`);
    const stopSaving = sup.subscribe((change) => {
      // Streamed deltas change only activity times; they are saved with the next real change.
      if (change.eventType !== 'item/progress') store.schedule(sup.liveState() as SupervisorState);
    });

    // Reloads run one after the other: a burst of edits must not apply two configs at once.
    let reloading: Promise<ConfigReload> = Promise.resolve({ ok: true, changes: [] });
    const reloadConfig = (): Promise<ConfigReload> => {
      reloading = reloading.then(async () => {
        let next: Config;
        try {
          next = configStore.read();
        } catch (error) {
          const problem = `${error instanceof Error ? error.message : String(error)}; the last good configuration stays in use until the file is fixed`;
          log(`config: ${problem}`);
          sup.reportProblem('config', problem);
          return { ok: false, problem };
        }
        sup.clearProblem('config');
        sup.setNotifications(notificationsOf(next));
        const changes = await sup.applyConfig(hostsOf(next), workspaceSpecs(next));
        if (changes.length > 0) log(`config: ${changes.join('; ')}`);
        return { ok: true, changes };
      });
      return reloading;
    };
    stopWatching = watchConfig(configStore.path, options.configSettleMs ?? 150, () => void reloadConfig());

    let resolveStopped: () => void = () => {};
    const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
    let stopping: Promise<void> | null = null;
    server = serve
      ? new DaemonServer(sup, {
          log,
          version: packageInfo().version,
          status: () => ({
            pid: process.pid,
            startedAtMs,
            version: packageInfo().version,
            home: options.home,
            socket: paths.socket,
            holder: options.holder ?? 'daemon',
            hosts: Object.values(sup.liveState().hosts).map((h) => ({ name: h.name, status: h.status, transport: h.transport, pid: h.pid })),
            workspaces: Object.values(sup.liveState().workspaces).map((w) => ({ name: w.name, host: w.host, status: w.status })),
          }),
          stop: (graceMs) => void stop({ graceMs: graceMs ?? DEFAULT_STOP_GRACE_MS, reason: 'stopped by daemon stop' }),
          reloadConfig,
        })
      : null;
    const listener = server;
    const stop = (stopOptions: StopOptions = {}): Promise<void> => {
      stopping ??= (async () => {
        log(`stopping: ${stopOptions.reason ?? 'the daemon stopped'}`);
        stopWatching();
        await listener?.close(stopOptions.reason ?? 'the daemon stopped');
        await sup.stop(stopOptions);
        // The last save: an app-server's exit may still be reported after stop() resolved, and
        // must not schedule a write after the lock is released (a new daemon may own the file).
        stopSaving();
        store.schedule(sup.liveState() as SupervisorState);
        store.flush();
        releaseLock();
        if (listener) removeSocket(paths.socket);
        log('stopped');
        resolveStopped();
      })();
      return stopping;
    };

    // A signal stops the daemon in any phase from here on; one that came earlier stops it now.
    const signal = options.signal;
    const onSignal = () => void stop({ graceMs: DEFAULT_STOP_GRACE_MS, reason: `stopped by ${String(signal?.reason ?? 'a signal')}` });
    if (signal?.aborted) onSignal();
    else signal?.addEventListener('abort', onSignal, { once: true });
    const running: RunningDaemon = { supervisor: sup, socketPath: paths.socket, stopped, stop, reloadConfig };
    if (listener && !stopping) {
      listening = true;
      await listener.listen(paths.socket);
      log(`listening on ${paths.socket} (pid ${process.pid})`);
    }
    if (stopping) return running;
    const starting = sup.start();
    const logStartError = (error: unknown) => log(`start: ${error instanceof Error ? error.message : String(error)}`);
    if (options.awaitStart === false) starting.catch(logStartError);
    else {
      try {
        await starting;
      } catch (error) {
        // Stopped while starting: what failed because of the stop is not a start failure.
        if (!stopping) throw error;
        logStartError(error);
      }
    }
    // After a stop the lock is released: another daemon may own the state file by now.
    if (!stopping) store.schedule(sup.liveState() as SupervisorState);
    return running;
  } catch (error) {
    // A failed start leaves nothing behind: no listener (it would keep the process alive), no app-server, no socket, no lock.
    stopWatching();
    await server?.close('the daemon could not start').catch(() => {});
    if (listening) removeSocket(paths.socket);
    await supervisor?.stop().catch(() => {});
    releaseLock();
    throw error;
  }
}

function removeSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/**
 * Calls `onChange` once config.json settled after a change (conf replaces the file by a
 * rename, so the directory is watched, not the file). Returns the stop function.
 */
function watchConfig(file: string, settleMs: number, onChange: () => void): () => void {
  let timer: NodeJS.Timeout | null = null;
  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(file), (_event, name) => {
      if (name !== basename(file)) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        onChange();
      }, settleMs);
    });
  } catch {
    // No watching on this file system: changes still arrive through `daemon.reloadConfig`.
    return () => {};
  }
  watcher.on('error', () => {});
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}
