import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SupervisorError } from '../errors.js';

export function daemonPaths(home: string) {
  return {
    socket: join(home, 'daemon.sock'),
    lock: join(home, 'daemon.lock'),
    state: join(home, 'state.json'),
    log: join(home, 'daemon.log'),
    ledger: join(home, 'dispatch-ledger.json'),
    planner: join(home, 'planner'),
  };
}

/**
 * The longest path a Unix socket can have: `sun_path` holds 108 bytes on Linux (104 on macOS
 * and the BSDs), the last one the terminating NUL. A longer path is silently truncated by
 * listen and connect, which would then use another file, outside the home.
 */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

/** Refuses a socket path the kernel would truncate, before anything starts, listens or connects. */
export function checkSocketPath(socketPath: string): void {
  const bytes = Buffer.byteLength(socketPath);
  if (bytes <= MAX_SOCKET_PATH_BYTES) return;
  const maxHome = MAX_SOCKET_PATH_BYTES - Buffer.byteLength('/daemon.sock');
  throw new SupervisorError(
    `the daemon socket ${socketPath} is ${bytes} bytes long, over the ${MAX_SOCKET_PATH_BYTES}-byte limit of Unix socket paths; use a shorter home (--home or CM_SUPERVISOR_HOME) of at most ${maxHome} bytes, such as ~/.cm-supervisor`,
    2,
  );
}

/** Who runs the home's loop: the daemon, or a command in-process; `serves` when it listens on the socket. */
const LockSchema = z.object({
  pid: z.number().int().positive(),
  startedAtMs: z.number(),
  holder: z.string().default('daemon'),
  serves: z.boolean().default(true),
});
export type DaemonLock = z.infer<typeof LockSchema>;
export type LockHolder = Pick<DaemonLock, 'holder' | 'serves'>;

/** How a lock's holder is named in messages. */
export function describeHolder(lock: DaemonLock): string {
  return lock.holder === 'daemon' ? `the cm-supervisor daemon (pid ${lock.pid})` : `\`cm-supervisor ${lock.holder}\` (pid ${lock.pid})`;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running daemon of this home, if its lock names a live process. */
export function readLiveLock(home: string): DaemonLock | null {
  try {
    const lock = LockSchema.parse(JSON.parse(readFileSync(daemonPaths(home).lock, 'utf8')));
    return isProcessAlive(lock.pid) ? lock : null;
  } catch {
    return null;
  }
}

/**
 * One daemon per home: the lock file is created exclusively. A lock (and socket) left by a
 * dead daemon is detected and removed.
 */
export function acquireDaemonLock(home: string, startedAtMs: number, holder: LockHolder = { holder: 'daemon', serves: true }): () => void {
  const { lock, socket } = daemonPaths(home);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, startedAtMs, ...holder }));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(lock, 'utf8').includes(`"pid":${process.pid},`)) unlinkSync(lock);
        } catch {
          // Already gone.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const live = readLiveLock(home);
      if (live) {
        throw new SupervisorError(
          live.holder === 'daemon' ? `a cm-supervisor daemon is already running for ${home} (pid ${live.pid})` : `${describeHolder(live)} already supervises ${home}; wait for it to finish, or quit it`,
          1,
        );
      }
      // Stale: its process is gone.
      for (const path of [lock, socket]) {
        try {
          unlinkSync(path);
        } catch {
          // Not there.
        }
      }
    }
  }
  throw new SupervisorError(`could not take the daemon lock ${lock}`, 1);
}
