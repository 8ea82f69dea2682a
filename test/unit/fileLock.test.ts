import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { thisProcess, withFileLock } from '../../src/core/persistence/fileLock.js';

let dir: string;
let lock: string;
const sleepers: ReturnType<typeof execa>[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-filelock-'));
  lock = join(dir, 'ledger.json.lock');
});
afterEach(async () => {
  for (const s of sleepers.splice(0)) s.kill();
  await rm(dir, { recursive: true, force: true });
});

/** A live process other than this one. */
function sleeper(): number {
  const child = execa(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
  child.catch(() => {});
  sleepers.push(child);
  return child.pid!;
}

async function deadPid(): Promise<number> {
  const child = execa(process.execPath, ['-e', '']);
  await child;
  return child.pid!;
}

const holder = (pid: number, startTicks: string | null) => JSON.stringify({ pid, startTicks, acquiredAtMs: Date.now() - 3_000 });

describe('withFileLock', () => {
  it('holds the lock file (naming this process) while the work runs, and removes it after', async () => {
    const seen = await withFileLock(lock, async () => JSON.parse(readFileSync(lock, 'utf8')), { what: 'the ledger' });
    expect(seen).toMatchObject({ pid: process.pid, startTicks: thisProcess().startTicks });
    expect(existsSync(lock)).toBe(false);
  });

  it('runs the work of concurrent holders one at a time', async () => {
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withFileLock(
          lock,
          async () => {
            most = Math.max(most, ++inside);
            await new Promise((r) => setTimeout(r, 5));
            inside--;
          },
          { what: 'the ledger' },
        ),
      ),
    );
    expect(most).toBe(1);
  });

  it('takes over a lock whose owner died', async () => {
    await writeFile(lock, holder(await deadPid(), null));
    expect(await withFileLock(lock, async () => 'ran', { what: 'the ledger', waitMs: 200 })).toBe('ran');
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a stale lock also when a takeover marker was left behind by a process that died in it', async () => {
    await writeFile(lock, holder(await deadPid(), null));
    await writeFile(`${lock}.takeover`, '1');
    const past = new Date(Date.now() - 10_000);
    await utimes(`${lock}.takeover`, past, past);
    expect(await withFileLock(lock, async () => 'ran', { what: 'the ledger', waitMs: 500 })).toBe('ran');
    expect(existsSync(`${lock}.takeover`)).toBe(false);
  });

  it('takes over a lock whose pid now belongs to another process (another start time)', async () => {
    await writeFile(lock, holder(sleeper(), '1'));
    expect(await withFileLock(lock, async () => 'ran', { what: 'the ledger', waitMs: 200 })).toBe('ran');
  });

  it('waits for a live owner, then fails with a message naming it and the lock file', async () => {
    const pid = sleeper();
    await writeFile(lock, holder(pid, null));
    await expect(withFileLock(lock, async () => 'ran', { what: 'the dispatch ledger /x/ledger.json', waitMs: 300 })).rejects.toThrow(
      `the dispatch ledger /x/ledger.json is locked by pid ${pid} (for 3s; lock file ${lock}); waited 0.3s. If that process hangs, end it and try again`,
    );
    // Not taken: the owner still holds it.
    expect(JSON.parse(readFileSync(lock, 'utf8')).pid).toBe(pid);
  });
});
