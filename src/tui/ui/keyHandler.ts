import type { Key } from 'ink';
import type { Match, ScrollMove } from '../document.js';
import { commandFor, isDocView } from '../keymap.js';
import { ackSelection, commandLineOps, decide, decideProposal, quit, sendChat, type ActionDeps } from './actions.js';
import { runCommandLine } from './commandLine.js';
import { editText } from './editText.js';
import { helpLines } from './helpLines.js';
import { selectedIndex } from './selection.js';
import { actOnThread, confirmed, sendReply } from './threadActions.js';
import type { Overlay } from './uiState.js';

/**
 * Returned by a key that decides (an approval, a proposal, a submitted line, an answered
 * question): the keys after it in the same read are dropped, so a paste or key repeat makes one
 * decision at most and never answers the "(y/n)" its own key asked.
 */
export const END_READ = true;
type KeyResult = typeof END_READ | void;

/** The open document (detail, transcript, diff): its wrapped length, the lines on screen, and where a text is found. */
export interface DocumentFrame {
  total: number;
  rows: number;
  find: (query: string) => Match[];
}

export interface KeyDeps extends ActionDeps {
  document: DocumentFrame | null;
}

function submitLine(deps: KeyDeps, o: Extract<Overlay, { text: string }>): void {
  const { dispatch, state } = deps;
  const text = o.text;
  dispatch({ type: 'overlay', overlay: null });
  switch (o.kind) {
    case 'command':
      return runCommandLine(text, commandLineOps(deps));
    case 'chat':
      return sendChat(deps, text);
    case 'reply':
      return sendReply(deps, o.threadId, text);
    case 'filter':
      return dispatch({ type: 'filter', change: { text } });
    case 'search':
      if (!deps.document) return;
      return dispatch({ type: 'search', query: text, matches: deps.document.find(text), total: deps.document.total, rows: deps.document.rows });
    case 'chatEdit': {
      let edited: unknown;
      try {
        edited = JSON.parse(text);
      } catch (e) {
        dispatch({ type: 'overlay', overlay: o });
        return deps.flash(`not valid JSON: ${(e as Error).message}`, 'error');
      }
      return decideProposal(deps, 'confirm', edited);
    }
    case 'answer': {
      const question = state.openQuestions[o.key];
      if (!question) return deps.flash('the question was answered or withdrawn meanwhile', 'warn');
      const answers = Object.fromEntries(question.questions.map((q) => [q.id, [text]]));
      void deps.api.answerQuestion(question.key, answers).then(
        () => deps.flash(`answered ${question.workspace}`, 'ok'),
        (e: unknown) => deps.flash(e instanceof Error ? e.message : String(e), 'error'),
      );
    }
  }
}

export function handleOverlayKey(deps: KeyDeps, o: Overlay, input: string, key: Key): KeyResult {
  const close = () => deps.dispatch({ type: 'overlay', overlay: null });
  if (o.kind === 'help') {
    if (key.escape || input === '?' || input === 'q') return close();
    const by = key.downArrow || input === 'j' ? 1 : key.upArrow || input === 'k' ? -1 : key.pageDown || input === ' ' ? 10 : key.pageUp ? -10 : 0;
    if (by !== 0) deps.dispatch({ type: 'overlay', overlay: { kind: 'help', scroll: Math.min(Math.max(0, o.scroll + by), helpLines(deps.ui.view).length - 1) } });
    return;
  }
  if (o.kind === 'confirm') {
    close();
    if (input === 'y' || input === 'Y') confirmed(deps, o.action, o.threadId);
    return END_READ;
  }
  if (key.escape) return close();
  // Ink reports '\n' (Ctrl-J, some pastes) as a plain character; it submits too.
  if (key.return || input === '\n') {
    submitLine(deps, o);
    return END_READ;
  }
  const text = editText(o.text, input, key);
  if (text !== null) deps.dispatch({ type: 'type', text });
}

/** A key with no overlay open: the key table says which command it is in this view. */
export function handleKey(deps: KeyDeps, input: string, key: Key): KeyResult {
  const { ui, dispatch, lists } = deps;
  if (ui.overlay) return handleOverlayKey(deps, ui.overlay, input, key);
  const command = commandFor(ui.view, input, key);
  const doc = deps.document;
  const scroll = (move: ScrollMove) => doc && dispatch({ type: 'scroll', move, total: doc.total, rows: doc.rows });
  const list = ui.view === 'ops' || ui.view === 'feed' || ui.view === 'approvals' ? ui.view : null;
  const count = list === 'ops' ? lists.rows.length : list === 'feed' ? lists.feed.length : lists.queue.length;
  // While a toast about a thread shows, Enter opens that thread and R retries it.
  const toastThread = ui.toast?.threadId ? deps.state.threads[ui.toast.threadId] : undefined;
  switch (command) {
    case 'down':
    case 'up':
      if (list) return dispatch({ type: 'move', list, delta: command === 'down' ? 1 : -1, count });
      return void scroll(command === 'down' ? 'lineDown' : 'lineUp');
    case 'pageDown':
    case 'pageUp':
    case 'top':
    case 'bottom':
      return void scroll(command);
    case 'nextMatch':
    case 'previousMatch': {
      const query = isDocView(ui.view) ? ui.docs[ui.view].search : '';
      if (!doc || !query) return deps.flash('/ searches first', 'dim');
      const matches = doc.find(query);
      if (matches.length === 0) return deps.flash(`"${query}" is not here`, 'dim');
      return dispatch({ type: 'match', delta: command === 'nextMatch' ? 1 : -1, matches, total: doc.total, rows: doc.rows });
    }
    case 'nextPane':
      return dispatch({ type: 'nextPane' });
    case 'paneOps':
    case 'paneFeed':
    case 'paneApprovals':
    case 'paneChat':
      return dispatch({ type: 'show', view: ({ paneOps: 'ops', paneFeed: 'feed', paneApprovals: 'approvals', paneChat: 'chat' } as const)[command] });
    case 'chatType':
      return dispatch({ type: 'overlay', overlay: { kind: 'chat', text: '' } });
    case 'filter':
      return dispatch({ type: 'overlay', overlay: { kind: 'filter', text: ui.filter.text } });
    case 'search':
      return dispatch({ type: 'overlay', overlay: { kind: 'search', text: '' } });
    case 'commandLine':
      return dispatch({ type: 'overlay', overlay: { kind: 'command', text: '' } });
    case 'proposalConfirm':
      if (!ui.proposal) return dispatch({ type: 'overlay', overlay: { kind: 'chat', text: '' } });
      decideProposal(deps, 'confirm');
      return END_READ;
    case 'proposalEdit':
      if (!ui.proposal) return deps.flash('no proposal to edit', 'dim');
      return dispatch({ type: 'overlay', overlay: { kind: 'chatEdit', text: JSON.stringify(ui.proposal.plan), proposalId: ui.proposal.id } });
    case 'proposalReject':
      decideProposal(deps, 'reject');
      return END_READ;
    case 'open': {
      const threadId = toastThread?.id ?? (ui.view === 'ops' ? lists.rows[selectedIndex(ui, lists, 'ops')]?.threadId : lists.feed[selectedIndex(ui, lists, 'feed')]?.threadId);
      if (threadId) dispatch({ type: 'openThread', threadId, view: 'detail' });
      return;
    }
    case 'answer': {
      const item = lists.queue[selectedIndex(ui, lists, 'approvals')];
      if (item?.kind === 'question') dispatch({ type: 'overlay', overlay: { kind: 'answer', text: '', key: item.question.key } });
      return;
    }
    case 'back':
      return dispatch({ type: 'back' });
    case 'toggleNeedsInput':
      return dispatch({ type: 'filter', change: { needsInput: !ui.filter.needsInput } });
    case 'toggleFaults':
      return dispatch({ type: 'filter', change: { faults: !ui.filter.faults } });
    case 'accept':
    case 'acceptForSession':
    case 'decline':
    case 'cancel':
      decide(deps, command);
      return END_READ;
    case 'retry':
      actOnThread(deps, command, toastThread);
      return END_READ;
    case 'reply':
    case 'interrupt':
    case 'transcript':
    case 'diff':
    case 'shell':
    case 'archive':
      actOnThread(deps, command);
      // The keys after one that asks (y/n) or gives the terminal away are not answers to it.
      return command === 'shell' || command === 'interrupt' || command === 'archive' ? END_READ : undefined;
    case 'ack':
      return ackSelection(deps);
    case 'help':
      return dispatch({ type: 'overlay', overlay: { kind: 'help', scroll: 0 } });
    case 'quit':
      quit(deps);
      return END_READ;
    case null:
      return;
  }
}
