import { createInterface } from 'node:readline/promises';
import type { ChatReply } from '../../core/api/supervisorApi.js';
import { ConfigStore } from '../../core/config/config.js';
import type { OnApproval } from '../../core/dispatch/awaitCompletion.js';
import type { ChatMessage } from '../../core/state/model.js';
import { stripControl } from '../../core/util/text.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../exitCodes.js';
import type { GlobalOptions } from '../globalOptions.js';
import type { CliIo } from '../io.js';
import { checkSomeoneToAsk, waitForPlanRun, waitForTurns } from '../waitForTurns.js';
import { openApi } from '../apiHandle.js';

export interface ChatCliOptions {
  yes?: boolean;
  json?: boolean;
  timeout?: string;
  onApproval?: OnApproval;
  allowUnsafe?: boolean;
}

const EXIT_FAILED_STATUSES = new Set(['failed', 'interrupted', 'timeout', 'blocked']);

/**
 * `cm-supervisor chat "<text>"`: one line of the chat, in-process. A slash command prints its
 * answer; a request is planned, shown, and dispatched once confirmed (--yes, or y on a
 * terminal); dispatched turns are waited for and their results printed.
 */
export async function chatCommand(globals: GlobalOptions, text: string, opts: ChatCliOptions, io: CliIo): Promise<number> {
  const interactive = io.isTTY && process.stdin.isTTY === true;
  const allowUnsafe = opts.allowUnsafe === true || new ConfigStore(globals.home).read().allowUnsafePlans === true;
  // The chat runs where the home's loop runs: in the daemon when there is one, else here.
  const handle = await openApi(globals, { holder: 'chat', serve: true });
  const api = handle.api;
  const said: ChatMessage[] = [];
  const show = (messages: ChatMessage[]) => {
    said.push(...messages);
    if (!opts.json) messages.forEach((m) => printMessage(m, io));
  };
  try {
    checkSomeoneToAsk({ onApproval: opts.onApproval, interactive }, handle.mode, globals.home);
    const reply = await api.chatSend(text, { baseDir: process.cwd() });
    show(reply.messages);
    let outcome: ChatReply = reply;
    if (reply.proposal) {
      const confirmed = opts.yes || (interactive && (await askConfirm()));
      // A v2 plan's --timeout is its run's deadline, kept by the loop (as `dispatch --timeout`).
      if (confirmed) outcome = await api.chatDecide(reply.proposal.id, 'confirm', undefined, { allowUnsafe, ...(opts.timeout ? { timeoutSec: Number(opts.timeout) } : {}) });
      else if (interactive) outcome = await api.chatDecide(reply.proposal.id, 'reject');
      else if (!opts.json) io.err('nothing was dispatched: run again with --yes to dispatch the proposed plan, or save it (--json) and use `cm-supervisor dispatch --plan FILE`\n');
      if (outcome !== reply) show(outcome.messages);
    }
    const waitOptions = { timeout: opts.timeout, onApproval: opts.onApproval, interactive, live: null };
    // A v2 plan runs in the loop: its run is waited for, not its first turns.
    const wait = outcome.dispatched?.planRun ? waitForPlanRun : waitForTurns;
    const results = outcome.dispatched ? await wait(api, outcome.dispatched, waitOptions, io) : null;
    if (outcome.dispatched) {
      // The turns' results, as the chat recorded them (completions with their final message, failures).
      // (A fast turn's result may be recorded before the reply that started it came back.)
      const known = new Set(said.map((m) => m.id));
      const since = said[0]?.atMs ?? 0;
      show((await api.snapshot()).chat.filter((m) => !known.has(m.id) && m.atMs >= since));
    }
    if (opts.json) {
      io.out(
        `${JSON.stringify(
          {
            status: outcome.status,
            messages: said.filter((m) => m.role !== 'user'),
            proposal: reply.proposal ? { id: reply.proposal.id, status: outcome === reply ? reply.proposal.status : outcome.status === 'ok' ? 'confirmed' : reply.proposal.status, plan: reply.proposal.plan } : null,
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
    await handle.close();
  }
}

/** Errors go to stderr, everything else to stdout; the user's own line is not echoed. */
function printMessage(message: ChatMessage, io: CliIo): void {
  if (message.role === 'user') return;
  const text = stripControl(message.text);
  if (message.role === 'error') io.err(`cm-supervisor: ${text}\n`);
  else io.out(`${text}\n`);
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
