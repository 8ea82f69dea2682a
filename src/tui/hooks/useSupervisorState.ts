import { useEffect, useRef, useState } from 'react';
import type { SupervisorApi } from '../../core/api/supervisorApi.js';
import type { SignalRecord, SupervisorState } from '../../core/state/model.js';

/** At most one snapshot (and so one render) per this many ms, whatever the event rate. */
export const RENDER_INTERVAL_MS = 50;

/**
 * The supervisor state for rendering, refreshed on changes but coalesced to at most ~20
 * snapshots a second under event storms. Raised signals are passed on as they happen.
 */
export function useSupervisorState(api: SupervisorApi, onRaised: (signals: SignalRecord[]) => void): SupervisorState | null {
  const [state, setState] = useState<SupervisorState | null>(null);
  const raisedRef = useRef(onRaised);
  raisedRef.current = onRaised;

  useEffect(() => {
    let timer: NodeJS.Timeout | null = null;
    let alive = true;
    const refresh = () => {
      timer = null;
      void api.snapshot().then((s) => {
        if (alive) setState(s);
      });
    };
    const unsubscribe = api.subscribe((change) => {
      if (change.raised.length > 0) raisedRef.current(change.raised);
      if (timer === null) timer = setTimeout(refresh, RENDER_INTERVAL_MS);
    });
    refresh();
    return () => {
      alive = false;
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [api]);

  return state;
}
