import type { MockReply, MockRequest } from './mockResponsesServer.js';

/**
 * The mock model as the chat's planner, for requests that imply an order ("first X, then Y"):
 * a v2 plan in the strict structured-output form (every field present, null when unset) in
 * which each step comes `after` the one before. Each step runs in the workspace it names, else
 * in the first workspace of the state digest. Null for any other request.
 */
export function orderedPlanReply(req: MockRequest): MockReply | null {
  if (!req.isStructured) return null;
  const text = req.lastUserText ?? '';
  const request = /^Request: (.*)$/m.exec(text)?.[1] ?? '';
  const steps = /\bfirst\s+(.+?),?\s+(?:and\s+)?then\s+(.+)$/i.exec(request);
  if (!steps) return null;
  const workspaces = [...text.matchAll(/^- workspace (\S+) \(/gm)].map((m) => m[1]!);
  if (workspaces.length === 0) return null;
  const ids: string[] = [];
  const actions = [steps[1]!, steps[2]!].map((step, index) => {
    const id = uniqueId(step, ids);
    const workspace = workspaces.find((w) => new RegExp(`\\b${escapeRegExp(w)}\\b`).test(step)) ?? workspaces[0]!;
    ids.push(id);
    return {
      ...NONE,
      id,
      workspace,
      prompt: `${step.charAt(0).toUpperCase()}${step.slice(1)}`,
      after: index === 0 ? null : [ids[index - 1]!],
    };
  });
  return { kind: 'json', value: { version: 2, id: null, concurrency: null, actions } };
}

const NONE = { thread: null, model: null, effort: null, approvalPolicy: null, sandbox: null, retry: null, worktree: null, kind: null, target: null, budget: null, goal: null };

/** The step's first word as an action id ("build the api" → "build"), made unique. */
function uniqueId(step: string, taken: string[]): string {
  const base = /[A-Za-z0-9]+/.exec(step)?.[0]?.toLowerCase() ?? 'step';
  let id = base;
  for (let n = 2; taken.includes(id); n++) id = `${base}-${n}`;
  return id;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
