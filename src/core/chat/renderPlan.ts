import type { Plan, PlanAction } from '../contract/plan.js';
import type { PlanProblem } from '../contract/validatePlan.js';
import { oneLine } from '../util/text.js';

/** The actions readably, one line each: workspace, thread choice, prompt, overrides and action id. */
export function renderPlan(plan: Plan): string {
  const lines = plan.actions.map((action, index) => {
    const overrides = [
      action.model ? `model ${action.model}` : null,
      action.effort ? `effort ${action.effort}` : null,
      action.approvalPolicy ? `approvals ${action.approvalPolicy}` : null,
      action.sandbox ? `sandbox ${action.sandbox}` : null,
    ].filter((o) => o !== null);
    const extra = overrides.length > 0 ? ` (${overrides.join(', ')})` : '';
    return `  ${index + 1}. ${action.workspace} · ${threadChoice(action)} · ${JSON.stringify(oneLine(action.prompt, 200))}${extra}  [${action.id}]`;
  });
  return lines.join('\n');
}

function threadChoice(action: PlanAction): string {
  if (action.thread === 'new') return 'new thread';
  if (action.thread === 'latest') return 'latest thread (new if none)';
  return `thread ${action.thread}`;
}

/** Plan problems, one indented line each: where, and what to do about it. */
export function formatProblems(problems: PlanProblem[]): string {
  return problems.map((p) => `  - ${p.path || '(plan)'}: ${p.message}`).join('\n');
}
