import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { z } from 'zod';
import { MAX_PLAN_BYTES, PlanSchema, PlanV2ActionSchema, PlanV2Schema, type Plan, type PlanProblem } from './plan.js';
import { actionWidenings } from './planSafety.js';

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
}

/** `widenings`: what the opt-in allowed (empty without one), for callers that show it. */
export type PlanValidation = { ok: true; plan: Plan; targets: PlanTarget[]; widenings: PlanProblem[] } | { ok: false; problems: PlanProblem[] };

const ACTION_KEYS = Object.keys(PlanV2ActionSchema.shape);
const PLAN_KEYS = Object.keys(PlanV2Schema.shape);

/**
 * Validates a plan completely and reports every problem at once, each with its JSON path and
 * a hint. Nothing may be dispatched unless this returns `ok`.
 */
export function validatePlanText(text: string, context: PlanContext): PlanValidation {
  if (Buffer.byteLength(text, 'utf8') > MAX_PLAN_BYTES) {
    return { ok: false, problems: [{ path: '', message: 'the plan is over the 1 MB limit; split it into several plans' }] };
  }
  if (text.trim() === '') return { ok: false, problems: [{ path: '', message: 'the plan is empty; write a JSON object like {"version":1,"actions":[…]}' }] };
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
  const parsed = PlanSchema.safeParse(raw);
  if (!parsed.success) problems.push(...parsed.error.issues.flatMap(describeIssue));

  // Checks across actions run on whatever parsed, so one run reports everything.
  const actions = Array.isArray((raw as { actions?: unknown })?.actions) ? ((raw as { actions: unknown[] }).actions as unknown[]) : [];
  const seen = new Map<string, number>();
  const targets: PlanTarget[] = [];
  const directoryNames = new Map<string, string>();
  const widenings: PlanProblem[] = [];
  actions.forEach((action, index) => {
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
      else targets.push(target);
      if ('path' in target) directory = target.path;
    }
    widenings.push(...actionWidenings(index, action, directory, context.baseDir));
  });
  if (!context.allowUnsafe) problems.push(...widenings);
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, plan: parsed.data, targets, widenings };
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

function describeIssue(issue: z.core.$ZodIssue): PlanProblem[] {
  const path = formatPath(issue.path);
  const inAction = issue.path[0] === 'actions' && issue.path.length >= 2;
  if (issue.code === 'unrecognized_keys') {
    const allowed = (inAction && issue.path.length === 2 ? ACTION_KEYS : PLAN_KEYS).join(', ');
    return issue.keys.map((key) => ({ path: joinPath(path, key), message: `unknown key "${key}"; remove it (allowed: ${allowed})` }));
  }
  const field = issue.path.at(-1);
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return [{ path, message: `${String(field)} is required` }];
  }
  if (field === 'version') return [{ path, message: 'version must be 1 (the only plan format so far)' }];
  if (field === 'thread' && issue.path.length === 3) return [{ path, message: 'thread must be "new", "latest" or a thread id (a UUID such as 019a…-…)' }];
  return [{ path, message: issue.message }];
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

/** The candidate within edit distance 2 (or sharing a prefix), for "did you mean". */
export function closest(word: string, candidates: string[]): string | null {
  let best: { name: string; distance: number } | null = null;
  for (const name of candidates) {
    const distance = name.startsWith(word) || word.startsWith(name) ? 1 : editDistance(word.toLowerCase(), name.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name ?? null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
