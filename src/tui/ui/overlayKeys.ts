import type { Key } from 'ink';
import type { Match } from '../document.js';
import { commandLineOps, decideProposal, sendChat, type ActionDeps } from './actions.js';
import { runCommandLine } from './commandLine.js';
import { editText } from './editText.js';
import { helpLines } from './helpLines.js';
import { confirmed, sendReply } from './threadActions.js';
import type { Overlay } from './uiState.js';

/**
 * Returned by a key that decides (an approval, a proposal, a submitted line, an answered
 * question): the keys after it in the same read are dropped, so a paste or key repeat makes one
 * decision at most and never answers the "(y/n)" its own key asked.
 */
export const END_READ = true;
export type KeyResult = typeof END_READ | void;

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

