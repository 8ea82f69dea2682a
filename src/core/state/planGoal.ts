import type { FailureKind } from '../dispatch/failureKind.js';
import type { JobRecord, ThreadRecord } from './model.js';
import type { PlanAttempt } from './planRuns.js';
import { goalInProgress, goalStatusWords } from './threadGoal.js';

/** How a goal action's attempt ended, once its goal did. */
export type GoalOutcome = { status: 'completed' } | { status: 'failed' | 'interrupted'; error: string; failure: FailureKind };

/**
 * Goal mode, pure: whether the attempt of an action with a `goal` is over, and how. It is over
 * when its goal was set, its prompt's turn (the job) completed, no turn runs and the goal is no
 * longer active — in any order: the prompt's turn may end before the goal is set, and Codex goes
 * on with goal turns by itself after it. A goal is done when it is `complete`; any other end
 * (blocked, its token budget, the usage limit, paused or cleared from outside) is not.
 * Null: not over yet (a failed prompt turn is the job's own failure, not a goal's).
 */
export function goalOutcome(attempt: PlanAttempt, job: JobRecord | undefined, thread: ThreadRecord | undefined): GoalOutcome | null {
  if (!attempt.goalSet || !thread || !job || job.turnId !== attempt.turnId || job.status !== 'completed') return null;
  if (thread.currentTurnId !== null || goalInProgress(thread)) return null;
  // The state drops a cleared goal.
  const goal = thread.goal;
  const status = goal?.status ?? 'cleared';
  if (status === 'complete') return { status: 'completed' };
  const turns = goal && goal.turns > 0 ? ` after ${goal.turns} goal turn${goal.turns === 1 ? '' : 's'}` : '';
  switch (status) {
    case 'blocked':
      return { status: 'failed', error: `goal blocked${turns}: the model reported it cannot complete it`, failure: 'permanent' };
    case 'budgetLimited':
      return { status: 'interrupted', error: `goal ${goalStatusWords(status)} (${goal!.tokensUsed} of ${goal!.tokenBudget ?? '?'} tokens)${turns}, not complete`, failure: 'permanent' };
    case 'usageLimited':
      return { status: 'failed', error: `goal ${goalStatusWords(status)}${turns}, not complete`, failure: 'quota' };
    case 'cleared':
      return { status: 'interrupted', error: `goal cleared${turns} before it was complete (by another client or a person)`, failure: 'permanent' };
    default:
      return { status: 'interrupted', error: `goal ${goalStatusWords(status)}${turns}, not complete`, failure: 'permanent' };
  }
}
