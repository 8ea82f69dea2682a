import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DispatchLedger, type LedgerEntries } from '../../src/core/dispatch/ledger.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-ledger-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (i: number) => ({ key: `p:a${i}`, planId: 'p', actionId: `a${i}`, workspace: 'ws', threadId: `t${i}`, clientUserMessageId: `p:a${i}` });

/** Claims the action unless the ledger has it: what dispatch does under the lock. */
const claimIfNew = (ledger: DispatchLedger, i: number) => (entries: LedgerEntries) => {
  if (entries[`p:a${i}`]) return false;
  ledger.claim(entries, entry(i));
  return true;
};

describe('DispatchLedger', () => {
  it('every change resolves only once it is on disk, also when changes share a write; the file is 0600', async () => {
    const ledger = new DispatchLedger(join(dir, 'ledger.json'));
    expect(await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.update(claimIfNew(ledger, i))))).toEqual(Array(20).fill(true));
    const afterSending = new DispatchLedger(join(dir, 'ledger.json'));
    for (let i = 0; i < 20; i++) expect(afterSending.get(`p:a${i}`)).toMatchObject({ status: 'sending', sender: { pid: process.pid } });

    // Interleaved: each promise must cover its own change even while another write runs.
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await ledger.markSent(`p:a${i}`, `p:a${i}`, `t${i}`, `u${i}`);
        const onDisk = JSON.parse(await readFile(join(dir, 'ledger.json'), 'utf8'));
        expect(onDisk.entries[`p:a${i}`]).toMatchObject({ status: 'sent', turnId: `u${i}`, sender: null });
      }),
    );
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
    expect(statSync(join(dir, 'ledger.json')).mode & 0o777).toBe(0o600);
  });

  it('reads the file fresh for every change: an entry another process wrote is seen, never overwritten', async () => {
    const ledger = new DispatchLedger(join(dir, 'ledger.json'));
    await ledger.update(claimIfNew(ledger, 1));
    // Another process records a2 meanwhile.
    const other = JSON.parse(await readFile(join(dir, 'ledger.json'), 'utf8'));
    other.entries['p:a2'] = { ...other.entries['p:a1'], key: 'p:a2', actionId: 'a2', clientUserMessageId: 'p:a2', status: 'sent', turnId: 'u2', sender: null };
    await writeFile(join(dir, 'ledger.json'), JSON.stringify(other));
    expect(await ledger.update(claimIfNew(ledger, 2))).toBe(false);
    await ledger.markSent('p:a1', 'p:a1', 't1', 'u1');
    expect(new DispatchLedger(join(dir, 'ledger.json')).read()).toMatchObject({ 'p:a1': { status: 'sent', turnId: 'u1' }, 'p:a2': { status: 'sent', turnId: 'u2' } });
  });

  it('an attempt that ends before turn/start leaves no entry; one that ends after it stays `sending` without a sender', async () => {
    const ledger = new DispatchLedger(join(dir, 'ledger.json'));
    await ledger.update((entries) => {
      ledger.claim(entries, entry(1));
      ledger.claim(entries, entry(2));
    });
    expect(ledger.inFlight(ledger.get('p:a1')!)).toBe(true);
    await ledger.abandon('p:a1', 'p:a1', false);
    await ledger.abandon('p:a2', 'p:a2', true);
    expect(ledger.get('p:a1')).toBeUndefined();
    expect(ledger.get('p:a2')).toMatchObject({ status: 'sending', sender: null });
    expect(ledger.inFlight(ledger.get('p:a2')!)).toBe(false);
  });

  it('settled() waits for changes nobody awaited (dispatch does not wait for the "sent" write)', async () => {
    const ledger = new DispatchLedger(join(dir, 'ledger.json'));
    await ledger.update(claimIfNew(ledger, 1));
    for (let i = 2; i <= 5; i++) void ledger.update(claimIfNew(ledger, i));
    void ledger.markSent('p:a1', 'p:a1', 't1', 'u1');
    await ledger.settled();
    const onDisk = new DispatchLedger(join(dir, 'ledger.json'));
    expect(onDisk.get('p:a1')).toMatchObject({ status: 'sent', turnId: 'u1' });
    for (let i = 2; i <= 5; i++) expect(onDisk.get(`p:a${i}`)?.status).toBe('sending');
  });

  it('an unreadable ledger is moved aside, never overwritten', async () => {
    await writeFile(join(dir, 'ledger.json'), '{ broken');
    const ledger = new DispatchLedger(join(dir, 'ledger.json'));
    expect(ledger.setAside).toMatch(/ledger\.json\.corrupt-/);
    expect(await readFile(ledger.setAside!, 'utf8')).toBe('{ broken');
    await ledger.update(claimIfNew(ledger, 1));
    expect(new DispatchLedger(join(dir, 'ledger.json')).get('p:a1')?.status).toBe('sending');
  });
  it('what another writer puts in the file is seen at once, also after this ledger read or wrote it', async () => {
    const path = join(dir, 'ledger.json');
    const mine = new DispatchLedger(path);
    const theirs = new DispatchLedger(path);
    await mine.update(claimIfNew(mine, 0));
    expect(Object.keys(mine.read())).toEqual(['p:a0']);
    await theirs.update(claimIfNew(theirs, 1));
    expect(mine.get('p:a1')).toMatchObject({ status: 'sending' });
    expect(await mine.update(claimIfNew(mine, 1))).toBe(false);
    // Edited in place by hand (same inode): seen too.
    const onDisk = JSON.parse(await readFile(path, 'utf8'));
    delete onDisk.entries['p:a0'];
    await writeFile(path, JSON.stringify(onDisk));
    expect(mine.get('p:a0')).toBeUndefined();
    expect(await mine.update(claimIfNew(mine, 0))).toBe(true);
    expect(Object.keys(new DispatchLedger(path).read()).sort()).toEqual(['p:a0', 'p:a1']);
  });
});
