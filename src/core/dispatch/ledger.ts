import { existsSync, readFileSync, renameSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomicAsync } from '../persistence/atomicWrite.js';

const LedgerEntrySchema = z.object({
  key: z.string(),
  planId: z.string(),
  actionId: z.string(),
  workspace: z.string(),
  status: z.enum(['sending', 'sent']),
  threadId: z.string().nullable(),
  turnId: z.string().nullable(),
  /** What was sent as `clientUserMessageId`, to find the turn again after a crash. */
  clientUserMessageId: z.string(),
  updatedAtMs: z.number(),
});
const LedgerFileSchema = z.object({ version: z.literal(1), entries: z.record(z.string(), LedgerEntrySchema) });

export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;

/**
 * Which plan actions were dispatched, on disk, so re-running a plan does not start the same
 * work twice. An entry is written `sending` before `turn/start` (its thread filled in once
 * known) and `sent` after it; a crash in between leaves `sending`, which the executor checks
 * against the turns of the thread (or, if no thread was recorded, of the workspace's latest ones).
 */
export class DispatchLedger {
  private entries: Record<string, LedgerEntry> = {};
  /** Set when an unreadable ledger was moved aside at load. */
  readonly setAside: string | null = null;

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {
    if (!existsSync(path)) return;
    let parsed: z.infer<typeof LedgerFileSchema> | null = null;
    try {
      const result = LedgerFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
      if (result.success) parsed = result.data;
    } catch {
      parsed = null;
    }
    if (parsed) this.entries = parsed.entries;
    else {
      // Never overwrite what we cannot read: keep it for the user to inspect.
      this.setAside = `${path}.corrupt-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`;
      renameSync(path, this.setAside);
    }
  }

  get(key: string): LedgerEntry | undefined {
    return this.entries[key];
  }

  /** Records entries `sending`, in one write; resolves once they are on disk: only then may `turn/start` be sent. */
  markSending(...entries: Omit<LedgerEntry, 'status' | 'turnId' | 'updatedAtMs'>[]): Promise<void> {
    const now = this.now();
    for (const entry of entries) this.entries[entry.key] = { ...entry, status: 'sending', turnId: null, updatedAtMs: now };
    return this.save();
  }

  /** The thread a `sending` entry's turn goes to, once it is known (narrows a search after a crash). */
  recordThread(key: string, threadId: string): Promise<void> {
    const entry = this.entries[key];
    if (!entry || entry.status !== 'sending' || entry.threadId === threadId) return Promise.resolve();
    this.entries[key] = { ...entry, threadId, updatedAtMs: this.now() };
    return this.save();
  }

  markSent(key: string, threadId: string, turnId: string): Promise<void> {
    const entry = this.entries[key];
    if (!entry) return Promise.resolve();
    this.entries[key] = { ...entry, status: 'sent', threadId, turnId, updatedAtMs: this.now() };
    return this.save();
  }

  /** Resolves once every change made so far is on disk (or its write failed). */
  async settled(): Promise<void> {
    await (this.next ?? this.writing)?.catch(() => {});
  }

  private writing: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  /**
   * Writes asynchronously, one write at a time; changes made while a write runs share the next
   * one (parallel actions of a plan cost one fsync together, and never block the event loop).
   */
  private save(): Promise<void> {
    if (this.next) return this.next;
    const previous = this.writing;
    const next = (async () => {
      // Always yield first: `this.next` must be set (below) before it is cleared here.
      await previous?.catch(() => {});
      // From here on, new changes wait for the write after this one.
      this.next = null;
      const write = writeFileAtomicAsync(this.path, `${JSON.stringify({ version: 1, entries: this.entries }, null, 2)}\n`);
      this.writing = write;
      try {
        await write;
      } finally {
        if (this.writing === write) this.writing = null;
      }
    })();
    this.next = next;
    return next;
  }
}
