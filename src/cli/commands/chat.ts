import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ChatService, type ChatReply } from '../../core/chat/chatService.js';
import { Planner } from '../../core/chat/planner.js';
import { ConfigStore, workspaceSpecs } from '../../core/config/config.js';
import type { DispatchResult } from '../../core/api/supervisorApi.js';
import { awaitCompletion, type FinalActionResult, type OnApproval } from '../../core/dispatch/awaitCompletion.js';
import { DispatchLedger } from '../../core/dispatch/ledger.js';
import { Supervisor } from '../../core/loop/supervisor.js';
import { approvalSubject, decisionWord } from '../../core/state/digest.js';
import type { ApprovalDecision } from '../../core/state/events.js';
import type { ApprovalRecord, ChatMessage } from '../../core/state/model.js';
import { stripControl } from '../../core/util/text.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../exitCodes.js';
import type { GlobalOptions } from '../globalOptions.js';
import type { CliIo } from '../io.js';
import { shutdownSignal } from '../shutdown.js';
import { askApproval } from './dispatch.js';

export interface ChatCliOptions {
  yes?: boolean;
  json?: boolean;
  timeout?: string;
  onApproval?: OnApproval;
}

const EXIT_FAILED_STATUSES = new Set(['failed', 'interrupted', 'timeout']);

/**
 * `cm-supervisor chat "<text>"`: one line of the chat, in-process. A slash command prints its
 * answer; a request is planned, shown, and dispatched once confirmed (--yes, or y on a
 * terminal); dispatched turns are waited for and their results printed.
 */
export async function chatCommand(globals: GlobalOptions, text: string, opts: ChatCliOptions, io: CliIo): Promise<number> {
  const config = new ConfigStore(globals.home).read();
  const ledger = new DispatchLedger(join(globals.home, 'dispatch-ledger.json'));
  if (ledger.setAside) io.err(`the dispatch ledger could not be read; it was moved to ${ledger.setAside} and a new one started\n`);
  const supervisor = new Supervisor({
    workspaces: workspaceSpecs(config),
    codexBin: config.codexBin && globals.codex.source === 'bundled' ? config.codexBin : globals.codex.path,
    ledger,
    plannerDir: join(globals.home, 'planner'),
  });
  const interactive = io.isTTY && process.stdin.isTTY === true;
  const said: ChatMessage[] = [];
  const chat = new ChatService({
    api: supervisor,
    planner: new Planner({ connection: () => supervisor.plannerConnection() }),
    emit: (event) => {
      supervisor.recordChat(event.message);
      said.push(event.message);
      if (!opts.json) printMessage(event.message, io);
    },
  });
  await supervisor.start();
  try {
    const reply = await chat.send(text);
    let outcome: ChatReply = reply;
    if (reply.proposal) {
      const confirmed = opts.yes || (interactive && (await askConfirm()));
      if (confirmed) outcome = await chat.confirm(reply.proposal.id);
      else if (interactive) outcome = await chat.reject(reply.proposal.id);
      else if (!opts.json) io.err('nothing was dispatched: run again with --yes to dispatch the proposed plan, or save it (--json) and use `cm-supervisor dispatch --plan FILE`\n');
    }
    const results = outcome.dispatched ? await waitFor(supervisor, outcome.dispatched, opts, interactive, io) : null;
    // The results of the turns, as chat messages (completions with their final message, failures).
    await chat.update();
    if (opts.json) {
      io.out(
        `${JSON.stringify(
          {
            status: outcome.status,
            messages: said.filter((m) => m.role !== 'user'),
            proposal: reply.proposal ? { id: reply.proposal.id, status: reply.proposal.status, plan: reply.proposal.plan } : null,
            results: results?.map(({ id, workspace, status, threadId, turnId, error, finalMessage }) => ({ id, workspace, status, threadId, turnId, error, finalMessage })) ?? null,
          },
          null,
          2,
        )}\n`,
      );
    }
    if (outcome.status === 'invalid') return EXIT_USAGE;
    if (outcome.status === 'failed' || results?.some((r) => EXIT_FAILED_STATUSES.has(r.status))) return EXIT_FAILED;
    return EXIT_OK;
  } finally {
    await supervisor.stop();
  }
}

/** Errors go to stderr, everything else to stdout; the user's own line is not echoed. */
function printMessage(message: ChatMessage, io: CliIo): void {
  if (message.role === 'user') return;
  const text = stripControl(message.text);
  if (message.role === 'error') io.err(`cm-supervisor: ${text}\n`);
  else io.out(`${text}\n`);
}

function waitFor(supervisor: Supervisor, dispatched: DispatchResult, opts: ChatCliOptions, interactive: boolean, io: CliIo): Promise<FinalActionResult[]> {
  const onApproval: OnApproval = opts.onApproval ?? (interactive ? 'ask' : 'decline');
  const autoAnswerNote = (a: ApprovalRecord, decision: ApprovalDecision) =>
    io.err(
      `${a.workspace}: ${decisionWord(decision)} ${approvalSubject(a)}${
        opts.onApproval ? ` (--on-approval ${opts.onApproval})` : ' (no terminal to ask on; choose with --on-approval accept|decline|cancel)'
      }\n`,
    );
  return awaitCompletion(supervisor, dispatched, {
    timeoutMs: opts.timeout ? Number(opts.timeout) * 1000 : null,
    onApproval,
    onAutoAnswer: autoAnswerNote,
    abort: shutdownSignal(),
    ...(interactive ? { ask: (a: ApprovalRecord) => askApproval(a, null) } : {}),
  });
}

/** Enter or y dispatches, n rejects. */
async function askConfirm(): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (;;) {
      const answer = (await rl.question('dispatch this plan? [Y/n] ')).trim().toLowerCase();
      if (answer === '' || answer === 'y' || answer === 'yes') return true;
      if (answer === 'n' || answer === 'no') return false;
    }
  } finally {
    rl.close();
  }
}
