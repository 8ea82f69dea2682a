import { createHash } from 'node:crypto';
import type { ActionDispatchResult, DispatchOptions, DispatchResult } from '../api/supervisorApi.js';
import type { CodexClient } from '../connection/codexClient.js';
import type { Plan, PlanAction } from '../contract/plan.js';
import type { PlanTarget } from '../contract/validatePlan.js';
import { seenThread } from '../state/normalize.js';
import type { SupervisorEvent } from '../state/events.js';
import type { SupervisorState } from '../state/model.js';
import type { DispatchLedger, LedgerEntry } from './ledger.js';

/** What the dispatcher needs from the loop: state to read, events to emit, ready connections. */
export interface DispatchTarget {
  now: () => number;
  state: () => SupervisorState;
  emit: (event: SupervisorEvent) => void;
  /** Raises a problem of the supervisor itself (a signal under the supervisor's pseudo-workspace). */
  problem: (key: string, message: string) => void;
  /** The client of the host serving the target's workspace (a plain directory becomes a workspace on `local`). */
  clientFor: (target: PlanTarget) => Promise<CodexClient>;
  ledger: DispatchLedger | null;
}

/** Plan id: the given one, else a hash of the plan's content (same plan, same id). */
export function planIdOf(plan: Plan): string {
  if (plan.id) return plan.id;
  return `plan-${createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 12)}`;
}

/** One action's attempt: what the ledger said before this run, and what this run sends. */
interface Attempt {
  key: string;
  /** The ledger's entry when it says the action was sent: `skipped` without asking any app-server. */
  sent: LedgerEntry | null;
  /** The ledger's entry when an earlier run crashed before `turn/start` was answered (not with --force). */
  unfinished: LedgerEntry | null;
  clientUserMessageId: string;
  /** Resolves once the attempt is on disk as `sending` (rejects if that write failed). */
  recorded: Promise<void>;
}

/**
 * Dispatches a validated plan in one cycle: workspaces in parallel, the actions of one
 * workspace in order (two "latest" actions land on one thread). Each action selects its thread
 * (`thread/start`, `thread/list` by cwd, `thread/resume`) and sends `turn/start` with the
 * idempotency key as `clientUserMessageId`. Returns once every turn was accepted.
 */
export async function dispatchPlan(target: DispatchTarget, plan: Plan, targets: PlanTarget[], options: DispatchOptions = {}): Promise<DispatchResult> {
  const planId = planIdOf(plan);
  const attempts = planAttempts(target, planId, plan, targets, options);
  const byWorkspace = new Map<string, { action: PlanAction; target: PlanTarget; attempt: Attempt }[]>();
  plan.actions.forEach((action, index) => {
    const t = targets[index]!;
    byWorkspace.set(t.workspace, [...(byWorkspace.get(t.workspace) ?? []), { action, target: t, attempt: attempts[index]! }]);
  });
  const results = new Map<string, ActionDispatchResult>();
  await Promise.all(
    [...byWorkspace.values()].map(async (items) => {
      for (const { action, target: t, attempt } of items) results.set(action.id, await dispatchAction(target, planId, t, action, attempt, options));
    }),
  );
  return { planId, results: plan.actions.map((a) => results.get(a.id)!) };
}

/**
 * Reads each action's ledger entry, then records every action to be sent as `sending` in one
 * write, started before any app-server is asked anything: its fsync overlaps their start-up
 * instead of delaying each turn/start.
 */
function planAttempts(target: DispatchTarget, planId: string, plan: Plan, targets: PlanTarget[], options: DispatchOptions): Attempt[] {
  const ledger = target.ledger;
  const attempts = plan.actions.map((action) => {
    const key = `${planId}:${action.id}`;
    const previous = options.force ? undefined : ledger?.get(key);
    return {
      key,
      sent: previous?.status === 'sent' ? previous : null,
      unfinished: previous?.status === 'sending' ? previous : null,
      clientUserMessageId: options.force ? `${key}#${target.now()}` : key,
    };
  });
  const toRecord = attempts.flatMap((a, i) => {
    if (a.sent || options.dryRun) return [];
    const action = plan.actions[i]!;
    const explicitThread = action.thread === 'new' || action.thread === 'latest' ? null : action.thread;
    return [{ key: a.key, planId, actionId: action.id, workspace: targets[i]!.workspace, threadId: a.unfinished?.threadId ?? explicitThread, clientUserMessageId: a.clientUserMessageId }];
  });
  const recorded = ledger && toRecord.length > 0 ? ledger.markSending(...toRecord) : Promise.resolve();
  // Awaited by each action before its turn/start; this only keeps a failed write from going unhandled when no action gets that far.
  recorded.catch(() => {});
  return attempts.map((a) => ({ ...a, recorded }));
}

async function dispatchAction(
  target: DispatchTarget,
  planId: string,
  planTarget: PlanTarget,
  action: PlanAction,
  attempt: Attempt,
  options: DispatchOptions,
): Promise<ActionDispatchResult> {
  const { key, sent, unfinished } = attempt;
  const workspace = planTarget.workspace;
  const result: ActionDispatchResult = { id: action.id, workspace, status: 'failed', jobKey: key, threadId: null, turnId: null, error: null };
  // A dry run says the same as a real run would: skipped, without asking any app-server.
  if (sent) return { ...result, status: 'skipped', threadId: sent.threadId, turnId: sent.turnId, error: null, dispatchedAtMs: sent.updatedAtMs };
  if (!options.dryRun) target.emit({ type: 'job/queued', atMs: target.now(), key, planId, actionId: action.id, workspace, prompt: action.prompt });
  try {
    const client = await target.clientFor(planTarget);
    const cwd = target.state().workspaces[workspace]!.path;
    if (unfinished) {
      // A crash came between the two ledger writes: the turn may exist already.
      const found = await findTurnByClientId(client, cwd, unfinished.threadId, unfinished.clientUserMessageId);
      // The entry's last write is the closest the ledger knows to when the turn was sent.
      if (found && options.dryRun) return { ...result, status: 'skipped', threadId: found.threadId, turnId: found.turnId, dispatchedAtMs: unfinished.updatedAtMs };
      if (found) {
        await target.ledger?.markSent(key, found.threadId, found.turnId);
        target.emit({ type: 'job/dispatched', atMs: target.now(), key, threadId: found.threadId, turnId: found.turnId });
        return { ...result, status: 'skipped', threadId: found.threadId, turnId: found.turnId };
      }
    }
    if (options.dryRun) {
      const threadId = await previewThread(client, cwd, action);
      return { ...result, status: 'planned', threadId };
    }
    const threadId = await selectThread(target, client, workspace, cwd, action, unfinished?.threadId ?? null);
    result.threadId = threadId;
    // Not awaited: it only narrows the search after a crash; the entry is already `sending`.
    target.ledger?.recordThread(key, threadId).catch(() => {});
    await attempt.recorded;
    const { turn } = await client.turnStart({
      threadId,
      input: [{ type: 'text', text: action.prompt, text_elements: [] }],
      clientUserMessageId: attempt.clientUserMessageId,
      ...(action.model ? { model: action.model } : {}),
      ...(action.effort ? { effort: action.effort } : {}),
      ...(action.approvalPolicy ? { approvalPolicy: action.approvalPolicy } : {}),
    });
    result.turnId = turn.id;
    result.status = 'dispatched';
    target.emit({ type: 'job/dispatched', atMs: target.now(), key, threadId, turnId: turn.id });
    // Not awaited: the turn runs whatever happens to this write. Should it be lost, the entry
    // stays `sending` and a re-run finds the turn by its clientUserMessageId instead.
    target.ledger?.markSent(key, threadId, turn.id).catch((error: unknown) => target.problem('ledger', `the dispatch ledger could not record ${action.id} as sent (${error instanceof Error ? error.message : String(error)}); a re-run checks the thread before sending it again`));
  } catch (error) {
    // Never a failure without its reason (an Error with an empty message still has a name).
    result.error = (error instanceof Error ? error.message : '') || String(error);
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

async function latestThread(client: CodexClient, cwd: string): Promise<string | null> {
  const listed = await client.threadList({ cwd, limit: 1, sortKey: 'updated_at' });
  return listed.data[0]?.id ?? null;
}

/** The thread a dry run would use: an id, or null for a new one. */
async function previewThread(client: CodexClient, cwd: string, action: PlanAction): Promise<string | null> {
  if (action.thread === 'new') return null;
  if (action.thread === 'latest') return latestThread(client, cwd);
  return action.thread;
}

async function selectThread(
  target: DispatchTarget,
  client: CodexClient,
  workspace: string,
  cwd: string,
  action: PlanAction,
  reuse: string | null,
): Promise<string> {
  let threadId = reuse ?? (action.thread === 'new' || action.thread === 'latest' ? null : action.thread);
  if (threadId === null && action.thread === 'latest') threadId = await latestThread(client, cwd);
  const overrides = threadOverrides(cwd, action);
  if (threadId === null) {
    const started = await client.threadStart(overrides);
    target.emit({ type: 'thread/seen', atMs: target.now(), workspace, thread: seenThread(started.thread) });
    return started.thread.id;
  }
  // Resuming a thread this process already has loaded is harmless and applies the overrides.
  const resumed = await client.threadResume({ threadId, excludeTurns: true, ...overrides });
  target.emit({ type: 'thread/seen', atMs: target.now(), workspace, thread: seenThread(resumed.thread) });
  return resumed.thread.id;
}

/** Threads searched for a lost turn when the ledger never learnt its thread. */
const RECENT_THREADS_SEARCHED = 5;

/**
 * The thread and turn whose user message carried our idempotency key, if the server has one:
 * in the recorded thread, else in the workspace's most recently updated threads.
 */
async function findTurnByClientId(
  client: CodexClient,
  cwd: string,
  threadId: string | null,
  clientId: string,
): Promise<{ threadId: string; turnId: string } | null> {
  try {
    const candidates = threadId
      ? [threadId]
      : (await client.threadList({ cwd, limit: RECENT_THREADS_SEARCHED, sortKey: 'updated_at' })).data.map((t) => t.id);
    for (const candidate of candidates) {
      const read = await client.threadReadWithItems(candidate);
      const turn = read.thread.turns.find((t) => t.items.some((i) => i.type === 'userMessage' && i.clientId === clientId));
      if (turn) return { threadId: candidate, turnId: turn.id };
    }
    return null;
  } catch {
    return null;
  }
}
