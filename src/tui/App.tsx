import { Box, Text } from 'ink';
import { useCallback, useEffect, useMemo, useReducer, useRef } from 'react';
import type { SupervisorApi } from '../core/api/supervisorApi.js';
import type { SignalKind, SignalRecord } from '../core/state/model.js';
import { Header } from './components/Header.js';
import { KeyHints } from './components/KeyHints.js';
import { StatusLine } from './components/StatusLine.js';
import { TabBar } from './components/TabBar.js';
import { ViewBody } from './components/ViewBody.js';
import { useKeys } from './hooks/useKeys.js';
import { useSupervisorState } from './hooks/useSupervisorState.js';
import { useThreadData } from './hooks/useThreadData.js';
import { leadingText, NO_KEY, type KeyPress } from './keys.js';
import { signalNotice } from './notice.js';
import { threadDocumentFrame } from './threadDocument.js';
import { quit } from './ui/actions.js';
import { handleKey, handleOverlayKey, END_READ, type KeyDeps } from './ui/keyHandler.js';
import { keyContext, type Lists } from './ui/selection.js';
import { DEFAULT_NOTIFY, initialUi, isTextOverlay, reduceUi, type Toast } from './ui/uiState.js';
import { feedRows, headerModel, needsYouQueue, operationsRows, type Tone } from './viewModel.js';
import { TooSmall } from './components/TooSmall.js';
import { minimumSize } from './terminalSize.js';

export interface AppProps {
  api: SupervisorApi;
  mode: string;
  width: number;
  height: number;
  /** The user asked to quit (confirmed if turns were running). */
  onQuit: () => void;
  /** Desktop notification and bell for a raised signal (terminal IO lives outside the app). */
  notify?: (signal: SignalRecord) => void;
  notifyKinds?: SignalKind[];
  notificationsEnabled?: boolean;
  muted?: string[];
  /** `:dispatch FILE`: reads and dispatches a plan file, resolves with a one-line result. */
  dispatchFile?: (path: string) => Promise<string>;
  /** `!`: gives the terminal to a shell in the thread's workspace; resolves with how it ended. */
  shell?: (threadId: string) => Promise<string>;
  /** config.json's `allowUnsafePlans`: confirming a chat proposal carries this opt-in. */
  allowUnsafePlans?: boolean;
  /** In-process mode: quitting stops running turns, so ask first. */
  confirmQuitWhenRunning?: boolean;
  /** Attached: tells why the link to the daemon is down (null: it is up again). */
  link?: (listener: (problem: string | null) => void) => () => void;
  now?: () => number;
}

/** The screen: header, tabs, the view's body, the status line and the key hints. */
export function App(props: AppProps) {
  const { api, width, height } = props;
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
  const state = useSupervisorState(api, onRaised);
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

  const rows = useMemo(() => (state ? operationsRows(state, ui.nowMs) : []), [state, ui.nowMs]);
  const queue = useMemo(() => (state ? needsYouQueue(state) : []), [state]);
  const feed = useMemo(() => (state ? feedRows(state, ui.filter, 500) : []), [state, ui.filter]);
  const lists: Lists = { rows, feed, queue };
  const bodyHeight = Math.max(1, height - 4);
  const shown = state && ui.threadId ? (state.threads[ui.threadId] ?? null) : null;
  const loaded = useThreadData(api, ui.view === 'transcript' || ui.view === 'diff' ? ui.view : null, shown);
  const doc = useMemo(() => (state ? threadDocumentFrame(ui, state, loaded, width, bodyHeight) : null), [ui, state, loaded, width, bodyHeight]);

  const deps: KeyDeps | null = state && {
    ui,
    dispatch,
    state,
    lists,
    api,
    flash,
    onQuit: props.onQuit,
    confirmQuitWhenRunning: props.confirmQuitWhenRunning === true,
    allowUnsafePlans: props.allowUnsafePlans === true,
    ...(props.dispatchFile ? { dispatchFile: props.dispatchFile } : {}),
    ...(props.shell ? { shell: props.shell } : {}),
    document: doc?.frame ?? null,
  };
  const size = minimumSize(width, height);
  useKeys(
    (keys) => {
      // Too small to show what a key would act on: only quitting (and its question) works.
      if (!size.ok && ui.overlay?.kind !== 'confirm') {
        const [{ input, key }] = keys as [KeyPress];
        if (input === 'q' || (key.ctrl && input === 'c')) {
          if (deps) quit(deps);
          else props.onQuit();
        }
        return keys.length;
      }
      if (!deps) {
        const [{ input, key }] = keys as [KeyPress];
        if (input === 'q' || (key.ctrl && input === 'c')) props.onQuit();
        return keys.length;
      }
      // A pasted line goes into an open text line as a whole: one render, not one per character.
      if (isTextOverlay(ui.overlay)) {
        const typed = leadingText(keys);
        if (typed > 0) {
          handleOverlayKey(deps, ui.overlay, keys.slice(0, typed).map((k) => k.input).join(''), NO_KEY);
          return typed;
        }
      }
      const [{ input, key }] = keys as [KeyPress];
      return handleKey(deps, input, key) === END_READ ? keys.length : 1;
    },
    { active: !ui.suspended },
  );

  if (!size.ok) {
    const question = ui.overlay?.kind === 'confirm' ? `${ui.overlay.question} (y/n)` : null;
    return <TooSmall message={question ? `${size.message}\n\n${question}` : size.message} width={width} height={height} />;
  }
  if (!state) {
    return (
      <Box width={width} height={height}>
        <Text>cm-supervisor: connecting…</Text>
      </Box>
    );
  }
  const mode = ui.linkProblem ? `${props.mode} (${ui.linkProblem}; reconnecting)` : props.mode;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Header model={headerModel(state)} mode={mode} width={width} />
      <TabBar view={ui.view} needsYou={queue.length} width={width} />
      {/* Clipped vertically only: the views never draw wider than the terminal, and clipping sideways costs a slice-ansi pass over every line of every frame. */}
      <Box height={bodyHeight} flexDirection="column" overflowY="hidden">
        <ViewBody ui={ui} state={state} lists={lists} document={doc} width={width} height={bodyHeight} />
      </Box>
      <StatusLine overlay={ui.overlay} toast={ui.toast} />
      <KeyHints view={ui.view} context={keyContext(ui, lists, state, doc !== null && doc.frame.total > doc.frame.rows)} />
    </Box>
  );
}
