import { Chalk } from 'chalk';
import type { ThreadTurnResult } from '../../core/api/supervisorApi.js';
import { SupervisorError } from '../../core/errors.js';
import { approvalSubject, decisionWord } from '../../core/state/digest.js';
import type { ApprovalDecision } from '../../core/state/events.js';
import type { ApprovalRecord, ThreadRecord } from '../../core/state/model.js';
import { findThread } from '../../core/state/selectors.js';
import { oneLine, shortThreadId } from '../../core/util/text.js';
import { sleep } from '../../core/util/timeout.js';
import { openApi, type ApiHandle } from '../apiHandle.js';
import { diffText, transcriptText } from '../format/threadText.js';
import type { GlobalOptions } from '../globalOptions.js';
import type { CliIo } from '../io.js';

export interface ApproveCliOptions {
  all?: boolean;
  decision?: ApprovalDecision;
  json?: boolean;
}

function describe(a: ApprovalRecord): string {
  return `${a.key}  ${a.workspace}: ${approvalSubject(a)}`;
}

/** `approve KEY|--all [--decision D]`: answers approvals that wait, as the TUI's Needs you does. */
export async function approveCommand(globals: GlobalOptions, key: string | undefined, opts: ApproveCliOptions, io: CliIo): Promise<number> {
  if (key !== undefined && opts.all) throw new SupervisorError('give an approval KEY or --all, not both', 2);
  const decision = opts.decision ?? 'accept';
  const handle = await openApi(globals, { holder: 'approve', serve: false });
  try {
    const waiting = Object.values((await handle.api.snapshot()).pendingApprovals).sort((a, b) => a.receivedAtMs - b.receivedAtMs);
    const list = waiting.length > 0 ? `waiting:\n${waiting.map((a) => `  ${describe(a)}`).join('\n')}` : 'no approval is waiting';
    if (key === undefined && !opts.all) throw new SupervisorError(`give the KEY of an approval, or --all; ${list}`, 2);
    const chosen = opts.all ? waiting : waiting.filter((a) => a.key === key);
    if (key !== undefined && chosen.length === 0) throw new SupervisorError(`no approval "${key}" is waiting (answered, or never asked); ${list}`, 2);
    // An approval offers only some decisions (a permissions request has no "for the session").
    const refused = chosen.filter((a) => !a.availableDecisions.includes(decision));
    if (key !== undefined && refused.length > 0) {
      throw new SupervisorError(`approval ${key} does not offer "${decision}"; it offers: ${refused[0]!.availableDecisions.join(', ')}`, 2);
    }
    const answered: ApprovalRecord[] = [];
    for (const a of chosen) {
      if (refused.includes(a)) continue;
      await handle.api.answerApproval(a.key, decision);
      answered.push(a);
    }
    if (opts.json) {
      const row = (a: ApprovalRecord) => ({ key: a.key, workspace: a.workspace, threadId: a.threadId, subject: approvalSubject(a) });
      io.out(`${JSON.stringify({ decision, answered: answered.map(row), skipped: refused.map(row) }, null, 2)}\n`);
    } else {
      if (chosen.length === 0) io.out('no approval is waiting\n');
      for (const a of answered) io.out(`${decisionWord(decision)}: ${describe(a)}\n`);
      for (const a of refused) io.out(`skipped (it does not offer "${decision}"): ${describe(a)}\n`);
    }
    return 0;
  } finally {
    await handle.close();
  }
}

/** `interrupt THREAD`: stops the thread's running turn. */
export async function interruptCommand(globals: GlobalOptions, ref: string, opts: { json?: boolean }, io: CliIo): Promise<number> {
  const handle = await openApi(globals, { holder: 'interrupt', serve: false });
  try {
    const thread = await threadOf(handle, ref);
    if (thread.currentTurnId === null) throw new SupervisorError(`thread ${thread.id} (${thread.workspace}: ${oneLine(thread.title, 60)}) has no running turn`, 1);
    await handle.api.interruptTurn(thread.id, thread.currentTurnId);
    io.out(
      opts.json
        ? `${JSON.stringify({ threadId: thread.id, turnId: thread.currentTurnId, workspace: thread.workspace, interrupted: true }, null, 2)}\n`
        : `interrupted ${describeThread(thread)}\n`,
    );
    return 0;
  } finally {
    await handle.close();
  }
}

/** The thread THREAD names (its id or the end of it) in the api's state; exit 2 when none or several. */
async function threadOf(handle: ApiHandle, ref: string): Promise<ThreadRecord> {
  const found = findThread(await handle.api.snapshot(), ref);
  if ('problem' in found) throw new SupervisorError(found.problem, 2);
  return found.thread;
}

function describeThread(thread: ThreadRecord): string {
  return `${thread.workspace}: ${oneLine(thread.title, 60)} (${thread.id})`;
}

/** How long a command that ran the loop itself waits for the turn it started, by default. */
const DEFAULT_WAIT_S = 600;

/**
 * After `reply`/`retry`: with a daemon the turn runs on and the command returns. Without one,
 * this command's private app-server would end the turn with it, so the command waits for the
 * turn first (up to --timeout, then it is interrupted), and says so.
 */
async function closeAfterTurn(handle: ApiHandle, home: string, turn: ThreadTurnResult, timeout: string | undefined, io: CliIo): Promise<void> {
  if (handle.mode === 'daemon') return handle.close();
  const seconds = timeout ? Number(timeout) : DEFAULT_WAIT_S;
  io.err(`no daemon runs for ${home}: waiting up to ${seconds}s for the turn to finish, as its app-server ends with this command (\`cm-supervisor daemon start\` lets it return at once)\n`);
  // The turn counts as running once its turn/started is reduced, which may come after Codex's reply.
  const deadline = Date.now() + TURN_SEEN_MS;
  while (Date.now() < deadline) {
    const thread = (await handle.api.snapshot()).threads[turn.threadId];
    if (!thread || thread.currentTurnId === turn.turnId || thread.lastTurn?.id === turn.turnId) break;
    await sleep(50);
  }
  await handle.close({ graceMs: seconds * 1000, reason: `${seconds}s passed (--timeout) and no daemon keeps the turn` });
}

/** How long a turn Codex accepted may take to be reported started. */
const TURN_SEEN_MS = 10_000;

function turnResultText(result: ThreadTurnResult, thread: ThreadRecord, retried: boolean): string {
  if (result.mode === 'steered') return `added to the running turn ${shortThreadId(result.turnId)} of ${describeThread(thread)}\n`;
  return `${retried ? 'retried' : 'replied'}: new turn ${shortThreadId(result.turnId)} on ${describeThread(thread)}\n`;
}

export interface TurnCliOptions {
  json?: boolean;
  /** Seconds, as typed. */
  timeout?: string;
}

/** `reply THREAD TEXT…`: a new turn on an idle thread, or more input for its running turn. */
export async function replyCommand(globals: GlobalOptions, ref: string, words: string[], opts: TurnCliOptions, io: CliIo): Promise<number> {
  const handle = await openApi(globals, { holder: 'reply', serve: false });
  let result: ThreadTurnResult;
  let thread: ThreadRecord;
  try {
    thread = await threadOf(handle, ref);
    result = await handle.api.reply(thread.id, words.join(' '));
  } catch (error) {
    await handle.close();
    throw error;
  }
  io.out(opts.json ? `${JSON.stringify({ ...result, workspace: thread.workspace }, null, 2)}\n` : turnResultText(result, thread, false));
  await closeAfterTurn(handle, globals.home, result, opts.timeout, io);
  return 0;
}

/** `retry THREAD`: the input of the thread's failed or interrupted last turn, sent again. */
export async function retryCommand(globals: GlobalOptions, ref: string, opts: TurnCliOptions, io: CliIo): Promise<number> {
  const handle = await openApi(globals, { holder: 'retry', serve: false });
  let result: ThreadTurnResult;
  let thread: ThreadRecord;
  try {
    thread = await threadOf(handle, ref);
    result = await handle.api.retryTurn(thread.id);
  } catch (error) {
    await handle.close();
    throw error;
  }
  io.out(opts.json ? `${JSON.stringify({ ...result, workspace: thread.workspace }, null, 2)}\n` : turnResultText(result, thread, true));
  await closeAfterTurn(handle, globals.home, result, opts.timeout, io);
  return 0;
}

/** `thread show THREAD`: the thread's turns and items as its host keeps them. */
export async function threadShowCommand(globals: GlobalOptions, ref: string, opts: { json?: boolean }, io: CliIo): Promise<number> {
  const handle = await openApi(globals, { holder: 'thread show', serve: false });
  try {
    const transcript = await handle.api.transcript((await threadOf(handle, ref)).id);
    io.out(opts.json ? `${JSON.stringify(transcript, null, 2)}\n` : transcriptText(transcript));
    return 0;
  } finally {
    await handle.close();
  }
}

/** `diff THREAD`: the files the thread's latest turn changed, then its unified diff (coloured on a terminal unless --no-color/NO_COLOR). */
export async function diffCommand(globals: GlobalOptions, ref: string, opts: { json?: boolean; color: boolean }, io: CliIo): Promise<number> {
  const handle = await openApi(globals, { holder: 'diff', serve: false });
  try {
    const diff = await handle.api.threadDiff((await threadOf(handle, ref)).id);
    if (opts.json) {
      io.out(`${JSON.stringify(diff, null, 2)}\n`);
      return 0;
    }
    io.outStyled(diffText(diff, new Chalk({ level: opts.color && io.isTTY ? 1 : 0 })));
    return 0;
  } finally {
    await handle.close();
  }
}

/** `archive THREAD`: Codex archives the thread; it leaves every view. */
export async function archiveCommand(globals: GlobalOptions, ref: string, opts: { json?: boolean }, io: CliIo): Promise<number> {
  const handle = await openApi(globals, { holder: 'archive', serve: false });
  try {
    const thread = await threadOf(handle, ref);
    await handle.api.archiveThread(thread.id);
    io.out(opts.json ? `${JSON.stringify({ threadId: thread.id, workspace: thread.workspace, archived: true }, null, 2)}\n` : `archived ${describeThread(thread)}\n`);
    return 0;
  } finally {
    await handle.close();
  }
}
