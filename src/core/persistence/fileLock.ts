import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { isProcessAlive } from '../daemon/home.js';
import { SupervisorError } from '../errors.js';
import { sleep } from '../util/timeout.js';

/** A process as a lock names it: its pid and (on Linux) its start time, so a reused pid is not taken for the owner. */
export const ProcessIdentitySchema = z.object({ pid: z.number().int().positive(), startTicks: z.string().nullable() });
export type ProcessIdentity = z.infer<typeof ProcessIdentitySchema>;

const LockSchema = ProcessIdentitySchema.extend({ acquiredAtMs: z.number() });

/** The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat); null where there is no /proc. */
function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

let self: ProcessIdentity | null = null;
export function thisProcess(): ProcessIdentity {
  self ??= { pid: process.pid, startTicks: processStartTicks(process.pid) };
  return self;
}

/** Whether the process an identity names still runs (a live pid with another start time is someone else). */
export function isAlive(owner: ProcessIdentity): boolean {
  if (!isProcessAlive(owner.pid)) return false;
  if (owner.startTicks === null) return true;
  const now = processStartTicks(owner.pid);
  return now === null || now === owner.startTicks;
}

export interface FileLockOptions {
  /** Give up after waiting this long for a live owner. */
  waitMs?: number;
  /** How the guarded file is named in the error, e.g. `the dispatch ledger`. */
  what: string;
}

/** A takeover marker older than this was left by a process that died within its few microseconds. */
const TAKEOVER_STALE_MS = 5_000;

/**
 * Runs `work` while holding an exclusive lock file at `path`. The lock is created complete (a
 * temp file hard-linked into place, which fails if it exists), so a reader never sees it half
 * written. A lock whose owner died is taken over; a live owner is waited for up to `waitMs`,
 * then a clear error names it.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>, options: FileLockOptions): Promise<T> {
  const waitMs = options.waitMs ?? 10_000;
  const content = JSON.stringify({ ...thisProcess(), acquiredAtMs: Date.now() });
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temp, content, { mode: 0o600 });
  const started = Date.now();
  try {
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      try {
        linkSync(temp, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const seen = readLock(path);
      if (seen === null) continue;
      if (seen.owner === null || !isAlive(seen.owner)) {
        // Another process is taking it over right now: give it a moment.
        if (!takeOver(path, seen.text)) await sleep(delay);
        continue;
      }
      if (Date.now() - started > waitMs) {
        const held = Math.round((Date.now() - seen.owner.acquiredAtMs) / 1000);
        throw new SupervisorError(
          `${options.what} is locked by pid ${seen.owner.pid} (for ${held}s; lock file ${path}); waited ${waitMs / 1000}s. If that process hangs, end it and try again`,
          1,
        );
      }
      await sleep(delay + Math.random() * delay);
    }
  } finally {
    unlinkQuietly(temp);
  }
  try {
    return await work();
  } finally {
    // Only our own lock: a takeover by someone else (we were presumed dead) is theirs now.
    if (readLock(path)?.text === content) unlinkQuietly(path);
  }
}

/** The lock file's text and owner (null when unreadable); null when there is no lock file. */
function readLock(path: string): { text: string; owner: z.infer<typeof LockSchema> | null } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = LockSchema.safeParse(JSON.parse(text));
    return { text, owner: parsed.success ? parsed.data : null };
  } catch {
    return { text, owner: null };
  }
}

/**
 * Removes a stale lock (false: another process is at it), unless another process replaced it meanwhile: two processes that saw
 * the same stale lock must not both remove it (the second would remove the first one's new
 * lock), so the check and the removal happen under a short takeover marker.
 */
function takeOver(path: string, staleText: string): boolean {
  const marker = `${path}.takeover`;
  try {
    writeFileSync(marker, String(process.pid), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    try {
      if (Date.now() - statSync(marker).mtimeMs > TAKEOVER_STALE_MS) unlinkQuietly(marker);
    } catch {
      // Gone meanwhile.
    }
    return false;
  }
  try {
    if (readLock(path)?.text === staleText) unlinkQuietly(path);
    return true;
  } finally {
    unlinkQuietly(marker);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
