import { z } from 'zod';
import type { ThreadDiff, ThreadTurnResult, Transcript } from '../api/supervisorApi.js';
import type { CodexClient } from '../connection/codexClient.js';
import { RpcRequestError, SupervisorError } from '../errors.js';
import type { UserInput } from '../protocol/generated/v2/UserInput.js';
import type { SupervisorEvent } from '../state/events.js';
import type { SupervisorState, ThreadRecord } from '../state/model.js';
import { transcriptTurns } from '../state/transcript.js';
import { diffFiles } from '../state/turnDiff.js';
import { oneLine, shortThreadId } from '../util/text.js';

/** What acting on a thread needs from the loop. */
export interface ThreadActionTarget {
  state: () => SupervisorState;
  emit: (event: SupervisorEvent) => void;
  now: () => number;
  /** The client of the thread's host (an error naming why when it is not connected). */
  client: (workspace: string) => Promise<CodexClient>;
  /** The same, with the thread loaded on that connection (to start or steer its turns). */
  clientWithThread: (workspace: string, threadId: string) => Promise<CodexClient>;
}

/** Turns fetched per `thread/turns/list` page, and pages at most (a transcript of 2,000 turns is plenty). */
const TURNS_PAGE = 100;
const MAX_PAGES = 20;

/** The thread by its full id, or a usage error (exit 2) that says where ids are shown. */
export function knownThread(state: SupervisorState, threadId: string): ThreadRecord {
  const thread = state.threads[threadId];
  if (!thread) throw new SupervisorError(`no thread "${threadId}"; see the thread ids in \`cm-supervisor status\``, 2);
  return thread;
}

function named(thread: ThreadRecord): string {
  return `thread ${shortThreadId(thread.id)} (${thread.workspace}: ${oneLine(thread.title, 60)})`;
}

/** Codex refused (an RPC error): exit 1 with its words; anything else passes as it is. */
function refused(thread: ThreadRecord, what: string, error: unknown): never {
  if (error instanceof RpcRequestError) throw new SupervisorError(`could not ${what} ${named(thread)}: ${error.rpcMessage}`, 1, { cause: error });
  throw error;
}

/** The running turn no longer runs (it ended between our look and Codex's). */
function turnGone(error: unknown): boolean {
  return error instanceof RpcRequestError && /no active turn|expected active turn/i.test(error.rpcMessage);
}

export async function reply(target: ThreadActionTarget, threadId: string, text: string): Promise<ThreadTurnResult> {
  if (text.trim() === '') throw new SupervisorError('the reply is empty; give the words to send to the agent', 2);
  const thread = knownThread(target.state(), threadId);
  const client = await loadThread(target, thread, 'reply to');
  const input: UserInput[] = [{ type: 'text', text, text_elements: [] }];
  // The state after loading: resuming tells whether a turn runs.
  const running = target.state().threads[threadId]?.currentTurnId ?? null;
  let result: ThreadTurnResult | null = null;
  if (running !== null) {
    try {
      const steered = await client.turnSteer({ threadId, expectedTurnId: running, input });
      result = { threadId, turnId: steered.turnId, mode: 'steered' };
    } catch (error) {
      // Ended meanwhile: the words start the next turn instead, as they would have a moment later.
      if (!turnGone(error)) refused(thread, 'reply to', error);
    }
  }
  if (result === null) result = await startTurn(client, thread, input, 'reply to');
  target.emit({ type: 'thread/replied', atMs: target.now(), workspace: thread.workspace, threadId, turnId: result.turnId, how: result.mode === 'steered' ? 'steer' : 'reply', text });
  return result;
}

/** The client with the thread loaded; Codex refusing to load it (another process is its writer) is exit 1 with its words. */
async function loadThread(target: ThreadActionTarget, thread: ThreadRecord, what: string): Promise<CodexClient> {
  try {
    return await target.clientWithThread(thread.workspace, thread.id);
  } catch (error) {
    refused(thread, what, error);
  }
}

async function startTurn(client: CodexClient, thread: ThreadRecord, input: UserInput[], what: string): Promise<ThreadTurnResult> {
  try {
    const { turn } = await client.turnStart({ threadId: thread.id, input });
    return { threadId: thread.id, turnId: turn.id, mode: 'started' };
  } catch (error) {
    refused(thread, what, error);
  }
}

/** A user message's inputs as Codex keeps them; each is sent back as it came. */
const UserMessageSchema = z.object({ type: z.literal('userMessage'), content: z.array(z.looseObject({ type: z.string() })) });

export async function retryTurn(target: ThreadActionTarget, threadId: string): Promise<ThreadTurnResult> {
  const thread = knownThread(target.state(), threadId);
  if (thread.currentTurnId !== null) throw new SupervisorError(`${named(thread)} is running a turn; interrupt it first, or reply to add to it`, 1);
  const client = await target.client(thread.workspace);
  let last;
  try {
    last = (await client.threadTurnsList({ threadId, limit: 1, sortDirection: 'desc', itemsView: 'full' })).data[0];
  } catch (error) {
    refused(thread, 'read the turns of', error);
  }
  if (!last) throw new SupervisorError(`${named(thread)} has no turn to retry`, 1);
  if (last.status !== 'failed' && last.status !== 'interrupted') {
    throw new SupervisorError(`the last turn of ${named(thread)} is ${last.status}; retry sends again only a failed or interrupted turn`, 1);
  }
  // Its user messages: the prompt, and any input added while it ran (steered).
  const input = (last.items ?? []).flatMap((item) => {
    const message = UserMessageSchema.safeParse(item);
    return message.success ? (message.data.content as UserInput[]) : [];
  });
  if (input.length === 0) throw new SupervisorError(`the last turn of ${named(thread)} has no input of the user to send again`, 1);
  const loaded = await loadThread(target, thread, 'retry the last turn of');
  const result = await startTurn(loaded, thread, input, 'retry the last turn of');
  const text = input.flatMap((i) => (i.type === 'text' ? [i.text] : [])).join('\n');
  target.emit({ type: 'thread/replied', atMs: target.now(), workspace: thread.workspace, threadId, turnId: result.turnId, how: 'retry', text });
  return result;
}

export async function transcript(target: ThreadActionTarget, threadId: string): Promise<Transcript> {
  const thread = knownThread(target.state(), threadId);
  const client = await target.client(thread.workspace);
  const turns = [];
  let cursor: string | null = null;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const listed = await client.threadTurnsPage(threadId, cursor, TURNS_PAGE);
      turns.push(...listed.data);
      cursor = listed.nextCursor ?? null;
      if (cursor === null || listed.data.length === 0) break;
    }
  } catch (error) {
    refused(thread, 'read the turns of', error);
  }
  return { threadId, workspace: thread.workspace, title: thread.title, turns: transcriptTurns(turns) };
}

export function threadDiff(state: SupervisorState, threadId: string): ThreadDiff {
  const thread = knownThread(state, threadId);
  const diff = thread.diff;
  return diff ? { threadId, turnId: diff.turnId, diff: diff.text, files: diffFiles(diff.text) } : { threadId, turnId: null, diff: '', files: [] };
}

export async function archiveThread(target: ThreadActionTarget, threadId: string): Promise<void> {
  const thread = knownThread(target.state(), threadId);
  const client = await target.client(thread.workspace);
  try {
    await client.threadArchive(threadId);
  } catch (error) {
    refused(thread, 'archive', error);
  }
  // Codex tells every client, us included; the event is not waited for.
  target.emit({ type: 'thread/archived', atMs: target.now(), workspace: thread.workspace, threadId });
}
