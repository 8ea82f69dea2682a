import type { CodexClient } from '../connection/codexClient.js';
import type { PlanTarget } from '../contract/validatePlan.js';
import { RpcRequestError } from '../errors.js';
import type { SupervisorState } from '../state/model.js';
import { shortThreadId } from '../util/text.js';
import type { DispatchLedger, LedgerEntry } from './ledger.js';

/** What looking at an earlier dispatch needs from the loop. */
export interface EarlierTurnSource {
  state: () => SupervisorState;
  clientFor: (target: PlanTarget) => Promise<CodexClient>;
  ledger: DispatchLedger | null;
}

/**
 * What became of an action the ledger shows dispatched before: `done` (its turn completed or
 * still runs: nothing to send), `lost` (no turn runs or completed: its app-server died, it was
 * interrupted, Codex does not know it, or it was never started) or `failed` (the turn failed).
 * `entry` is the ledger entry this verdict rests on; `reuseThread` the thread a retry continues.
 */
export type Earlier =
  | { kind: 'done'; threadId: string | null; turnId: string | null }
  | { kind: 'lost' | 'failed'; reason: string; threadId: string | null; turnId: string | null; entry: LedgerEntry; reuseThread: string | null };

/** `repair`: record a turn found for a `sending` entry as `sent` (not in a dry run, which writes nothing). */
export async function checkEarlier(source: EarlierTurnSource, planTarget: PlanTarget, entry: LedgerEntry, options: { repair: boolean }): Promise<Earlier> {
  if (entry.status === 'sent' && entry.threadId && entry.turnId) return turnOutcome(source, planTarget, entry, entry.threadId, entry.turnId);
  // `sending`, its sender gone: the turn may exist although its id never reached the ledger.
  const client = await source.clientFor(planTarget);
  const cwd = source.state().workspaces[planTarget.workspace]!.path;
  const found = await findTurnByClientId(client, cwd, entry.threadId, entry.clientUserMessageId);
  if (!found) {
    const who = entry.sender ? `process ${entry.sender.pid} ended` : 'its dispatch stopped';
    return {
      kind: 'lost',
      reason: `${who} before Codex answered turn/start, and no turn carries its key ${entry.clientUserMessageId}`,
      threadId: entry.threadId,
      turnId: null,
      entry,
      reuseThread: null,
    };
  }
  if (options.repair) await source.ledger?.markSent(entry.key, entry.clientUserMessageId, found.threadId, found.turnId);
  return turnOutcome(source, planTarget, { ...entry, threadId: found.threadId, turnId: found.turnId }, found.threadId, found.turnId, found.status);
}

/** A turn's fate: the loop's job record when it saw the end, else Codex's own record of the thread. */
async function turnOutcome(source: EarlierTurnSource, planTarget: PlanTarget, entry: LedgerEntry, threadId: string, turnId: string, known?: string): Promise<Earlier> {
  const ids = { threadId, turnId };
  const job = source.state().jobs[entry.key];
  let status = known;
  let error: string | null = null;
  if (status === undefined && job?.turnId === turnId && (job.status === 'completed' || job.status === 'failed' || job.status === 'interrupted')) {
    status = job.status;
    error = job.error;
  }
  if (status === undefined) {
    const client = await source.clientFor(planTarget);
    let read;
    try {
      read = await client.threadReadWithItems(threadId);
    } catch (cause) {
      // Only Codex's own answer says the thread is gone; a connection that failed says nothing of it.
      if (!(cause instanceof RpcRequestError)) throw cause;
      return { kind: 'lost', reason: `Codex does not know its thread ${shortThreadId(threadId)} (${cause.rpcMessage})`, ...ids, entry, reuseThread: null };
    }
    const turn = read.thread.turns.find((t) => t.id === turnId);
    if (!turn) return { kind: 'lost', reason: `thread ${shortThreadId(threadId)} has no turn ${turnId}`, ...ids, entry, reuseThread: threadId };
    status = turn.status;
    error = turn.error?.message ?? null;
  }
  if (status === 'completed' || status === 'inProgress' || status === 'running' || status === 'dispatched' || status === 'waiting_for_user') return { kind: 'done', ...ids };
  if (status === 'failed') return { kind: 'failed', reason: error ?? 'the turn failed', ...ids, entry, reuseThread: threadId };
  // After its app-server died, Codex shows the turn `interrupted` too.
  // The loop's own record may already say "turn lost: the app-server exited …".
  return { kind: 'lost', reason: error?.replace(/^turn lost: /, '') ?? 'the turn was interrupted or its app-server ended before it completed', ...ids, entry, reuseThread: threadId };
}

/** Threads searched for a lost turn when the ledger never learnt its thread. */
const RECENT_THREADS_SEARCHED = 5;

/**
 * The thread, turn and turn status whose user message carried our idempotency key, if the
 * server has one: in the recorded thread, else in the workspace's most recently updated threads.
 */
async function findTurnByClientId(client: CodexClient, cwd: string, threadId: string | null, clientId: string): Promise<{ threadId: string; turnId: string; status: string } | null> {
  try {
    const candidates = threadId ? [threadId] : (await client.threadList({ cwd, limit: RECENT_THREADS_SEARCHED, sortKey: 'updated_at' })).data.map((t) => t.id);
    for (const candidate of candidates) {
      const read = await client.threadReadWithItems(candidate);
      const turn = read.thread.turns.find((t) => t.items.some((i) => i.type === 'userMessage' && i.clientId === clientId));
      if (turn) return { threadId: candidate, turnId: turn.id, status: turn.status };
    }
    return null;
  } catch (error) {
    // Codex refused (e.g. it does not know the thread): no such turn. Anything else is no answer.
    if (error instanceof RpcRequestError) return null;
    throw error;
  }
}
