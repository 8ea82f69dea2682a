import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { makePrivateDir } from './privateHome.js';

/**
 * Writes a file so that readers see the old or the new content, never a mix: a temp file in
 * the same directory, fsync, rename over the target, fsync the directory. On failure the old
 * file is untouched and the error is thrown. The file gets `mode` exactly, whatever the umask;
 * a missing directory is created 0700.
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const dir = dirname(path);
  makePrivateDir(dir);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(temp, 'w', mode);
    fchmodSync(fd, mode);
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== null) closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  try {
    const dirFd = openSync(dir, 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  } catch {
    // Some filesystems cannot fsync a directory; the rename itself is still atomic.
  }
}

/** `writeFileAtomic` without blocking the event loop (fsyncs can take tens of ms under load). */
export async function writeFileAtomicAsync(path: string, data: string, mode = 0o600): Promise<void> {
  const { open, rename, rm } = await import('node:fs/promises');
  const dir = dirname(path);
  makePrivateDir(dir);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const file = await open(temp, 'w', mode);
    try {
      await file.chmod(mode);
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems cannot fsync a directory; the rename itself is still atomic.
  }
}
