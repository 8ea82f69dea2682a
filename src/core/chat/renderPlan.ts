import { asPlanV2, type Plan, type PlanV2, type PlanV2Action } from '../contract/plan.js';
import type { PlanProblem } from '../contract/validatePlan.js';
import { oneLine } from '../util/text.js';

/**
 * The actions readably, one line each: workspace, thread choice (or what a review looks at),
 * prompt, dependencies, policies and overrides, and the action id; then the plan's limits.
 */
export function renderPlan(plan: Plan): string {
  const v2 = asPlanV2(plan);
  const lines = v2.actions.map((action, index) => {
    const details = [
      action.after && action.after.length > 0 ? `after ${action.after.join(', ')}` : null,
      worktreeText(action),
      action.retry ? `retry ${action.retry.attempts}× on transient errors, from ${action.retry.backoffSec}s` : null,
      action.goal ? `goal ${JSON.stringify(oneLine(action.goal, 80))}` : null,
      action.budget ? `budget ${action.budget.tokens} tokens` : null,
      action.model ? `model ${action.model}` : null,
      action.effort ? `effort ${action.effort}` : null,
      action.approvalPolicy ? `approvals ${action.approvalPolicy}` : null,
      action.sandbox ? `sandbox ${action.sandbox}` : null,
    ].filter((d) => d !== null);
    const extra = details.length > 0 ? ` (${details.join(', ')})` : '';
    return `  ${index + 1}. ${action.workspace} · ${threadChoice(action)} · ${JSON.stringify(oneLine(action.prompt, 200))}${extra}  [${action.id}]`;
  });
  const limits = limitsText(v2);
  return [...lines, ...(limits ? [`  ${limits}`] : [])].join('\n');
}

function threadChoice(action: PlanV2Action): string {
  if (action.kind === 'review') return action.target ? `review of ${action.target.after}'s worktree` : 'review of the uncommitted changes';
  if (action.thread === 'new') return 'new thread';
  if (action.thread === 'latest') return 'latest thread (new if none)';
  return `thread ${action.thread}`;
}

function worktreeText(action: PlanV2Action): string | null {
  if (action.worktree === true) return 'in a new worktree';
  if (typeof action.worktree === 'string') return `in a new worktree on branch ${action.worktree}`;
  return null;
}

function limitsText(plan: PlanV2): string | null {
  const perHost = Object.entries(plan.hostConcurrency ?? {}).map(([host, n]) => `${host} ${n}`);
  const parts = [plan.concurrency ? `at most ${plan.concurrency} at a time` : null, perHost.length > 0 ? `per host: ${perHost.join(', ')}` : null].filter((p) => p !== null);
  return parts.length > 0 ? parts.join('; ') : null;
}

/** Plan problems, one indented line each: where, and what to do about it. */
export function formatProblems(problems: PlanProblem[]): string {
  return problems.map((p) => `  - ${p.path || '(plan)'}: ${p.message}`).join('\n');
}
