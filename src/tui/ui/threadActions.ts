import type { ThreadRecord } from '../../core/state/model.js';
import type { Command } from '../keymap.js';
import { errorText, guard, threadLabel, type ActionDeps } from './actions.js';
import { actedThread } from './selection.js';
import type { ConfirmAction } from './uiState.js';

/** The act keys: what they do to the selected (or shown) thread. */
export type ThreadCommand = Extract<Command, 'reply' | 'interrupt' | 'retry' | 'transcript' | 'diff' | 'shell' | 'archive'>;

export function actOnThread(deps: ActionDeps, command: ThreadCommand, thread: ThreadRecord | null = actedThread(deps.ui, deps.lists, deps.state)): void {
  if (!thread) return deps.flash('select a thread first (j/k in the operations view)', 'dim');
  const label = threadLabel(thread);
  switch (command) {
    case 'reply': {
      const verb = thread.currentTurnId ? 'steer the running turn of' : 'reply to';
      return deps.dispatch({ type: 'overlay', overlay: { kind: 'reply', text: '', threadId: thread.id, label: `${verb} ${label}` } });
    }
    case 'interrupt':
      if (!thread.currentTurnId) return deps.flash(`nothing runs in ${label}`, 'dim');
      return confirm(deps, 'interrupt', thread.id, `Interrupt the running turn of ${label}?`);
    case 'archive':
      return confirm(deps, 'archive', thread.id, `Archive ${label}? It leaves this view and Codex's thread list.`);
    case 'retry':
      if (thread.currentTurnId) return deps.flash(`a turn is running in ${label}: x interrupts it`, 'dim');
      if (thread.lastTurn?.status !== 'failed' && thread.lastTurn?.status !== 'interrupted') return deps.flash(`the last turn of ${label} did not fail: nothing to retry`, 'dim');
      deps.flash(`retrying the last turn of ${label}…`);
      return void deps.api.retryTurn(thread.id).then(
        (r) => deps.flash(`retried ${label}: turn ${r.turnId.slice(-8)} started`, 'ok'),
        (e: unknown) => deps.flash(errorText(e), 'error'),
      );
    case 'transcript':
    case 'diff':
      return deps.dispatch({ type: 'openThread', threadId: thread.id, view: command });
    case 'shell':
      return openShell(deps, thread);
  }
}

function confirm(deps: ActionDeps, action: ConfirmAction, threadId: string, question: string): void {
  deps.dispatch({ type: 'overlay', overlay: { kind: 'confirm', action, threadId, question } });
}

/** The answer to a question of `confirm`: `y` does it, any other key does not. */
export function confirmed(deps: ActionDeps, action: ConfirmAction, threadId: string | null): void {
  if (action === 'quit') return deps.onQuit();
  const thread = threadId ? deps.state.threads[threadId] : undefined;
  if (!thread) return deps.flash('the thread is gone', 'warn');
  const label = threadLabel(thread);
  if (action === 'archive') return guard(deps, deps.api.archiveThread(thread.id), `archived ${label}`);
  // The turn may have ended while the question was asked.
  if (!thread.currentTurnId) return deps.flash(`nothing runs in ${label} any more`, 'dim');
  guard(deps, deps.api.interruptTurn(thread.id, thread.currentTurnId), `interrupted ${label}`);
}

export function sendReply(deps: ActionDeps, threadId: string, text: string): void {
  const thread = deps.state.threads[threadId];
  if (!text.trim()) return deps.flash('nothing sent: the reply was empty', 'dim');
  if (!thread) return deps.flash('the thread is gone', 'warn');
  const label = threadLabel(thread);
  void deps.api.reply(threadId, text).then(
    (r) => deps.flash(r.mode === 'steered' ? `steered the running turn of ${label}` : `sent to ${label}: turn ${r.turnId.slice(-8)} started`, 'ok'),
    (e: unknown) => deps.flash(errorText(e), 'error'),
  );
}

function openShell(deps: ActionDeps, thread: ThreadRecord): void {
  const shell = deps.shell;
  if (!shell) return deps.flash('a shell is not available here', 'warn');
  deps.dispatch({ type: 'suspend', suspended: true });
  void shell(thread.id)
    .then(
      (how) => deps.flash(how, 'info'),
      (e: unknown) => deps.flash(errorText(e), 'error'),
    )
    .finally(() => deps.dispatch({ type: 'suspend', suspended: false }));
}
