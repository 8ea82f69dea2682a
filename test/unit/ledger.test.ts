import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DispatchLedger } from '../../src/core/dispatch/ledger.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-ledger-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (i: number) => ({ key: `p:a${i}`, planId: 'p', actionId: `a${i}`, workspace: 'ws', threadId: `t${i}`, clientUserMessageId: `p:a${i}` });

describe('DispatchLedger', () => {
  it('every write promise resolves only once its entry is on disk, also when writes are shared', async () => {
    const ledger = new DispatchLedger(join(dir, 'ledger.json'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.markSending(entry(i))));
    const afterSending = new DispatchLedger(join(dir, 'ledger.json'));
    for (let i = 0; i < 20; i++) expect(afterSending.get(`p:a${i}`)?.status).toBe('sending');

    // Interleaved: each promise must cover its own change even while another write runs.
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      await ledger.markSent(`p:a${i}`, `t${i}`, `u${i}`);
      const onDisk = JSON.parse(await readFile(join(dir, 'ledger.json'), 'utf8'));
      expect(onDisk.entries[`p:a${i}`]).toMatchObject({ status: 'sent', turnId: `u${i}` });
    }));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('settled() waits for changes nobody awaited (dispatch does not wait for the "sent" write)', async () => {
    const ledger = new DispatchLedger(join(dir, 'ledger.json'));
    await ledger.markSending(entry(1));
    for (let i = 2; i <= 5; i++) void ledger.markSending(entry(i));
    void ledger.markSent('p:a1', 't1', 'u1');
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
    await ledger.markSending(entry(1));
    expect(new DispatchLedger(join(dir, 'ledger.json')).get('p:a1')?.status).toBe('sending');
  });
});
