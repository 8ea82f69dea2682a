import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanProblem } from './plan.js';
import { findCycles } from './planGraph.js';
import { closest } from './suggest.js';

/**
 * The checks of a v2 plan that span actions (the schema checks each field alone): dependencies
 * and their cycles, reviews and their targets, worktrees and their repositories, hosts. They
 * read the raw plan (valid or not), so one run reports everything.
 */

/** Where an action runs, as far as this machine can tell: a local directory, another machine, or unknown (an invalid workspace). */
export type ActionPlace = { kind: 'local'; path: string } | { kind: 'remote' } | null;

interface RawAction {
  id?: unknown;
  workspace?: unknown;
  thread?: unknown;
  after?: unknown;
  worktree?: unknown;
  kind?: unknown;
  target?: unknown;
  goal?: unknown;
}

export function planV2Problems(raw: { actions?: unknown; hostConcurrency?: unknown }, places: ActionPlace[], hosts: string[] | undefined): PlanProblem[] {
  const actions: RawAction[] = Array.isArray(raw.actions) ? raw.actions.map((a) => (typeof a === 'object' && a !== null ? (a as RawAction) : {})) : [];
  const ids = actions.flatMap((a) => (typeof a.id === 'string' ? [a.id] : []));
  const problems: PlanProblem[] = [];
  actions.forEach((action, i) => {
    problems.push(...afterProblems(action, i, ids));
    problems.push(...reviewProblems(action, i, actions, ids, places[i] ?? null));
    problems.push(...worktreeProblems(action, i, actions, places[i] ?? null));
  });
  problems.push(...cycleProblems(actions));
  if (hosts) problems.push(...hostProblems(raw.hostConcurrency, hosts));
  return problems;
}

function unknownAction(id: string, ids: string[]): string {
  const suggestion = closest(id, ids);
  return suggestion ? `no action "${id}" in this plan (did you mean "${suggestion}"?)` : `no action "${id}" in this plan; its actions: ${ids.join(', ')}`;
}

function afterProblems(action: RawAction, i: number, ids: string[]): PlanProblem[] {
  if (!Array.isArray(action.after)) return [];
  const listed = new Set<string>();
  return action.after.flatMap((id, j): PlanProblem[] => {
    if (typeof id !== 'string') return [];
    const path = `actions[${i}].after[${j}]`;
    if (id === action.id) return [{ path, message: `"${id}" is this action itself: an action cannot wait for itself; remove it` }];
    if (listed.has(id)) return [{ path, message: `"${id}" is listed twice; list each dependency once` }];
    listed.add(id);
    return ids.includes(id) ? [] : [{ path, message: `${unknownAction(id, ids)}; "after" lists ids of actions of the same plan` }];
  });
}

/** One problem per cycle, at the `after` of its first action in plan order. */
function cycleProblems(actions: RawAction[]): PlanProblem[] {
  const nodes = actions.flatMap((a) => (typeof a.id === 'string' ? [{ id: a.id, after: Array.isArray(a.after) ? a.after.filter((d): d is string => typeof d === 'string') : [] }] : []));
  return findCycles(nodes).map((cycle) => {
    const first = actions.findIndex((a) => a.id === cycle[0]);
    return {
      path: `actions[${first}].after`,
      message: `${[...cycle, cycle[0]].join(' → ')} is a cycle: each waits for the next, so none of them could start; remove one of these dependencies`,
    };
  });
}

function reviewProblems(action: RawAction, i: number, actions: RawAction[], ids: string[], place: ActionPlace): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const isReview = action.kind === 'review';
  const target = typeof action.target === 'object' && action.target !== null ? (action.target as { after?: unknown }).after : undefined;
  if (action.target !== undefined && !isReview) {
    problems.push({ path: `actions[${i}].target`, message: 'only a review has a target; set "kind": "review", or remove "target"' });
  }
  if (isReview && action.goal !== undefined) {
    problems.push({ path: `actions[${i}].goal`, message: 'a review has no goal (it ends with its findings); remove "goal", or use "kind": "turn"' });
  }
  if (isReview && isWorktree(action.worktree)) {
    problems.push({
      path: `actions[${i}].worktree`,
      message: 'a review in a new worktree would find nothing to review; to review the worktree of an earlier action, use "target": {"after": "<its id>"}',
    });
  }
  if (isReview && typeof target === 'string') {
    const path = `actions[${i}].target.after`;
    const reviewed = actions.find((a) => a.id === target);
    if (target === action.id) problems.push({ path, message: 'a review cannot review itself; name the action whose worktree it reviews' });
    else if (!reviewed) problems.push({ path, message: unknownAction(target, ids) });
    else {
      if (!Array.isArray(action.after) || !action.after.includes(target)) {
        problems.push({ path, message: `"${target}" is not among this review's dependencies; add it to "after", so the review starts once "${target}" is done` });
      }
      if (!isWorktree(reviewed.worktree)) {
        problems.push({ path, message: `"${target}" runs without a worktree, so there is none to review; give it "worktree": true, or remove "target" to review the workspace` });
      } else if (typeof reviewed.workspace === 'string' && typeof action.workspace === 'string' && reviewed.workspace !== action.workspace) {
        problems.push({ path, message: `"${target}" runs in workspace "${reviewed.workspace}", this review in "${action.workspace}"; review a worktree from its own workspace` });
      }
    }
  }
  // Without a target a review looks at the workspace's uncommitted changes, which only git knows.
  if (isReview && action.target === undefined && place?.kind === 'local' && !isGitRepository(place.path)) {
    problems.push({
      path: `actions[${i}].kind`,
      message: `a review looks at the uncommitted changes of ${place.path}, which is not a git repository (no .git); run \`git init\` there, or review the worktree of an earlier action with "target"`,
    });
  }
  return problems;
}

function worktreeProblems(action: RawAction, i: number, actions: RawAction[], place: ActionPlace): PlanProblem[] {
  if (!isWorktree(action.worktree) || action.kind === 'review') return [];
  const problems: PlanProblem[] = [];
  if (action.thread !== undefined && action.thread !== 'new') {
    problems.push({
      path: `actions[${i}].thread`,
      message: `a worktree action starts a new thread in its new worktree, so it cannot continue ${action.thread === 'latest' ? 'the latest thread' : `thread ${String(action.thread)}`}; use "new" or leave "thread" out`,
    });
  }
  // A remote workspace's repository is only seen by its host: checked when the worktree is made.
  if (place?.kind === 'local' && !isGitRepository(place.path)) {
    problems.push({ path: `actions[${i}].worktree`, message: `${place.path} is not a git repository (no .git), so it has no worktrees; run \`git init\` there, or remove "worktree"` });
  }
  if (typeof action.worktree === 'string') {
    const other = actions.findIndex((a) => a !== action && a.worktree === action.worktree && a.kind !== 'review');
    if (other >= 0 && other < i) {
      problems.push({ path: `actions[${i}].worktree`, message: `branch "${action.worktree}" is also the worktree branch of actions[${other}]; give each worktree its own branch` });
    }
  }
  return problems;
}

function hostProblems(limits: unknown, hosts: string[]): PlanProblem[] {
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) return [];
  return Object.keys(limits).flatMap((name) => {
    if (hosts.includes(name)) return [];
    const suggestion = closest(name, hosts);
    return [{ path: `hostConcurrency.${name}`, message: `no host "${name}" is configured${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; hosts: ${hosts.join(', ')} (\`cm-supervisor host list\`)` }];
  });
}

export function isWorktree(value: unknown): boolean {
  return value === true || typeof value === 'string';
}

/** A repository's top directory has `.git`: a directory, or a file in a worktree or submodule. */
function isGitRepository(path: string): boolean {
  return existsSync(join(path, '.git'));
}
