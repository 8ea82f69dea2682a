import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/**
 * Starts a process that outlives us (the daemon): its own session, no terminal, stdout and
 * stderr appended to a log file by file descriptor. Plain `spawn` rather than execa here:
 * execa would pipe the output through this process, which must be free to exit at once.
 */
export function spawnDetached(
  argv: readonly string[],
  options: { logFile: string; env?: Record<string, string | undefined> },
): { pid: number | undefined; exited: Promise<number | null> } {
  const [file, ...args] = argv;
  if (!file) throw new Error('cannot start a process: the command is empty');
  const log = openSync(options.logFile, 'a', 0o600);
  try {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', log, log], env: { ...process.env, ...options.env } });
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(null));
    });
    child.unref();
    return { pid: child.pid, exited };
  } finally {
    closeSync(log);
  }
}
