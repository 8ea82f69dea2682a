import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { z } from 'zod';
import { MAX_PLAN_BYTES, PlanActionSchema, PlanV1Schema, PlanV2ActionSchema, PlanV2Schema, type Plan, type PlanProblem } from './plan.js';
import { actionWidenings } from './planSafety.js';
import { isWorktree, planV2Problems, type ActionPlace } from './planV2Checks.js';
import { closest } from './suggest.js';

export type { PlanProblem } from './plan.js';

export type PlanTarget =
  | { actionId: string; kind: 'configured'; workspace: string }
  | { actionId: string; kind: 'directory'; workspace: string; path: string };

export interface PlanContext {
  /**
   * Configured workspaces: an action may name one, or give any directory. A workspace on another
   * machine (`remote`) is named only by its name: its path is not a directory here.
   */
  workspaces: { name: string; path: string; remote?: boolean }[];
  /** Relative workspace paths are resolved against this (the plan file's directory, or the cwd). */
  baseDir: string;
  /**
   * The user's opt-in (`--allow-unsafe`, `allowUnsafePlans`): fields that widen what an agent
   * may do (planSafety.ts) are then allowed, and listed in `widenings`; else they are problems.
   */
  allowUnsafe?: boolean;
  /** The configured host names (`local` included): a v2 plan's `hostConcurrency` may name only these. Unchecked when absent. */
  hosts?: string[];
}

/** `widenings`: what the opt-in allowed (empty without one), for callers that show it. */
export type PlanValidation = { ok: true; plan: Plan; targets: PlanTarget[]; widenings: PlanProblem[] } | { ok: false; problems: PlanProblem[] };

/** The plan format versions, newest first, with what each is for (said when a version is wrong). */
const VERSIONS = [
  { version: 2, schema: PlanV2Schema, action: PlanV2ActionSchema, summary: 'dependencies, concurrency, retries, worktrees, reviews' },
  { version: 1, schema: PlanV1Schema, action: PlanActionSchema, summary: 'a flat list dispatched in one cycle' },
] as const;
type Version = (typeof VERSIONS)[number];
const NEWEST = VERSIONS[0];

/** The keys of the objects inside an action, by the action key that holds them. */
const NESTED_KEYS: Record<string, string[]> = { retry: ['attempts', 'backoffSec'], target: ['after'], budget: ['tokens'] };

/**
 * Validates a plan completely and reports every problem at once, each with its JSON path and
 * a hint. Nothing may be dispatched unless this returns `ok`.
 */
export function validatePlanText(text: string, context: PlanContext): PlanValidation {
  if (Buffer.byteLength(text, 'utf8') > MAX_PLAN_BYTES) {
    return { ok: false, problems: [{ path: '', message: 'the plan is over the 1 MB limit; split it into several plans' }] };
  }
  if (text.trim() === '') return { ok: false, problems: [{ path: '', message: 'the plan is empty; write a JSON object like {"version":2,"actions":[…]}' }] };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [{ path: '', message: jsonErrorMessage(text, error as Error) }] };
  }
  return validatePlanValue(raw, context);
}

export function validatePlanValue(raw: unknown, context: PlanContext): PlanValidation {
  const problems: PlanProblem[] = [];
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  const given = isObject ? (raw as { version?: unknown }).version : undefined;
  const known = VERSIONS.find((v) => v.version === given);
  // A plan of an unknown version is checked as the newest, so its other problems show too.
  const version = known ?? NEWEST;
  const parsed = version.schema.safeParse(raw);
  if (isObject && !known) problems.push({ path: 'version', message: versionMessage(given) });
  if (!parsed.success) {
    const issues = parsed.error.issues.filter((issue) => known || !isObject || issue.path.join('.') !== 'version');
    problems.push(...issues.flatMap((issue) => describeIssue(issue, version, known !== undefined)));
  }

  // Checks across actions run on whatever parsed, so one run reports everything.
  const actions = Array.isArray((raw as { actions?: unknown })?.actions) ? ((raw as { actions: unknown[] }).actions as unknown[]) : [];
  const seen = new Map<string, number>();
  const targets: PlanTarget[] = [];
  const places: ActionPlace[] = [];
  const directoryNames = new Map<string, string>();
  const widenings: PlanProblem[] = [];
  actions.forEach((action, index) => {
    places.push(null);
    if (typeof action !== 'object' || action === null) return;
    const { id, workspace } = action as { id?: unknown; workspace?: unknown };
    if (typeof id === 'string') {
      const first = seen.get(id);
      if (first !== undefined) problems.push({ path: `actions[${index}].id`, message: `duplicate action id "${id}" (also used by actions[${first}]); give every action its own id` });
      else seen.set(id, index);
    }
    let directory: string | null = null;
    if (typeof workspace === 'string' && workspace !== '') {
      const target = resolveTarget(typeof id === 'string' ? id : String(index), workspace, context, directoryNames);
      if ('problem' in target) problems.push({ path: `actions[${index}].workspace`, message: target.problem });
      else {
        targets.push(target);
        places[index] = placeOf(target, context);
      }
      if ('path' in target) directory = target.path;
    }
    widenings.push(...actionWidenings(index, action, directory, context.baseDir));
  });
  if (version.version === 2 && isObject) problems.push(...planV2Problems(raw as object, places, context.hosts));
  if (!context.allowUnsafe) problems.push(...widenings);
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, plan: withWorktreeThreads(parsed.data, actions), targets, widenings };
}

function versionMessage(given: unknown): string {
  const versions = VERSIONS.map((v) => `${v.version} (${v.summary})`).join(' or ');
  if (given === undefined) return `version is required; use ${versions}`;
  return `version must be ${versions}; ${JSON.stringify(given)} is no plan format version`;
}

/** A worktree action that leaves `thread` out gets a new thread: its worktree has no threads yet. */
function withWorktreeThreads(plan: Plan, raw: unknown[]): Plan {
  if (plan.version !== 2) return plan;
  const actions = plan.actions.map((action, i) => {
    const given = (raw[i] as { thread?: unknown }).thread;
    return isWorktree(action.worktree) && action.kind === 'turn' && given === undefined ? { ...action, thread: 'new' as const } : action;
  });
  return { ...plan, actions };
}

function placeOf(target: PlanTarget, context: PlanContext): ActionPlace {
  if (target.kind === 'directory') return { kind: 'local', path: target.path };
  const workspace = context.workspaces.find((w) => w.name === target.workspace);
  if (!workspace) return null;
  return workspace.remote ? { kind: 'remote' } : { kind: 'local', path: resolve(context.baseDir, workspace.path) };
}

function looksLikePath(ref: string): boolean {
  return ref.includes('/') || ref.startsWith('.') || ref.startsWith('~');
}

function resolveTarget(actionId: string, ref: string, context: PlanContext, directoryNames: Map<string, string>): PlanTarget | { problem: string } {
  const byName = context.workspaces.find((w) => w.name === ref);
  if (byName) return { actionId, kind: 'configured', workspace: byName.name };
  if (!looksLikePath(ref)) {
    const suggestion = closest(ref, context.workspaces.map((w) => w.name));
    const known = context.workspaces.map((w) => w.name).join(', ') || 'none';
    return {
      problem: `unknown workspace "${ref}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; configured: ${known}. Use a configured name or a directory path such as ./${ref}`,
    };
  }
  const path = resolve(context.baseDir, ref);
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    return { problem: `${path} is not a directory; the workspace path is relative to ${context.baseDir}` };
  }
  const configured = context.workspaces.find((w) => !w.remote && resolve(w.path) === path);
  if (configured) return { actionId, kind: 'configured', workspace: configured.name };
  // A plain directory becomes a workspace named after it, made unique among the others.
  let name = directoryNames.get(path);
  if (name === undefined) {
    const base = basename(path) || 'root';
    const taken = new Set([...context.workspaces.map((w) => w.name), ...directoryNames.values()]);
    name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
    directoryNames.set(path, name);
  }
  return { actionId, kind: 'directory', workspace: name, path };
}

function describeIssue(issue: z.core.$ZodIssue, version: Version, knownVersion: boolean): PlanProblem[] {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const allowed = keysAt(issue.path, version);
    return issue.keys.map((key) => ({ path: joinPath(path, key), message: `unknown key "${key}"; ${unknownKeyHint(key, issue.path, version, knownVersion)} (allowed: ${allowed.join(', ')})` }));
  }
  const field = issue.path.at(-1);
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return [{ path, message: `${String(field)} is required` }];
  }
  const inAction = issue.path[0] === 'actions' && issue.path.length === 3;
  if (field === 'thread' && inAction) return [{ path, message: 'thread must be "new", "latest" or a thread id (a UUID such as 019a…-…)' }];
  if (field === 'worktree' && inAction) return [{ path, message: 'worktree must be true, false or the name of a new git branch, such as "fix-login"' }];
  if (field === 'after' && inAction && issue.code === 'invalid_type') return [{ path, message: 'after must be a list of action ids, such as ["build"]' }];
  return [{ path, message: issue.message }];
}

/** The keys the object at `path` may have, in the plan's version. */
function keysAt(path: PropertyKey[], version: Version): string[] {
  if (path[0] !== 'actions' || path.length < 2) return Object.keys(version.schema.shape);
  if (path.length === 2) return Object.keys(version.action.shape);
  return NESTED_KEYS[String(path[2])] ?? [];
}

/** A key of a newer version in an older plan is no typo: say which version has it. */
function unknownKeyHint(key: string, path: PropertyKey[], version: Version, knownVersion: boolean): string {
  if (knownVersion && version.version !== NEWEST.version && keysAt(path, NEWEST).includes(key)) {
    return `it needs "version": ${NEWEST.version}, or remove it`;
  }
  return 'remove it';
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : joinPath(acc, String(part))), '');
}

function joinPath(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

/** "not valid JSON at line L, column C: <what>", with the position found by `jsonErrorPosition`. */
function jsonErrorMessage(text: string, error: Error): string {
  const position = jsonErrorPosition(text);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  const expected = /^(Expected .*?) in JSON at position/.exec(error.message)?.[1];
  const reason =
    position >= text.length ? 'the JSON ends too early' : (expected ?? `unexpected ${JSON.stringify(text[position])}`);
  return `not valid JSON at line ${line}, column ${column}: ${reason}`;
}

/** Position of JSON.parse's complaint: inside the text, or `end` when the text merely ends early. */
function failureAt(text: string, end: number): number | null {
  try {
    JSON.parse(text.slice(0, end));
    return null;
  } catch (e) {
    const message = (e as Error).message;
    if (/end of JSON input|Unterminated string/.test(message)) return end;
    const position = /at position (\d+)/.exec(message);
    return position ? Number(position[1]) : -1;
  }
}

/**
 * Where JSON.parse first fails. V8 names the position for most errors but not for an
 * "Unexpected token": then find the shortest prefix that fails before its own end.
 */
function jsonErrorPosition(text: string): number {
  const whole = failureAt(text, text.length);
  if (whole === null) return text.length;
  if (whole >= 0) return whole;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    const at = failureAt(text, mid);
    if (at !== null && at < mid) high = mid;
    else low = mid + 1;
  }
  return Math.max(0, low - 1);
}
