import type { ThreadRecord } from './model.js';

/**
 * Goal mode: Codex keeps starting turns while the thread's goal is `active`, so the thread is
 * not done until the goal is no longer active and no turn runs. A dispatcher waiting for an
 * action with a goal asks this, besides its job's status: the prompt's turn may end before the
 * goal was set (then the job is completed, but Codex goes on with goal turns).
 */
export function goalInProgress(thread: Pick<ThreadRecord, 'goal' | 'currentTurnId'>): boolean {
  return thread.goal !== null && (thread.goal.status === 'active' || (thread.goal.status === 'cleared' && thread.currentTurnId !== null));
}

/** `budgetLimited` → "stopped at its token budget", as a person says it. */
export function goalStatusWords(status: string): string {
  switch (status) {
    case 'complete':
      return 'complete';
    case 'budgetLimited':
      return 'stopped at its token budget';
    case 'usageLimited':
      return 'stopped by the usage limit';
    case 'blocked':
      return 'blocked';
    case 'paused':
      return 'paused';
    case 'cleared':
      return 'cleared';
    default:
      return status;
  }
}
