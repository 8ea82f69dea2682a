import { chmodSync, mkdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { SupervisorError } from '../errors.js';
import { quoteForPosixShell } from '../hosts/remoteQuote.js';

/*
 * The home holds config.json, whose workspace commands and codex binaries cm-supervisor runs,
 * and the daemon's socket: whoever can write either runs code as this user. So the home is made
 * 0700 and its files 0600 whatever the umask, and every command refuses (exit 2) a home or
 * config.json that others can write, saying the chmod that fixes it.
 */

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** `<home>/config.json`. */
export function configFileOf(home: string): string {
  return join(home, 'config.json');
}

/** Creates `dir` (and its parents) 0700 when it is missing; an existing one is left as it is. */
export function makePrivateDir(dir: string): void {
  const created = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  // The umask can only take bits away from mkdir's mode, but it can take the owner's too.
  if (created !== undefined) chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Creates the home 0700 when it is missing, then checks it as `checkPrivateHome` does. */
export function ensurePrivateHome(home: string): void {
  makePrivateDir(home);
  checkPrivateHome(home);
}

/**
 * Refuses (exit 2) a home or config.json that is another user's or that others can write, and
 * tightens one that others can merely read (older versions left them 0755/0644). Missing ones pass.
 */
export function checkPrivateHome(home: string): void {
  const dir = statOrNull(home);
  if (dir) {
    if (!dir.isDirectory()) throw new SupervisorError(`${home} is not a directory; choose another --home`, 2);
    requirePrivate(home, dir, PRIVATE_DIR_MODE, 'choose your own --home');
  }
  checkPrivateFile(configFileOf(home));
}

/** `checkPrivateHome` for one file of the home (config.json, read again on every change). */
export function checkPrivateFile(path: string): void {
  const stats = statOrNull(path);
  if (stats) requirePrivate(path, stats, PRIVATE_FILE_MODE, 'remove it or choose another --home');
}

function requirePrivate(path: string, stats: Stats, mode: number, otherOwnerFix: string): void {
  if (typeof process.getuid === 'function' && stats.uid !== process.getuid()) {
    throw new SupervisorError(`${path} belongs to another user (uid ${stats.uid}), who could change what cm-supervisor runs; ${otherOwnerFix}`, 2);
  }
  const actual = stats.mode & 0o777;
  if ((actual & 0o022) !== 0) {
    throw new SupervisorError(
      `${path} is writable by others (mode ${actual.toString(8)}): they could change what cm-supervisor runs as you; run \`chmod ${mode.toString(8)} ${quoteForPosixShell(path)}\` first`,
      2,
    );
  }
  if ((actual & 0o077) !== 0) chmodSync(path, mode);
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
