import { createHash } from 'node:crypto';
import type { ActionDispatchResult, DispatchOptions, DispatchResult } from '../api/supervisorApi.js';
import type { CodexClient } from '../connection/codexClient.js';
import type { Plan, PlanAction } from '../contract/plan.js';
import type { PlanTarget } from '../contract/validatePlan.js';
import { seenThread } from '../state/normalize.js';
import type { SupervisorEvent } from '../state/events.js';
import type { SupervisorState } from '../state/model.js';
import { checkEarlier } from './earlierTurn.js';
import type { DispatchLedger, LedgerEntries, LedgerEntry } from './ledger.js';

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

/**
 * What the ledger said of one action when this run looked (under its lock): `send` (claimed
 * for this run, recorded `sending`), `inFlight` (another dispatch sends it right now), `check`
 * (dispatched before: its turn is looked at), or, in a dry run, `new`.
 */
type Verdict =
  | { kind: 'send'; clientUserMessageId: string; reuseThread: string | null }
  | { kind: 'inFlight'; entry: LedgerEntry }
  | { kind: 'check'; entry: LedgerEntry }
  | { kind: 'new' };

/**
 * Dispatches a validated plan in one cycle: workspaces in parallel, the actions of one
 * workspace in order (two "latest" actions land on one thread). Each action selects its thread
 * (`thread/start`, `thread/list` by cwd, `thread/resume`) and sends `turn/start` with the
 * idempotency key as `clientUserMessageId`. Returns once every turn was accepted.
 */
export async function dispatchPlan(target: DispatchTarget, plan: Plan, targets: PlanTarget[], options: DispatchOptions = {}): Promise<DispatchResult> {
  const planId = planIdOf(plan);
  let verdicts: Verdict[];
  try {
    verdicts = await decide(target, planId, plan, targets, options);
  } catch (error) {
    // Without the ledger's word nothing is sent: every action fails with the reason.
    return { planId, results: plan.actions.map((a, i) => ({ id: a.id, workspace: targets[i]!.workspace, status: 'failed', jobKey: `${planId}:${a.id}`, threadId: null, turnId: null, error: messageOf(error) })) };
  }
  const byWorkspace = new Map<string, { action: PlanAction; target: PlanTarget; verdict: Verdict }[]>();
  plan.actions.forEach((action, index) => {
    const t = targets[index]!;
    byWorkspace.set(t.workspace, [...(byWorkspace.get(t.workspace) ?? []), { action, target: t, verdict: verdicts[index]! }]);
  });
  const results = new Map<string, ActionDispatchResult>();
  await Promise.all(
    [...byWorkspace.values()].map(async (items) => {
      for (const { action, target: t, verdict } of items) results.set(action.id, await dispatchAction(target, planId, t, action, verdict, options));
    }),
  );
  return { planId, results: plan.actions.map((a) => results.get(a.id)!) };
}

/**
 * Reads every action's ledger entry and, in the same locked read-check-record, claims those to
 * send: two dispatches of one plan at once (in one process or two) send each action once.
 */
async function decide(target: DispatchTarget, planId: string, plan: Plan, targets: PlanTarget[], options: DispatchOptions): Promise<Verdict[]> {
  const ledger = target.ledger;
  const keys = plan.actions.map((a) => `${planId}:${a.id}`);
  const judge = (entries: LedgerEntries, claim: boolean): Verdict[] =>
    plan.actions.map((action, i): Verdict => {
      const key = keys[i]!;
      const previous = options.force ? undefined : entries[key];
      if (previous && ledger?.inFlight(previous)) return { kind: 'inFlight', entry: previous };
      if (previous) return { kind: 'check', entry: previous };
      if (!claim) return { kind: 'new' };
      const clientUserMessageId = options.force ? `${key}#${target.now()}` : key;
      const explicitThread = action.thread === 'new' || action.thread === 'latest' ? null : action.thread;
      ledger?.claim(entries, { key, planId, actionId: action.id, workspace: targets[i]!.workspace, threadId: explicitThread, clientUserMessageId });
      return { kind: 'send', clientUserMessageId, reuseThread: null };
    });
  if (!ledger) return judge({}, !options.dryRun);
  if (options.dryRun) return judge(ledger.read(), false);
  return ledger.update((entries) => judge(entries, true));
}

/**
 * Claims again, for `--retry-failed`, an action whose turn was lost or failed, unless another
 * dispatch changed its entry since this one looked (then that one is at it: null).
 */
async function reclaim(target: DispatchTarget, seen: LedgerEntry, reuseThread: string | null): Promise<SendVerdict | null> {
  const ledger = target.ledger;
  const clientUserMessageId = `${seen.key}#retry-${target.now()}`;
  if (!ledger) return { kind: 'send', clientUserMessageId, reuseThread };
  return ledger.update((entries) => {
    const current = entries[seen.key];
    if (!current || current.clientUserMessageId !== seen.clientUserMessageId) return null;
    ledger.claim(entries, { key: seen.key, planId: seen.planId, actionId: seen.actionId, workspace: seen.workspace, threadId: reuseThread, clientUserMessageId });
    return { kind: 'send' as const, clientUserMessageId, reuseThread };
  });
}

async function dispatchAction(
  target: DispatchTarget,
  planId: string,
  planTarget: PlanTarget,
  action: PlanAction,
  verdict: Verdict,
  options: DispatchOptions,
): Promise<ActionDispatchResult> {
  const key = `${planId}:${action.id}`;
  const workspace = planTarget.workspace;
  const result: ActionDispatchResult = { id: action.id, workspace, status: 'failed', jobKey: key, threadId: null, turnId: null, error: null };
  let next: ActionDispatchResult | SendVerdict;
  try {
    next = verdict.kind === 'send' ? verdict : await settle(target, planTarget, action, verdict, options, result);
  } catch (error) {
    return { ...result, error: messageOf(error) };
  }
  return 'kind' in next ? send(target, planId, planTarget, action, next, result) : next;
}

export type SendVerdict = Extract<Verdict, { kind: 'send' }>;

/** The result of an action this run did not claim, or the claim of a `--retry-failed` re-send. */
async function settle(
  target: DispatchTarget,
  planTarget: PlanTarget,
  action: PlanAction,
  verdict: Exclude<Verdict, SendVerdict>,
  options: DispatchOptions,
  result: ActionDispatchResult,
): Promise<ActionDispatchResult | SendVerdict> {
  if (verdict.kind === 'inFlight') {
    const { entry } = verdict;
    return { ...result, status: 'skipped', threadId: entry.threadId, turnId: entry.turnId, dispatchedAtMs: entry.updatedAtMs };
  }
  if (verdict.kind === 'new') {
    const client = await target.clientFor(planTarget);
    return { ...result, status: 'planned', threadId: await previewThread(client, target.state().workspaces[planTarget.workspace]!.path, action) };
  }
  const outcome = await checkEarlier(target, planTarget, verdict.entry, { repair: !options.dryRun });
  const earlier = { ...result, threadId: outcome.threadId, turnId: outcome.turnId, dispatchedAtMs: verdict.entry.updatedAtMs };
  // A dry run says the same as a real run would: skipped, lost or failed.
  if (outcome.kind === 'done') return { ...earlier, status: 'skipped' };
  if (!options.retryFailed) return { ...earlier, status: outcome.kind === 'lost' ? 'interrupted' : 'failed', error: `turn ${outcome.kind}: ${outcome.reason}`, retryable: true };
  if (options.dryRun) return { ...result, status: 'planned', threadId: outcome.reuseThread };
  // Null: another dispatch retried it first.
  return (await reclaim(target, outcome.entry, outcome.reuseThread)) ?? { ...earlier, status: 'skipped' };
}

/**
 * Where and how a plan v2 action runs, when not as a v1 action does: `cwd` (a worktree) instead
 * of the workspace's directory, and `review` (`review/start` of the uncommitted changes there)
 * instead of `turn/start` of the prompt.
 */
export interface SendPlace {
  cwd?: string;
  review?: boolean;
}

/** Sends an action this run claimed: thread, `turn/start` (or `review/start`), and the ledger told either way. */
export async function send(
  target: DispatchTarget,
  planId: string,
  planTarget: PlanTarget,
  action: PlanAction,
  verdict: SendVerdict,
  result: ActionDispatchResult,
  place: SendPlace = {},
): Promise<ActionDispatchResult> {
  const { jobKey: key, workspace } = result;
  const { clientUserMessageId } = verdict;
  target.emit({ type: 'job/queued', atMs: target.now(), key, planId, actionId: action.id, workspace, prompt: action.prompt });
  let turnStartSent = false;
  try {
    const client = await target.clientFor(planTarget);
    const cwd = place.cwd ?? target.state().workspaces[workspace]!.path;
    const threadId = await selectThread(target, client, workspace, cwd, action, verdict.reuseThread);
    result.threadId = threadId;
    // Not awaited: it only narrows the search after a crash; the entry is already `sending`.
    target.ledger?.recordThread(key, clientUserMessageId, threadId).catch(() => {});
    turnStartSent = true;
    // Codex 0.171 reviews inline only: the review is a turn of this (new) thread, its findings the turn's last message.
    const { turn } = place.review
      ? await client.reviewStart({ threadId, target: { type: 'uncommittedChanges' }, delivery: 'inline' })
      : await client.turnStart({
          threadId,
          input: [{ type: 'text', text: action.prompt, text_elements: [] }],
          clientUserMessageId,
          ...(action.model ? { model: action.model } : {}),
          ...(action.effort ? { effort: action.effort } : {}),
          ...(action.approvalPolicy ? { approvalPolicy: action.approvalPolicy } : {}),
        });
    result.turnId = turn.id;
    result.status = 'dispatched';
    target.emit({ type: 'job/dispatched', atMs: target.now(), key, threadId, turnId: turn.id });
    // Not awaited: the turn runs whatever happens to this write. Should it be lost, the entry
    // stays `sending` and a re-run finds the turn by its clientUserMessageId instead.
    target.ledger?.markSent(key, clientUserMessageId, threadId, turn.id).catch((error: unknown) => target.problem('ledger', `the dispatch ledger could not record ${action.id} as sent (${messageOf(error)}); a re-run checks the thread before sending it again`));
  } catch (error) {
    result.error = messageOf(error);
    target.ledger?.abandon(key, clientUserMessageId, turnStartSent).catch(() => {});
    target.emit({ type: 'job/failed', atMs: target.now(), key, error: result.error });
  }
  return result;
}

/** Never a failure without its reason (an Error with an empty message still has a name). */
export function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : '') || String(error);
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
