import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { ActionDispatchResult, DispatchResult } from '../api/supervisorApi.js';
import type { AppServerConnection } from '../connection/appServerConnection.js';
import type { Plan, PlanAction } from '../contract/plan.js';
import { SupervisorError } from '../errors.js';
import { ThreadListResponseSchema, ThreadStartResponseSchema, TurnStartResponseSchema } from '../protocol/messages.js';
import { seenThread } from '../state/normalize.js';
import type { SupervisorEvent } from '../state/events.js';
import type { SupervisorState } from '../state/model.js';

/** What the dispatcher needs from the loop: state to read, events to emit, ready connections. */
export interface DispatchTarget {
  now: () => number;
  state: () => SupervisorState;
  emit: (event: SupervisorEvent) => void;
  workspaceReady: (name: string) => Promise<AppServerConnection>;
}

/** Plan id: the given one, else a hash of the plan's content (same plan, same id). */
export function planIdOf(plan: Plan): string {
  if (plan.id) return plan.id;
  return `plan-${createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 12)}`;
}

/** The configured workspace an action names, by name or by directory. */
export function resolveWorkspace(state: SupervisorState, ref: string, baseDir: string): string | null {
  if (state.workspaces[ref]) return ref;
  const path = resolve(baseDir, ref);
  return Object.values(state.workspaces).find((w) => resolve(w.path) === path)?.name ?? null;
}

/**
 * Dispatches every action of a plan in one cycle: workspaces in parallel, actions that share a
 * thread one after another. Each action selects its thread (`thread/start`, `thread/list` by
 * cwd, or `thread/resume`) and then sends `turn/start`. Returns once every turn was accepted.
 */
export async function dispatchPlan(target: DispatchTarget, plan: Plan, options: { baseDir?: string } = {}): Promise<DispatchResult> {
  const planId = planIdOf(plan);
  const baseDir = options.baseDir ?? process.cwd();
  const state = target.state();
  const unknown = plan.actions.filter((a) => resolveWorkspace(state, a.workspace, baseDir) === null);
  if (unknown.length > 0) {
    const known = Object.keys(state.workspaces).join(', ') || '(none)';
    throw new SupervisorError(`unknown workspace ${unknown.map((a) => `"${a.workspace}" (action ${a.id})`).join(', ')}; configured: ${known}`, 2);
  }

  // Actions of one workspace run in order: two "latest"/"new" actions may end on one thread.
  const byWorkspace = new Map<string, PlanAction[]>();
  for (const action of plan.actions) {
    const ws = resolveWorkspace(state, action.workspace, baseDir)!;
    byWorkspace.set(ws, [...(byWorkspace.get(ws) ?? []), action]);
  }
  for (const [workspace, actions] of byWorkspace) {
    for (const action of actions) {
      target.emit({ type: 'job/queued', atMs: target.now(), key: `${planId}:${action.id}`, planId, actionId: action.id, workspace, prompt: action.prompt });
    }
  }
  const results = new Map<string, ActionDispatchResult>();
  await Promise.all(
    [...byWorkspace].map(async ([workspace, actions]) => {
      for (const action of actions) results.set(action.id, await dispatchAction(target, planId, workspace, action));
    }),
  );
  return { planId, results: plan.actions.map((a) => results.get(a.id)!) };
}

async function dispatchAction(target: DispatchTarget, planId: string, workspace: string, action: PlanAction): Promise<ActionDispatchResult> {
  const jobKey = `${planId}:${action.id}`;
  const result: ActionDispatchResult = { id: action.id, workspace, status: 'failed', jobKey, threadId: null, turnId: null, error: null };
  try {
    const connection = await target.workspaceReady(workspace);
    const cwd = target.state().workspaces[workspace]!.path;
    const threadId = await selectThread(target, connection, workspace, cwd, action);
    result.threadId = threadId;
    const raw = await connection.request('turn/start', {
      threadId,
      input: [{ type: 'text', text: action.prompt, text_elements: [] }],
      clientUserMessageId: jobKey,
      ...(action.model ? { model: action.model } : {}),
      ...(action.effort ? { effort: action.effort } : {}),
      ...(action.approvalPolicy ? { approvalPolicy: action.approvalPolicy } : {}),
    });
    const turn = TurnStartResponseSchema.parse(raw).turn;
    result.turnId = turn.id;
    result.status = 'dispatched';
    target.emit({ type: 'job/dispatched', atMs: target.now(), key: jobKey, threadId, turnId: turn.id });
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    target.emit({ type: 'job/failed', atMs: target.now(), key: jobKey, error: result.error });
  }
  return result;
}

async function selectThread(target: DispatchTarget, connection: AppServerConnection, workspace: string, cwd: string, action: PlanAction): Promise<string> {
  const overrides = {
    cwd,
    ...(action.model ? { model: action.model } : {}),
    ...(action.approvalPolicy ? { approvalPolicy: action.approvalPolicy } : {}),
    ...(action.sandbox ? { sandbox: action.sandbox } : {}),
  };
  let threadId: string | null = action.thread === 'new' ? null : action.thread === 'latest' ? null : action.thread;
  if (action.thread === 'latest') {
    const listed = ThreadListResponseSchema.parse(await connection.request('thread/list', { cwd, limit: 1, sortKey: 'updated_at' }));
    threadId = listed.data[0]?.id ?? null;
  }
  if (threadId === null) {
    const started = ThreadStartResponseSchema.parse(await connection.request('thread/start', overrides));
    target.emit({ type: 'thread/seen', atMs: target.now(), workspace, thread: seenThread(started.thread) });
    return started.thread.id;
  }
  // Resuming a thread this process already has loaded is harmless and keeps the overrides.
  const resumed = ThreadStartResponseSchema.parse(await connection.request('thread/resume', { threadId, excludeTurns: true, ...overrides }));
  target.emit({ type: 'thread/seen', atMs: target.now(), workspace, thread: seenThread(resumed.thread) });
  return resumed.thread.id;
}
