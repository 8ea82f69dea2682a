import { useEffect, useState } from 'react';
import type { SupervisorApi, ThreadDiff, Transcript } from '../../core/api/supervisorApi.js';
import type { ThreadRecord } from '../../core/state/model.js';

export type Loaded<T> = { status: 'loading' } | { status: 'ok'; data: T } | { status: 'error'; message: string };

/**
 * The transcript or the diff of a thread, read from its host while the view shows it, and
 * read again when the thread's turn changes (a turn started, ended or changed files).
 */
export function useThreadData(api: SupervisorApi, kind: 'transcript' | 'diff' | null, thread: ThreadRecord | null): Loaded<Transcript | ThreadDiff> | null {
  const [loaded, setLoaded] = useState<Loaded<Transcript | ThreadDiff> | null>(null);
  const threadId = thread?.id ?? null;
  // What makes the content change: a turn starting or ending, an item added, a new diff.
  const version = thread ? `${thread.currentTurnId}|${thread.lastTurn?.id}|${thread.lastTurn?.status}|${thread.recentItems.at(-1)?.id}|${thread.recentItems.at(-1)?.status}` : '';
  useEffect(() => {
    if (!kind || !threadId) return setLoaded(null);
    let alive = true;
    setLoaded((l) => l ?? { status: 'loading' });
    const read = kind === 'transcript' ? api.transcript(threadId) : api.threadDiff(threadId);
    read.then(
      (data) => alive && setLoaded({ status: 'ok', data }),
      (e: unknown) => alive && setLoaded({ status: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      alive = false;
    };
  }, [api, kind, threadId, version]);
  return loaded;
}
