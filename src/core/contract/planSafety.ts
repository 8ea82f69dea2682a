import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { assertType } from '../protocol/typeCheck.js';
import type { PlanAction, PlanProblem } from './plan.js';

/**
 * Plan fields that widen what an agent may do. A plan is untrusted input (a file anyone may
 * have written, a planner's answer), so these need the user's opt-in, given by whoever
 * dispatches: `--allow-unsafe`, or `"allowUnsafePlans": true` in config.json.
 * cm-supervisor's config sets no sandbox of its own, so the ceiling is what Codex gives a
 * workspace by default: `workspace-write`.
 */

/** Sandbox modes from the narrowest to the widest. */
export const SANDBOX_ORDER = ['read-only', 'workspace-write', 'danger-full-access'] as const;
assertType<NonNullable<PlanAction['sandbox']> extends (typeof SANDBOX_ORDER)[number] ? true : false>();

/** The widest sandbox a plan gets without the opt-in: the agent writes only inside its workspace. */
export const PLAN_SANDBOX_CEILING = 'workspace-write' satisfies (typeof SANDBOX_ORDER)[number];

export const UNSAFE_OPT_IN = 'pass --allow-unsafe (or set "allowUnsafePlans": true in config.json) to allow it';

/**
 * What one action asks beyond the limits, one problem per field. It reads the raw fields (valid
 * or not), so one run reports everything. `directory`: where the action runs when its workspace
 * is a plain directory (not a configured workspace); `baseDir`: the plan file's directory.
 */
export function actionWidenings(index: number, action: { sandbox?: unknown; approvalPolicy?: unknown }, directory: string | null, baseDir: string): PlanProblem[] {
  const problems: PlanProblem[] = [];
  if (sandboxRank(action.sandbox) > sandboxRank(PLAN_SANDBOX_CEILING)) {
    problems.push({
      path: `actions[${index}].sandbox`,
      message: `"${String(action.sandbox)}" lifts the sandbox above "${PLAN_SANDBOX_CEILING}": the agent could change files outside its workspace; ${UNSAFE_OPT_IN}`,
    });
  }
  if (action.approvalPolicy === 'never') {
    problems.push({ path: `actions[${index}].approvalPolicy`, message: `"never" lets the agent run commands without ever asking you: none can be declined; ${UNSAFE_OPT_IN}` });
  }
  if (directory !== null && !isInside(directory, baseDir)) {
    problems.push({
      path: `actions[${index}].workspace`,
      message: `${directory} is not a configured workspace and not inside the plan's directory ${baseDir}; configure it (\`cm-supervisor workspace add ${directory}\`), or ${UNSAFE_OPT_IN}`,
    });
  }
  return problems;
}

function sandboxRank(mode: unknown): number {
  return SANDBOX_ORDER.indexOf(mode as (typeof SANDBOX_ORDER)[number]);
}

/** Compared after resolving symbolic links: a link inside the plan's directory may lead anywhere. */
function isInside(directory: string, baseDir: string): boolean {
  const path = relative(realPath(baseDir), realPath(directory));
  return path === '' || (path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path));
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // Gone since it was checked: compare the path as written.
    return resolve(path);
  }
}
