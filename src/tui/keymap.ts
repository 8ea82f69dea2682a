import type { Key } from 'ink';
import type { ThreadRecord } from '../core/state/model.js';

/** The panes (1–4), the thread's own views (Enter, t, D) and the chat. */
export type View = 'ops' | 'feed' | 'approvals' | 'detail' | 'transcript' | 'diff' | 'chat';

/** Views that show one scrollable, searchable document. */
export type DocView = 'detail' | 'transcript' | 'diff';
export const DOC_VIEWS: readonly DocView[] = ['detail', 'transcript', 'diff'];
export const isDocView = (view: View): view is DocView => (DOC_VIEWS as readonly View[]).includes(view);

export type Command =
  | 'down'
  | 'up'
  | 'pageDown'
  | 'pageUp'
  | 'top'
  | 'bottom'
  | 'search'
  | 'nextMatch'
  | 'previousMatch'
  | 'nextPane'
  | 'paneOps'
  | 'paneFeed'
  | 'paneApprovals'
  | 'paneChat'
  | 'chatType'
  | 'proposalConfirm'
  | 'proposalEdit'
  | 'proposalReject'
  | 'open'
  | 'back'
  | 'help'
  | 'commandLine'
  | 'quit'
  | 'toggleNeedsInput'
  | 'toggleFaults'
  | 'filter'
  | 'accept'
  | 'acceptForSession'
  | 'decline'
  | 'cancel'
  | 'answer'
  | 'reply'
  | 'interrupt'
  | 'retry'
  | 'transcript'
  | 'diff'
  | 'shell'
  | 'archive'
  | 'ack';

/** What the keys of the moment act on: the footer shows a key only where it applies. */
export interface KeyContext {
  /** The thread selected (operations) or shown (detail). */
  thread: ThreadRecord | null;
  /** An approval is selected (needs you) or waits in the shown thread (detail). */
  approval: boolean;
  /** The chat shows a proposal waiting for a decision. */
  proposal: boolean;
  /** The open document is longer than the screen. */
  scrollable: boolean;
}

export interface Binding {
  command: Command;
  /** As shown in the help. */
  keys: string;
  description: string;
  views: View[] | 'all';
  matches: (input: string, key: Key) => boolean;
  /** The footer's words for it (`x interrupt`); keys without one are in the help (and `?`, `:`, `q` in the tab bar). */
  hint?: string;
  /** When the key applies; the footer leaves it out otherwise (the key then says why it does nothing). */
  when?: (context: KeyContext) => boolean;
}

const char = (c: string) => (input: string, key: Key) => input === c && !key.ctrl && !key.meta;

const running = (c: KeyContext) => c.thread !== null && c.thread.currentTurnId !== null;
const retryable = (c: KeyContext) => c.thread !== null && c.thread.currentTurnId === null && (c.thread.lastTurn?.status === 'failed' || c.thread.lastTurn?.status === 'interrupted');
const onThread = (c: KeyContext) => c.thread !== null;

const THREAD_VIEWS: View[] = ['ops', 'detail', 'transcript', 'diff'];
const LISTS: View[] = ['ops', 'feed', 'approvals', 'chat'];

/** The key table: it drives the input handling, the `?` help and the footer hints. */
export const KEYMAP: Binding[] = [
  { command: 'down', keys: 'j / ↓', description: 'move down', views: LISTS, matches: (i, k) => k.downArrow || char('j')(i, k) },
  { command: 'up', keys: 'k / ↑', description: 'move up', views: LISTS, matches: (i, k) => k.upArrow || char('k')(i, k) },
  { command: 'down', keys: 'j / ↓', description: 'scroll down a line', views: ['detail', 'transcript', 'diff'], matches: (i, k) => k.downArrow || char('j')(i, k) },
  { command: 'up', keys: 'k / ↑', description: 'scroll up a line', views: ['detail', 'transcript', 'diff'], matches: (i, k) => k.upArrow || char('k')(i, k) },
  { command: 'pageDown', keys: 'PgDn / Space', description: 'scroll down a page', views: ['detail', 'transcript', 'diff'], matches: (i, k) => k.pageDown || char(' ')(i, k), hint: 'PgUp/PgDn', when: (c) => c.scrollable },
  { command: 'pageUp', keys: 'PgUp / b', description: 'scroll up a page', views: ['detail', 'transcript', 'diff'], matches: (i, k) => k.pageUp || char('b')(i, k) },
  { command: 'top', keys: 'g / Home', description: 'to the top', views: ['detail', 'transcript', 'diff'], matches: (i, k) => k.home || char('g')(i, k) },
  { command: 'bottom', keys: 'G / End', description: 'to the end', views: ['detail', 'transcript', 'diff'], matches: (i, k) => k.end || char('G')(i, k), hint: 'g/G', when: (c) => c.scrollable },
  { command: 'search', keys: '/', description: 'search', views: ['detail', 'transcript', 'diff'], matches: char('/'), hint: '/ search' },
  { command: 'nextMatch', keys: 'n', description: 'next match', views: ['detail', 'transcript', 'diff'], matches: char('n') },
  { command: 'previousMatch', keys: 'N', description: 'previous match', views: ['detail', 'transcript', 'diff'], matches: char('N') },
  { command: 'nextPane', keys: 'Tab', description: 'next pane', views: 'all', matches: (_i, k) => k.tab && !k.shift },
  { command: 'paneOps', keys: '1', description: 'operations', views: 'all', matches: char('1') },
  { command: 'paneFeed', keys: '2', description: 'activity feed', views: 'all', matches: char('2') },
  { command: 'paneApprovals', keys: '3', description: 'approvals and questions ("needs you")', views: 'all', matches: char('3') },
  { command: 'paneChat', keys: '4', description: 'supervisor chat', views: 'all', matches: char('4') },
  { command: 'chatType', keys: 'i', description: 'type a message (a request, /help, /dispatch, @ws …)', views: ['chat'], matches: char('i'), hint: 'i type' },
  {
    command: 'proposalConfirm',
    keys: 'Enter / y',
    description: 'dispatch the proposed plan',
    views: ['chat'],
    matches: (i, k) => k.return || char('y')(i, k),
    hint: 'Enter/y dispatch',
    when: (c) => c.proposal,
  },
  { command: 'proposalEdit', keys: 'e', description: 'edit the proposed plan (JSON) before dispatching', views: ['chat'], matches: char('e'), hint: 'e edit', when: (c) => c.proposal },
  { command: 'proposalReject', keys: 'n', description: 'reject the proposed plan', views: ['chat'], matches: char('n'), hint: 'n reject', when: (c) => c.proposal },
  { command: 'open', keys: 'Enter', description: 'open the selected thread / entry', views: ['ops', 'feed'], matches: (_i, k) => k.return, hint: 'Enter open' },
  { command: 'answer', keys: 'Enter', description: 'answer the selected question', views: ['approvals'], matches: (_i, k) => k.return, hint: 'Enter answer' },
  { command: 'back', keys: 'Esc', description: 'back', views: 'all', matches: (_i, k) => k.escape },
  { command: 'toggleNeedsInput', keys: 'i', description: 'only what needs my input', views: ['feed'], matches: char('i'), hint: 'i needs input' },
  { command: 'toggleFaults', keys: 'f', description: 'faults only', views: ['feed'], matches: char('f'), hint: 'f faults' },
  { command: 'filter', keys: '/', description: 'filter by text', views: ['feed'], matches: char('/'), hint: '/ filter' },
  { command: 'accept', keys: 'a', description: 'accept', views: ['approvals', 'detail'], matches: char('a'), hint: 'a/A/d/c answer', when: (c) => c.approval },
  { command: 'acceptForSession', keys: 'A', description: 'accept for this session', views: ['approvals', 'detail'], matches: char('A') },
  { command: 'decline', keys: 'd', description: 'decline', views: ['approvals', 'detail'], matches: char('d') },
  { command: 'cancel', keys: 'c', description: 'decline and stop the turn', views: ['approvals', 'detail'], matches: char('c') },
  { command: 'reply', keys: 'r', description: 'reply: a new turn, or steer the running one', views: THREAD_VIEWS, matches: char('r'), hint: 'r reply', when: onThread },
  { command: 'interrupt', keys: 'x', description: 'interrupt the running turn (asks once)', views: THREAD_VIEWS, matches: char('x'), hint: 'x interrupt', when: running },
  { command: 'retry', keys: 'R', description: 'retry the last failed turn (same input, new turn)', views: THREAD_VIEWS, matches: char('R'), hint: 'R retry', when: retryable },
  { command: 'transcript', keys: 't', description: "the thread's transcript", views: ['ops', 'detail', 'diff'], matches: char('t'), hint: 't transcript', when: onThread },
  { command: 'diff', keys: 'D', description: "the last turn's diff", views: ['ops', 'detail', 'transcript'], matches: char('D'), hint: 'D diff', when: onThread },
  { command: 'shell', keys: '!', description: "a shell in the thread's workspace (exit returns here)", views: ['ops', 'detail'], matches: char('!'), hint: '! shell', when: onThread },
  { command: 'archive', keys: '#', description: 'archive the thread (asks once)', views: ['ops', 'detail'], matches: char('#'), when: onThread },
  { command: 'ack', keys: '.', description: 'mark the signals of the selection seen', views: ['ops', 'detail'], matches: char('.') },
  { command: 'help', keys: '?', description: 'help for this view', views: 'all', matches: char('?') },
  { command: 'commandLine', keys: ':', description: 'command line (:help lists the commands)', views: 'all', matches: char(':') },
  { command: 'quit', keys: 'q', description: 'quit', views: 'all', matches: (i, k) => char('q')(i, k) || (k.ctrl && i === 'c') },
];

export function commandFor(view: View, input: string, key: Key): Command | null {
  for (const b of KEYMAP) {
    if ((b.views === 'all' || b.views.includes(view)) && b.matches(input, key)) return b.command;
  }
  return null;
}

export function bindingsFor(view: View): Binding[] {
  return KEYMAP.filter((b) => b.views === 'all' || b.views.includes(view));
}

/** The footer: the hinted keys of the view that apply now, in the table's order. */
export function hintsFor(view: View, context: KeyContext): string[] {
  return bindingsFor(view)
    .filter((b) => b.hint && (!b.when || b.when(context)))
    .map((b) => b.hint!);
}
