import { existsSync, readFileSync, renameSync } from 'node:fs';
import { z } from 'zod';
import { SupervisorError } from '../errors.js';
import type { SupervisorState } from '../state/model.js';
import { writeFileAtomic } from './atomicWrite.js';
import { STATE_SCHEMA_VERSION, StateFileSchema, type PersistedState } from './stateSchema.js';

/** Upgrades a state file of schema N to N+1. Add one here whenever the schema changes. */
const MIGRATIONS: Record<number, (raw: Record<string, unknown>) => Record<string, unknown>> = {
  // 2: the open-signal and job-by-turn indexes are rebuilt from the records, no longer stored.
  1: (raw) => {
    const { jobByTurn: _jobs, openSignalKeys: _signals, ...state } = (raw.state ?? {}) as Record<string, unknown>;
    return { ...raw, state };
  },
  // 3: hosts own the app-servers. Each workspace was its own private app-server: it becomes a
  // workspace on `local`, whose record starts from what its workspaces knew.
  2: (raw) => {
    const state = (raw.state ?? {}) as Record<string, unknown>;
    const old = state.workspaces;
    // Content of the wrong shape is left for validation to name.
    if (typeof old !== 'object' || old === null || Array.isArray(old)) return { ...raw, state: { ...state, hosts: {} } };
    const workspaces: Record<string, unknown> = {};
    let local: Record<string, unknown> | null = null;
    for (const [name, value] of Object.entries(old as Record<string, Record<string, unknown>>)) {
      const { command: _command, codexVersion, pid: _pid, restartCount, lastError, connectedAtMs, ...rest } = value;
      workspaces[name] = { ...rest, host: 'local' };
      local ??= {
        name: 'local',
        kind: 'local',
        target: 'this machine',
        status: 'stopped',
        transport: 'private',
        codexVersion: codexVersion ?? null,
        pid: null,
        rssBytes: null,
        pingMs: null,
        restartCount: restartCount ?? 0,
        lastError: lastError ?? null,
        connectedAtMs: connectedAtMs ?? null,
        awaySinceMs: null,
        rateLimits: null,
      };
    }
    return { ...raw, state: { ...state, workspaces, hosts: local ? { local } : {} } };
  },
};

export type LoadResult =
  | { kind: 'missing' }
  | { kind: 'loaded'; state: PersistedState; savedAtMs: number }
  | { kind: 'setAside'; movedTo: string; reason: string };

export function persistedPart(state: SupervisorState): PersistedState {
  return {
    hosts: state.hosts,
    workspaces: state.workspaces,
    threads: state.threads,
    jobs: state.jobs,
    planRuns: state.planRuns,
    signals: state.signals,
    nextSignalNumber: state.nextSignalNumber,
    pendingApprovals: state.pendingApprovals,
    openQuestions: state.openQuestions,
    activityFeed: state.activityFeed,
    nextFeedSeq: state.nextFeedSeq,
    chat: state.chat,
  };
}

/**
 * The daemon's state file. Reads validate and migrate; a file that cannot be read is moved
 * aside (never overwritten) so the daemon can start fresh. Writes are atomic and debounced;
 * a failed write leaves the previous file intact and is reported through `onError`.
 */
export class StateStore {
  private timer: NodeJS.Timeout | null = null;
  private pending: SupervisorState | null = null;

  constructor(
    readonly path: string,
    private readonly options: {
      debounceMs?: number;
      now?: () => number;
      write?: (path: string, data: string) => void;
      onError?: (error: Error) => void;
      onSaved?: () => void;
    } = {},
  ) {}

  load(): LoadResult {
    if (!existsSync(this.path)) return { kind: 'missing' };
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      return this.setAside(`not readable JSON (${(error as Error).message})`);
    }
    const version = z.object({ schemaVersion: z.number().int() }).safeParse(raw);
    if (!version.success) return this.setAside('no schemaVersion');
    if (version.data.schemaVersion > STATE_SCHEMA_VERSION) {
      throw new SupervisorError(
        `${this.path} was written by a newer cm-supervisor (state schema ${version.data.schemaVersion}, this one knows ${STATE_SCHEMA_VERSION}); upgrade cm-supervisor or move the file away`,
        1,
      );
    }
    let migrated = raw as Record<string, unknown>;
    for (let v = version.data.schemaVersion; v < STATE_SCHEMA_VERSION; v++) {
      const migrate = MIGRATIONS[v];
      if (!migrate) return this.setAside(`no migration from state schema ${v}`);
      migrated = { ...migrate(migrated), schemaVersion: v + 1 };
    }
    const parsed = StateFileSchema.safeParse(migrated);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      return this.setAside(`invalid content at ${first?.path.join('.') || '(top level)'}: ${first?.message ?? 'unknown problem'}`);
    }
    return { kind: 'loaded', state: parsed.data.state, savedAtMs: parsed.data.savedAtMs };
  }

  /** Saves soon; many changes in a burst become one write. */
  schedule(state: SupervisorState): void {
    this.pending = state;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.options.debounceMs ?? 500);
  }

  /** Saves what is pending now (on shutdown). Returns false when the write failed. */
  flush(): boolean {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const state = this.pending;
    if (!state) return true;
    this.pending = null;
    return this.save(state);
  }

  save(state: SupervisorState): boolean {
    const now = this.options.now ?? Date.now;
    const document = { schemaVersion: STATE_SCHEMA_VERSION, savedAtMs: now(), state: persistedPart(state) };
    try {
      (this.options.write ?? writeFileAtomic)(this.path, JSON.stringify(document));
      this.options.onSaved?.();
      return true;
    } catch (error) {
      this.options.onError?.(error as Error);
      return false;
    }
  }

  private setAside(reason: string): LoadResult {
    const now = (this.options.now ?? Date.now)();
    const movedTo = `${this.path}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.path, movedTo);
    return { kind: 'setAside', movedTo, reason };
  }
}

