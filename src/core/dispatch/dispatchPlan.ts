import { createHash } from 'node:crypto';
import type { ActionDispatchResult, DispatchOptions, DispatchResult } from '../api/supervisorApi.js';
import type { AppServerConnection } from '../connection/appServerConnection.js';
import type { Plan, PlanAction } from '../contract/plan.js';
import type { PlanTarget } from '../contract/validatePlan.js';
import { ThreadListResponseSchema, ThreadStartResponseSchema, TurnStartResponseSchema } from '../protocol/messages.js';
import { seenThread } from '../state/normalize.js';
import type { SupervisorEvent } from '../state/events.js';
import type { SupervisorState } from '../state/model.js';
import type { DispatchLedger } from './ledger.js';
import { z } from 'zod';

/** What the dispatcher needs from the loop: state to read, events to emit, ready connections. */
export interface DispatchTarget {
  now: () => number;
  state: () => SupervisorState;
  emit: (event: SupervisorEvent) => void;
  /** Raises a problem of the supervisor itself (a signal under the supervisor's pseudo-workspace). */
  problem: (key: string, message: string) => void;
  /** The running app-server of a workspace, starting one for a plain directory if needed. */
  connectionFor: (target: PlanTarget) => Promise<AppServerConnection>;
  ledger: DispatchLedger | null;
}

/** Plan id: the given one, else a hash of the plan's content (same plan, same id). */
export function planIdOf(plan: Plan): string {
  if (plan.id) return plan.id;
  return `plan-${createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 12)}`;
}

/**
 * Dispatches a validated plan in one cycle: workspaces in parallel, the actions of one
 * workspace in order (two "latest" actions land on one thread). Each action selects its thread
 * (`thread/start`, `thread/list` by cwd, `thread/resume`) and sends `turn/start` with the
 * idempotency key as `clientUserMessageId`. Returns once every turn was accepted.
 */
export async function dispatchPlan(target: DispatchTarget, plan: Plan, targets: PlanTarget[], options: DispatchOptions = {}): Promise<DispatchResult> {
  const planId = planIdOf(plan);
  const byWorkspace = new Map<string, { action: PlanAction; target: PlanTarget }[]>();
  plan.actions.forEach((action, index) => {
    const t = targets[index]!;
    byWorkspace.set(t.workspace, [...(byWorkspace.get(t.workspace) ?? []), { action, target: t }]);
  });
  const results = new Map<string, ActionDispatchResult>();
  await Promise.all(
    [...byWorkspace.values()].map(async (items) => {
      for (const { action, target: t } of items) results.set(action.id, await dispatchAction(target, planId, t, action, options));
    }),
  );
  return { planId, results: plan.actions.map((a) => results.get(a.id)!) };
}

async function dispatchAction(
  target: DispatchTarget,
  planId: string,
  planTarget: PlanTarget,
  action: PlanAction,
  options: DispatchOptions,
): Promise<ActionDispatchResult> {
  const key = `${planId}:${action.id}`;
  const workspace = planTarget.workspace;
  const result: ActionDispatchResult = { id: action.id, workspace, status: 'failed', jobKey: key, threadId: null, turnId: null, error: null };
  const previous = target.ledger?.get(key);
  if (previous?.status === 'sent' && !options.force) {
    return { ...result, status: 'skipped', threadId: previous.threadId, turnId: previous.turnId, error: null };
  }
  if (!options.dryRun) target.emit({ type: 'job/queued', atMs: target.now(), key, planId, actionId: action.id, workspace, prompt: action.prompt });
  try {
    const connection = await target.connectionFor(planTarget);
    const cwd = target.state().workspaces[workspace]!.path;
    if (previous?.status === 'sending' && previous.threadId && !options.force) {
      // A crash came between the two ledger writes: the turn may exist already.
      const turnId = await findTurnByClientId(connection, previous.threadId, previous.clientUserMessageId);
      if (turnId) {
        await target.ledger?.markSent(key, previous.threadId, turnId);
        target.emit({ type: 'job/dispatched', atMs: target.now(), key, threadId: previous.threadId, turnId });
        return { ...result, status: 'skipped', threadId: previous.threadId, turnId };
      }
    }
    if (options.dryRun) {
      const threadId = await previewThread(connection, cwd, action);
      return { ...result, status: 'planned', threadId };
    }
    const reuse = previous?.status === 'sending' && !options.force ? previous.threadId : null;
    const threadId = await selectThread(target, connection, workspace, cwd, action, reuse);
    result.threadId = threadId;
    const clientUserMessageId = options.force ? `${key}#${target.now()}` : key;
    await target.ledger?.markSending({ key, planId, actionId: action.id, workspace, threadId, clientUserMessageId });
    const raw = await connection.request('turn/start', {
      threadId,
      input: [{ type: 'text', text: action.prompt, text_elements: [] }],
      clientUserMessageId,
      ...(action.model ? { model: action.model } : {}),
      ...(action.effort ? { effort: action.effort } : {}),
      ...(action.approvalPolicy ? { approvalPolicy: action.approvalPolicy } : {}),
    });
    const turn = TurnStartResponseSchema.parse(raw).turn;
    result.turnId = turn.id;
    result.status = 'dispatched';
    target.emit({ type: 'job/dispatched', atMs: target.now(), key, threadId, turnId: turn.id });
    // Not awaited: the turn runs whatever happens to this write. Should it be lost, the entry
    // stays `sending` and a re-run finds the turn by its clientUserMessageId instead.
    target.ledger?.markSent(key, threadId, turn.id).catch((error: unknown) => target.problem('ledger', `the dispatch ledger could not record ${action.id} as sent (${error instanceof Error ? error.message : String(error)}); a re-run checks the thread before sending it again`));
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    if (!options.dryRun) target.emit({ type: 'job/failed', atMs: target.now(), key, error: result.error });
  }
  return result;
}

function threadOverrides(cwd: string, action: PlanAction) {
  return {
    cwd,
    ...(action.model ? { model: action.model } : {}),
    ...(action.approvalPolicy ? { approvalPolicy: action.approvalPolicy } : {}),
    ...(action.sandbox ? { sandbox: action.sandbox } : {}),
  };
}

async function latestThread(connection: AppServerConnection, cwd: string): Promise<string | null> {
  const listed = ThreadListResponseSchema.parse(await connection.request('thread/list', { cwd, limit: 1, sortKey: 'updated_at' }));
  return listed.data[0]?.id ?? null;
}

/** The thread a dry run would use: an id, or null for a new one. */
async function previewThread(connection: AppServerConnection, cwd: string, action: PlanAction): Promise<string | null> {
  if (action.thread === 'new') return null;
  if (action.thread === 'latest') return latestThread(connection, cwd);
  return action.thread;
}

async function selectThread(
  target: DispatchTarget,
  connection: AppServerConnection,
  workspace: string,
  cwd: string,
  action: PlanAction,
  reuse: string | null,
): Promise<string> {
  let threadId = reuse ?? (action.thread === 'new' || action.thread === 'latest' ? null : action.thread);
  if (threadId === null && action.thread === 'latest') threadId = await latestThread(connection, cwd);
  const overrides = threadOverrides(cwd, action);
  if (threadId === null) {
    const started = ThreadStartResponseSchema.parse(await connection.request('thread/start', overrides));
    target.emit({ type: 'thread/seen', atMs: target.now(), workspace, thread: seenThread(started.thread) });
    return started.thread.id;
  }
  // Resuming a thread this process already has loaded is harmless and applies the overrides.
  const resumed = ThreadStartResponseSchema.parse(await connection.request('thread/resume', { threadId, excludeTurns: true, ...overrides }));
  target.emit({ type: 'thread/seen', atMs: target.now(), workspace, thread: seenThread(resumed.thread) });
  return resumed.thread.id;
}

const ThreadWithTurnsSchema = z.looseObject({
  thread: z.looseObject({
    turns: z.array(
      z.looseObject({
        id: z.string(),
        items: z.array(z.looseObject({ type: z.string(), clientId: z.string().nullable().optional() })),
      }),
    ),
  }),
});

/** The turn whose user message carried our idempotency key, if the server has one. */
async function findTurnByClientId(connection: AppServerConnection, threadId: string, clientId: string): Promise<string | null> {
  try {
    const read = ThreadWithTurnsSchema.parse(await connection.request('thread/read', { threadId, includeTurns: true }));
    return read.thread.turns.find((t) => t.items.some((i) => i.type === 'userMessage' && i.clientId === clientId))?.id ?? null;
  } catch {
    return null;
  }
}
