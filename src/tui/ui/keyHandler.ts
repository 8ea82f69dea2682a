import type { Key } from 'ink';
import type { ScrollMove } from '../document.js';
import { commandFor, isDocView } from '../keymap.js';
import { ackSelection, decide, decideProposal, quit } from './actions.js';
import { END_READ, handleOverlayKey, type KeyDeps, type KeyResult } from './overlayKeys.js';
import { selectedIndex } from './selection.js';
import { actOnThread } from './threadActions.js';

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
