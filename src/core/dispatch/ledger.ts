import { readFileSync, renameSync, statSync, type BigIntStats } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomicAsync } from '../persistence/atomicWrite.js';
import { isAlive, ProcessIdentitySchema, thisProcess, withFileLock } from '../persistence/fileLock.js';

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
  /**
   * `sending`: the process sending it now. Null once that attempt gave up after `turn/start`
   * went out unanswered (the turn may exist); absent in ledgers written before it was recorded.
   */
  sender: ProcessIdentitySchema.nullable().optional(),
});
const LedgerFileSchema = z.object({ version: z.literal(1), entries: z.record(z.string(), LedgerEntrySchema) });

export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;
export type LedgerEntries = Record<string, LedgerEntry>;

/** Waits this long for another process's short read-check-record before giving up with an error. */
const LOCK_WAIT_MS = 15_000;

/**
 * Which plan actions were dispatched, on disk: one truth for every process of the home, so a
 * plan is never sent twice (several `--no-daemon` runs, a daemon and a run without it, two
 * clients of one daemon). Every change is a read-check-record of the file as it is on disk now,
 * under an exclusive lock file beside it (`<ledger>.lock`). A parse is reused only while the file
 * is the very one this instance last read or wrote (same inode, size and modification time: every
 * write is a rename of a new file), so a change by another process is always seen.
 *
 * An entry is `sending` from before `turn/start` until its turn id is known (`sent`). A
 * `sending` entry whose sender is no longer at work (its process died, or it gave up without an
 * answer) may or may not have a turn: the dispatcher looks for it by its clientUserMessageId, and
 * when there is none, the action's turn is lost (reported so; `--retry-failed` sends it again).
 */
export class DispatchLedger {
  /** Set when an unreadable ledger was moved aside at load. */
  setAside: string | null = null;
  /**
   * This process's `sending` attempts still under way, by clientUserMessageId. Kept here: the
   * home's one loop owns the one ledger of its home (another entry of this pid is abandoned).
   */
  private readonly sendingHere = new Set<string>();
  /** The file as last read or written here, and its entries (never changed in place: changes replace entries). */
  private known: { identity: string; entries: LedgerEntries } | null = null;

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {
    this.read();
  }

  /** The entries as on disk now (an unreadable file is moved aside first, never overwritten). */
  read(): LedgerEntries {
    const identity = this.identity();
    if (identity === null) return {};
    if (this.known?.identity === identity) return { ...this.known.entries };
    try {
      const result = LedgerFileSchema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
      if (result.success) {
        this.known = { identity, entries: result.data.entries };
        return { ...result.data.entries };
      }
    } catch {
      // Unreadable: moved aside below.
    }
    // Never overwrite what we cannot read: keep it for the user to inspect.
    this.setAside = `${this.path}.corrupt-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.path, this.setAside);
    return {};
  }

  get(key: string): LedgerEntry | undefined {
    return this.read()[key];
  }

  /** Whether an entry is being sent right now, by this process or another live one. */
  inFlight(entry: LedgerEntry): boolean {
    if (entry.status !== 'sending' || !entry.sender) return false;
    const me = thisProcess();
    if (entry.sender.pid === me.pid && entry.sender.startTicks === me.startTicks) return this.sendingHere.has(entry.clientUserMessageId);
    return isAlive(entry.sender);
  }

  /**
   * Runs `change` on the entries as on disk now, under the lock, and writes them back (atomic,
   * 0600) if it changed any. Calls made while one runs share the next lock and write.
   */
  update<T>(change: (entries: LedgerEntries) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ change, resolve: resolve as (value: unknown) => void, reject });
      this.drain();
    });
  }

  /** Records a new attempt as `sending` by this process (mutates `entries`; use inside `update`). */
  claim(entries: LedgerEntries, entry: Pick<LedgerEntry, 'key' | 'planId' | 'actionId' | 'workspace' | 'threadId' | 'clientUserMessageId'>): void {
    entries[entry.key] = { ...entry, status: 'sending', turnId: null, updatedAtMs: this.now(), sender: thisProcess() };
    this.sendingHere.add(entry.clientUserMessageId);
  }

  /** The thread a `sending` entry's turn goes to, once it is known (narrows a search after a crash). */
  recordThread(key: string, clientUserMessageId: string, threadId: string): Promise<void> {
    return this.update((entries) => {
      const entry = entries[key];
      if (!entry || entry.status !== 'sending' || entry.clientUserMessageId !== clientUserMessageId || entry.threadId === threadId) return;
      entries[key] = { ...entry, threadId, updatedAtMs: this.now() };
    });
  }

  /** The attempt's turn started (or was found): `sent`, unless another attempt replaced it meanwhile. */
  markSent(key: string, clientUserMessageId: string, threadId: string, turnId: string): Promise<void> {
    this.land(clientUserMessageId);
    return this.update((entries) => {
      const entry = entries[key];
      if (!entry || entry.clientUserMessageId !== clientUserMessageId) return;
      entries[key] = { ...entry, status: 'sent', threadId, turnId, updatedAtMs: this.now(), sender: null };
    });
  }

  /**
   * An attempt failed. Before `turn/start` went out nothing was sent: the entry goes (a re-run
   * sends the action). After it, the turn may exist: the entry stays `sending` without a sender.
   */
  abandon(key: string, clientUserMessageId: string, turnStartSent: boolean): Promise<void> {
    this.land(clientUserMessageId);
    return this.update((entries) => {
      const entry = entries[key];
      if (!entry || entry.clientUserMessageId !== clientUserMessageId || entry.status !== 'sending') return;
      if (turnStartSent) entries[key] = { ...entry, sender: null, updatedAtMs: this.now() };
      else delete entries[key];
    });
  }

  /** Resolves once every change made so far is on disk (or its write failed). */
  async settled(): Promise<void> {
    while (this.running) await this.running.catch(() => {});
  }

  private land(clientUserMessageId: string): void {
    this.sendingHere.delete(clientUserMessageId);
  }

  private queue: { change: (entries: LedgerEntries) => unknown; resolve: (value: unknown) => void; reject: (error: Error) => void }[] = [];
  private running: Promise<void> | null = null;

  /** One read-change-write at a time per process; the lock file orders them across processes. */
  private drain(): void {
    if (this.running) return;
    this.running = (async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        try {
          const values = await withFileLock(`${this.path}.lock`, () => this.apply(batch.map((b) => b.change)), { what: `the dispatch ledger ${this.path}`, waitMs: LOCK_WAIT_MS });
          batch.forEach((b, i) => (values[i]!.ok ? b.resolve(values[i]!.value) : b.reject(values[i]!.error)));
        } catch (error) {
          for (const b of batch) b.reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
    })().finally(() => {
      this.running = null;
      // A change queued after the loop's last look, before this ran.
      if (this.queue.length > 0) this.drain();
    });
  }

  /** Which file is at the path now (null: none); a rename of another over it changes the inode. */
  private identity(): string | null {
    let stats: BigIntStats;
    try {
      stats = statSync(this.path, { bigint: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}`;
  }

  private async apply(changes: ((entries: LedgerEntries) => unknown)[]): Promise<({ ok: true; value: unknown } | { ok: false; error: Error })[]> {
    const entries = this.read();
    const before = new Map(Object.entries(entries));
    const values = changes.map((change) => {
      try {
        return { ok: true as const, value: change(entries) };
      } catch (error) {
        return { ok: false as const, error: error instanceof Error ? error : new Error(String(error)) };
      }
    });
    // Changes replace or delete entries, never edit one: comparing references finds them all.
    const keys = Object.keys(entries);
    if (keys.length !== before.size || keys.some((key) => before.get(key) !== entries[key])) {
      this.known = null;
      await writeFileAtomicAsync(this.path, `${JSON.stringify({ version: 1, entries }, null, 2)}\n`);
      // Still under the lock: no other process can have written since.
      const identity = this.identity();
      if (identity !== null) this.known = { identity, entries };
    }
    return values;
  }
}
