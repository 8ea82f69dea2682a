import type { Key } from 'ink';

export type View = 'ops' | 'feed' | 'approvals' | 'detail' | 'chat';

export type Command =
  | 'down'
  | 'up'
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
  | 'ack';

export interface Binding {
  command: Command;
  /** As shown in the help. */
  keys: string;
  description: string;
  views: View[] | 'all';
  matches: (input: string, key: Key) => boolean;
}

const char = (c: string) => (input: string, key: Key) => input === c && !key.ctrl && !key.meta;

/** The key table: it drives both the input handling and the `?` help. */
export const KEYMAP: Binding[] = [
  { command: 'down', keys: 'j / ↓', description: 'move down', views: 'all', matches: (i, k) => k.downArrow || char('j')(i, k) },
  { command: 'up', keys: 'k / ↑', description: 'move up', views: 'all', matches: (i, k) => k.upArrow || char('k')(i, k) },
  { command: 'nextPane', keys: 'Tab', description: 'next pane', views: 'all', matches: (_i, k) => k.tab && !k.shift },
  { command: 'paneOps', keys: '1', description: 'operations', views: 'all', matches: char('1') },
  { command: 'paneFeed', keys: '2', description: 'activity feed', views: 'all', matches: char('2') },
  { command: 'paneApprovals', keys: '3', description: 'approvals and questions ("needs you")', views: 'all', matches: char('3') },
  { command: 'paneChat', keys: '4', description: 'supervisor chat', views: 'all', matches: char('4') },
  { command: 'proposalConfirm', keys: 'Enter / y', description: 'dispatch the proposed plan', views: ['chat'], matches: (i, k) => k.return || char('y')(i, k) },
  { command: 'chatType', keys: 'i', description: 'type a message (a request, /help, /dispatch, @ws …)', views: ['chat'], matches: char('i') },
  { command: 'proposalEdit', keys: 'e', description: 'edit the proposed plan (JSON) before dispatching', views: ['chat'], matches: char('e') },
  { command: 'proposalReject', keys: 'n', description: 'reject the proposed plan', views: ['chat'], matches: char('n') },
  { command: 'open', keys: 'Enter', description: 'open the selected thread / entry', views: ['ops', 'feed'], matches: (_i, k) => k.return },
  { command: 'answer', keys: 'Enter', description: 'answer the selected question', views: ['approvals'], matches: (_i, k) => k.return },
  { command: 'back', keys: 'Esc', description: 'back', views: 'all', matches: (_i, k) => k.escape },
  { command: 'toggleNeedsInput', keys: 'i', description: 'only what needs my input', views: ['feed'], matches: char('i') },
  { command: 'toggleFaults', keys: 'f', description: 'faults only', views: ['feed'], matches: char('f') },
  { command: 'filter', keys: '/', description: 'filter by text', views: ['feed'], matches: char('/') },
  { command: 'accept', keys: 'a', description: 'accept', views: ['approvals', 'detail'], matches: char('a') },
  { command: 'acceptForSession', keys: 'A', description: 'accept for this session', views: ['approvals', 'detail'], matches: char('A') },
  { command: 'decline', keys: 'd', description: 'decline', views: ['approvals', 'detail'], matches: char('d') },
  { command: 'cancel', keys: 'c', description: 'cancel the turn', views: ['approvals', 'detail'], matches: char('c') },
  { command: 'ack', keys: 'x', description: 'acknowledge the signals of the selection', views: ['ops', 'detail'], matches: char('x') },
  { command: 'help', keys: '?', description: 'help for this view', views: 'all', matches: char('?') },
  { command: 'commandLine', keys: ':', description: 'command line (:ws :feed :approvals :dispatch FILE :ack :mute WS :q)', views: 'all', matches: char(':') },
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
