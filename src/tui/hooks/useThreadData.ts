import { useEffect, useState } from 'react';
import type { SupervisorApi, ThreadDiff, Transcript } from '../../core/api/supervisorApi.js';
import type { ThreadRecord } from '../../core/state/model.js';

export type Loaded<T> = { status: 'loading' } | { status: 'ok'; data: T } | { status: 'error'; message: string };

const LOADING = { status: 'loading' } as const;

/**
 * The transcript or the diff of a thread, read from its host while the view shows it, and
 * read again when the thread's turn changes (a turn started, ended or changed files).
 */
export function useThreadData(api: SupervisorApi, kind: 'transcript' | 'diff' | null, thread: ThreadRecord | null): Loaded<Transcript | ThreadDiff> | null {
  // Kept with what it is of: the transcript read must never be shown as the diff.
  const [loaded, setLoaded] = useState<{ of: string; value: Loaded<Transcript | ThreadDiff> } | null>(null);
  const threadId = thread?.id ?? null;
  const of = `${kind}:${threadId}`;
  // What makes the content change: a turn starting or ending, an item added, a new diff.
  const version = thread ? `${thread.currentTurnId}|${thread.lastTurn?.id}|${thread.lastTurn?.status}|${thread.recentItems.at(-1)?.id}|${thread.recentItems.at(-1)?.status}` : '';
  useEffect(() => {
    if (!kind || !threadId) return;
    let alive = true;
    const read = kind === 'transcript' ? api.transcript(threadId) : api.threadDiff(threadId);
    read.then(
      (data) => alive && setLoaded({ of, value: { status: 'ok', data } }),
      (e: unknown) => alive && setLoaded({ of, value: { status: 'error', message: e instanceof Error ? e.message : String(e) } }),
    );
    return () => {
      alive = false;
    };
  }, [api, kind, threadId, of, version]);
  if (!kind || !threadId) return null;
  // Read again after a change, the last read stays on screen until the new one arrives.
  return loaded?.of === of ? loaded.value : LOADING;
}
