import type { ChatReply, SupervisorApi } from '../../core/api/supervisorApi.js';
import { approvalSubject, decisionWord } from '../../core/state/digest.js';
import type { ApprovalDecision } from '../../core/state/events.js';
import type { SupervisorState, ThreadRecord } from '../../core/state/model.js';
import { openSignals } from '../../core/state/selectors.js';
import { oneLine } from '../../core/util/text.js';
import type { View } from '../keymap.js';
import type { Tone } from '../viewModel.js';
import type { CommandLineOps } from './commandLine.js';
import { actedThread, selectedApprovalKey, selectedIndex, type Lists } from './selection.js';
import type { UiAction, UiState } from './uiState.js';

/** What the App hands the key handling: the UI state, the supervisor's, and the ways out. */
export interface ActionDeps {
  ui: UiState;
  dispatch: (action: UiAction) => void;
  state: SupervisorState;
  lists: Lists;
  api: SupervisorApi;
  flash: (text: string, tone?: Tone, about?: { threadId?: string; keys?: string }) => void;
  onQuit: () => void;
  confirmQuitWhenRunning: boolean;
  allowUnsafePlans: boolean;
  dispatchFile?: (path: string) => Promise<string>;
  /** Gives the terminal to a shell in the thread's workspace; resolves when it exits. */
  shell?: (threadId: string) => Promise<string>;
}

export const errorText = (e: unknown): string => oneLine(e instanceof Error ? e.message : String(e), 300);

/** Runs an API call; its failure (or the `ok` text) goes to the status line. */
export function guard(deps: ActionDeps, promise: Promise<unknown>, ok?: string): void {
  void promise.then(
    () => ok && deps.flash(ok, 'ok'),
    (e: unknown) => deps.flash(errorText(e), 'error'),
  );
}

export const threadLabel = (t: ThreadRecord): string => `${t.workspace}: ${oneLine(t.title, 40)}`;

export function decide(deps: ActionDeps, decision: ApprovalDecision): void {
  const key = selectedApprovalKey(deps.ui, deps.lists, deps.state);
  const approval = key ? deps.state.pendingApprovals[key] : undefined;
  if (!approval) return deps.flash('no approval selected', 'dim');
  if (!approval.availableDecisions.includes(decision)) return deps.flash(`"${decision}" is not offered for this approval`, 'warn');
  guard(deps, deps.api.answerApproval(approval.key, decision), `${decisionWord(decision)}: ${approvalSubject(approval)} (${approval.workspace})`);
}

/** Marks seen the open signals of the selected thread (or workspace row). */
export function ackSelection(deps: ActionDeps): void {
  const { ui, lists, state } = deps;
  const row = ui.view === 'ops' ? lists.rows[selectedIndex(ui, lists, 'ops')] : undefined;
  const threadId = actedThread(ui, lists, state)?.id ?? null;
  const workspace = row?.kind === 'workspace' ? row.workspace : null;
  const targets = openSignals(state).filter((x) => x.acknowledgedAtMs === null && (threadId ? x.threadId === threadId : x.workspace === workspace));
  if (targets.length === 0) return deps.flash('no open signals here', 'dim');
  guard(deps, Promise.all(targets.map((x) => deps.api.ackSignal(x.id))), `acknowledged ${targets.length} signal(s)`);
}

export function quit(deps: ActionDeps): void {
  const running = Object.values(deps.state.threads).filter((t) => t.currentTurnId !== null).length;
  if (deps.confirmQuitWhenRunning && running > 0) {
    deps.dispatch({ type: 'overlay', overlay: { kind: 'confirm', action: 'quit', threadId: null, question: `${running} turn(s) are running; quitting stops them. Quit?` } });
  } else deps.onQuit();
}

function chatCall(deps: ActionDeps, call: () => Promise<ChatReply>): void {
  deps.dispatch({ type: 'chatBusy', busy: true });
  void call()
    .then((reply) => {
      if (reply.proposal) deps.dispatch({ type: 'proposal', proposal: { id: reply.proposal.id, plan: reply.proposal.plan } });
      else if (reply.status === 'ok' && reply.dispatched) deps.dispatch({ type: 'proposal', proposal: null });
    })
    .catch((e: unknown) => deps.flash(errorText(e), 'error'))
    .finally(() => deps.dispatch({ type: 'chatBusy', busy: false }));
}

export function sendChat(deps: ActionDeps, line: string): void {
  if (!line.trim()) return;
  const item = deps.lists.queue[selectedIndex(deps.ui, deps.lists, 'approvals')];
  chatCall(deps, () => deps.api.chatSend(line, item?.kind === 'approval' ? { approvalKey: item.approval.key } : {}));
}

export function decideProposal(deps: ActionDeps, decision: 'confirm' | 'reject', edited?: unknown): void {
  const proposal = deps.ui.proposal;
  if (!proposal) return deps.flash('no proposal is waiting', 'dim');
  if (decision === 'reject') deps.dispatch({ type: 'proposal', proposal: null });
  chatCall(deps, () => deps.api.chatDecide(proposal.id, decision, edited, { allowUnsafe: deps.allowUnsafePlans }));
}

/** The `:` commands' effects (the table in commandLine.ts says which command does what). */
export function commandLineOps(deps: ActionDeps): CommandLineOps {
  const { state } = deps;
  return {
    show: (view: View) => deps.dispatch({ type: 'show', view }),
    help: () => deps.dispatch({ type: 'overlay', overlay: { kind: 'help', scroll: 0 } }),
    usage: (text) => deps.flash(text, 'warn'),
    dispatchFile: (path) => {
      if (!deps.dispatchFile) return deps.flash('dispatch is not available here', 'warn');
      deps.flash(`dispatching ${path}…`);
      deps.dispatchFile(path).then(
        (message) => deps.flash(message, 'ok'),
        (e: unknown) => deps.flash(errorText(e), 'error'),
      );
    },
    ack: (signalId) => {
      if (signalId) return guard(deps, deps.api.ackSignal(signalId), `acknowledged ${signalId}`);
      const open = openSignals(state).filter((x) => x.acknowledgedAtMs === null);
      if (open.length === 0) return deps.flash('no open signals to acknowledge', 'dim');
      guard(deps, Promise.all(open.map((x) => deps.api.ackSignal(x.id))), `acknowledged ${open.length} signal(s)`);
    },
    mute: (workspace, muted) => {
      const name = muted ? 'mute' : 'unmute';
      if (!workspace || !state.workspaces[workspace]) return deps.flash(`usage: :${name} WORKSPACE (one of: ${Object.keys(state.workspaces).join(', ')})`, 'warn');
      deps.dispatch({ type: 'mute', workspace, muted });
      deps.flash(`notifications ${muted ? 'muted' : 'unmuted'} for ${workspace}`);
    },
    notify: (on) => {
      deps.dispatch({ type: 'notifications', change: { on } });
      deps.flash(`notifications ${on ? 'on' : 'off'}`);
    },
    quit: () => quit(deps),
  };
}
