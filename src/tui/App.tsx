import { Box, Text } from 'ink';
import { useMemo } from 'react';
import type { AppProps } from './appProps.js';
import { Header } from './components/Header.js';
import { KeyHints } from './components/KeyHints.js';
import { StatusLine } from './components/StatusLine.js';
import { TabBar } from './components/TabBar.js';
import { ViewBody } from './components/ViewBody.js';
import { useKeys } from './hooks/useKeys.js';
import { useScreen } from './hooks/useScreen.js';
import { useThreadData } from './hooks/useThreadData.js';
import { leadingText, NO_KEY, type KeyPress } from './keys.js';
import { planRows } from './planRows.js';
import { threadDocumentFrame } from './threadDocument.js';
import { quit } from './ui/actions.js';
import { handleKey } from './ui/keyHandler.js';
import { END_READ, handleOverlayKey, type KeyDeps } from './ui/overlayKeys.js';
import { keyContext, type Lists } from './ui/selection.js';
import { isTextOverlay } from './ui/uiState.js';
import { feedRows, headerModel, needsYouQueue, operationsRows } from './viewModel.js';
import { TooSmall } from './components/TooSmall.js';
import { minimumSize } from './terminalSize.js';

export type { AppProps };

/** The screen: header, tabs, the view's body, the status line and the key hints. */
export function App(props: AppProps) {
  const { api, width, height } = props;
  const { ui, dispatch, flash, state } = useScreen(props);

  // v2 plans first: what they wait on and what paused them is what a person looks for.
  const rows = useMemo(() => (state ? [...planRows(state, ui.nowMs), ...operationsRows(state, ui.nowMs)] : []), [state, ui.nowMs]);
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
