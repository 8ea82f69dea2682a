import { useCallback, useEffect, useReducer, useRef } from 'react';
import type { SignalRecord, SupervisorState } from '../../core/state/model.js';
import type { AppProps } from '../appProps.js';
import { signalNotice } from '../notice.js';
import { DEFAULT_NOTIFY, initialUi, reduceUi, type Toast, type UiAction, type UiState } from '../ui/uiState.js';
import type { Tone } from '../viewModel.js';
import { useSupervisorState } from './useSupervisorState.js';

export interface Screen {
  ui: UiState;
  dispatch: (action: UiAction) => void;
  /** A toast on the status line (with the thread and keys it offers, if any). */
  flash: (text: string, tone?: Tone, about?: Pick<Toast, 'threadId' | 'keys'>) => void;
  state: SupervisorState | null;
}

/**
 * The UI state and the supervisor's, and what moves them besides keys: raised signals (toasts
 * and notifications), the daemon link, config.json's notification settings, the clock.
 */
export function useScreen(props: AppProps): Screen {
  const now = props.now ?? Date.now;
  const [ui, dispatch] = useReducer(reduceUi, null, () =>
    initialUi({ nowMs: now(), notifications: { on: props.notificationsEnabled ?? true, muted: props.muted ?? [], kinds: props.notifyKinds ?? DEFAULT_NOTIFY } }),
  );
  const flash = useCallback(
    (text: string, tone: Tone = 'info', about: Pick<Toast, 'threadId' | 'keys'> = {}) => dispatch({ type: 'toast', toast: { text, tone, atMs: now(), ...about } }),
    [now],
  );
  useEffect(() => props.link?.((problem) => {
    dispatch({ type: 'link', problem });
    flash(problem ? `${problem}; waiting for it to come back (q quits)` : 'connected to the daemon again', problem ? 'warn' : 'ok');
  }), [props.link, flash]);

  const notifications = useRef(ui.notifications);
  notifications.current = ui.notifications;
  const onRaised = useCallback(
    (signals: SignalRecord[]) => {
      const { on, muted, kinds } = notifications.current;
      for (const s of signals) {
        if (!on || muted.includes(s.workspace) || !kinds.includes(s.kind)) continue;
        const notice = signalNotice(s);
        flash(notice.text, notice.tone, { ...(notice.threadId ? { threadId: notice.threadId } : {}), ...(notice.keys ? { keys: notice.keys } : {}) });
        props.notify?.(s);
      }
    },
    [props.notify, flash],
  );
  const state = useSupervisorState(props.api, onRaised);
  // config.json's settings, as the loop read them (again whenever the file changes); the
  // props stand in where the supervisor has none (the demo, tests).
  const configured = state?.notifications;
  useEffect(() => {
    if (configured) dispatch({ type: 'notifications', change: { on: configured.enabled, muted: configured.muted, kinds: configured.kinds ?? props.notifyKinds ?? DEFAULT_NOTIFY } });
  }, [configured, props.notifyKinds]);
  // Relative times ("12s ago") and toast expiry move even when nothing happens.
  useEffect(() => {
    if (ui.suspended) return;
    const timer = setInterval(() => dispatch({ type: 'tick', nowMs: now() }), 1_000);
    return () => clearInterval(timer);
  }, [now, ui.suspended]);
  useEffect(() => {
    if (ui.overlay?.kind === 'answer' && state && !state.openQuestions[ui.overlay.key]) {
      dispatch({ type: 'overlay', overlay: null });
      flash('the question was answered or withdrawn meanwhile', 'warn');
    }
  }, [state, ui.overlay, flash]);

  return { ui, dispatch, flash, state };
}
