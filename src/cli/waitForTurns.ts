import { createInterface } from 'node:readline/promises';
import type { DispatchResult, SupervisorApi } from '../core/api/supervisorApi.js';
import { DaemonClient } from '../core/daemon/client.js';
import { awaitCompletion, type AwaitOptions, type FinalActionResult, type OnApproval } from '../core/dispatch/awaitCompletion.js';
import { awaitPlanRun, type PlanActionResult } from '../core/dispatch/awaitPlanRun.js';
import { SupervisorError } from '../core/errors.js';
import { approvalSubject, decisionWord } from '../core/state/digest.js';
import type { ApprovalDecision } from '../core/state/events.js';
import type { ApprovalRecord } from '../core/state/model.js';
import { escapeControl, oneLine } from '../core/util/text.js';
import type { LiveLines } from './format/dispatchText.js';
import type { CliIo } from './io.js';
import { shutdownSignal } from './shutdown.js';

export interface WaitOptions {
  /** Seconds, as typed. */
  timeout?: string;
  onApproval?: OnApproval;
  /** A person at a terminal can be asked. */
  interactive: boolean;
  live: LiveLines | null;
}

/**
 * Waits for dispatched turns the way `dispatch` and `chat` do: approvals asked on a terminal
 * (else answered by --on-approval, said on stderr), --timeout and Ctrl-C interrupt the rest,
 * and a daemon that goes away ends the wait with a clear error.
 */
/**
 * `--on-approval ask` where nobody can answer: no terminal here, and no daemon whose TUI could.
 * Checked before anything is dispatched.
 */
export function checkSomeoneToAsk(opts: { onApproval?: OnApproval | undefined; interactive: boolean }, mode: 'daemon' | 'in-process', home: string): void {
  if (opts.onApproval !== 'ask' || opts.interactive || mode === 'daemon') return;
  throw new SupervisorError(
    `--on-approval ask needs someone to ask: there is no terminal here and no daemon runs for ${home} (its TUI could answer); use --on-approval accept|decline|cancel, or start the daemon (\`cm-supervisor daemon start\`) and answer in \`cm-supervisor attach\``,
    2,
  );
}

export async function waitForTurns(api: SupervisorApi, dispatched: DispatchResult, opts: WaitOptions, io: CliIo): Promise<FinalActionResult[]> {
  return waiting(api, opts, (answering) =>
    awaitCompletion(api, dispatched, { ...answering, timeoutMs: opts.timeout ? Number(opts.timeout) * 1000 : null, ...(opts.live ? { onProgress: (r: FinalActionResult[]) => opts.live?.render(r) } : {}) }), io);
}

/**
 * Waits for a v2 plan's run to end (the loop enforces its --timeout), answering its turns'
 * approvals as `waitForTurns` does. Ctrl-C stops the wait; with a daemon the run goes on there.
 */
export async function waitForPlanRun(api: SupervisorApi, dispatched: DispatchResult, opts: WaitOptions, io: CliIo): Promise<PlanActionResult[]> {
  return waiting(api, opts, (answering) => awaitPlanRun(api, dispatched, { ...answering, ...(opts.live ? { onProgress: (r: PlanActionResult[]) => opts.live?.render(r) } : {}) }), io);
}

type Answering = Pick<AwaitOptions, 'onApproval' | 'onAutoAnswer' | 'onLeft' | 'abort' | 'ask'>;

async function waiting<T>(api: SupervisorApi, opts: WaitOptions, wait: (answering: Answering) => Promise<T>, io: CliIo): Promise<T> {
  const onApproval: OnApproval = opts.onApproval ?? (opts.interactive ? 'ask' : 'decline');
  const lost = new AbortController();
  if (api instanceof DaemonClient) api.onClose(() => lost.abort());
  try {
    return await wait({
      onApproval,
      onAutoAnswer: (a: ApprovalRecord, decision: ApprovalDecision) =>
        io.err(
          `${a.workspace}: ${decisionWord(decision)} ${approvalSubject(a)}${
            opts.onApproval ? ` (--on-approval ${opts.onApproval})` : ' (no terminal to ask on; choose with --on-approval accept|decline|cancel)'
          }\n`,
        ),
      onLeft: (a: ApprovalRecord) => io.err(`${a.workspace}: approve ${approvalSubject(a)}? waiting for an answer in the TUI (cm-supervisor) or with --on-approval\n`),
      abort: AbortSignal.any([shutdownSignal(), lost.signal]),
      ...(opts.interactive ? { ask: (a: ApprovalRecord, gone: AbortSignal) => askApproval(a, opts.live, gone) } : {}),
    });
  } catch (error) {
    if (!lost.signal.aborted) throw error;
    throw new SupervisorError('the connection to the cm-supervisor daemon was lost while waiting for the turns; see `cm-supervisor status`', 1, { cause: error });
  }
}

const DECISION_KEYS: Record<string, ApprovalDecision> = { a: 'accept', s: 'acceptForSession', d: 'decline', c: 'cancel' };

let asking: Promise<unknown> = Promise.resolve();

/**
 * Asks on the terminal, one approval at a time. Resolves null (nothing to answer) when the
 * approval is answered elsewhere (another attached client, the TUI) while it is on screen.
 */
export function askApproval(approval: ApprovalRecord, live: LiveLines | null, gone: AbortSignal): Promise<ApprovalDecision | null> {
  const next = asking.then(() => {
    if (gone.aborted) return null;
    return live ? live.whileSuspended(() => prompt(approval, gone)) : prompt(approval, gone);
  });
  asking = next.catch(() => {});
  return next;
}

async function prompt(approval: ApprovalRecord, gone: AbortSignal): Promise<ApprovalDecision | null> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const offered = approval.availableDecisions.filter((d) => Object.values(DECISION_KEYS).includes(d as ApprovalDecision));
    const keys = Object.entries(DECISION_KEYS).filter(([, d]) => offered.includes(d));
    const where = approval.cwd ? ` in ${approval.cwd}` : '';
    const why = approval.reason ? `\n  reason: ${oneLine(approval.reason, 200)}` : '';
    // readline writes the prompt itself, past CliIo: the workspace and cwd may be any directory's name.
    const question = escapeControl(`${approval.workspace}: approve ${approvalSubject(approval)}${where}?${why}\n  ${keys.map(([k, d]) => `[${k}] ${d}`).join('  ')}: `);
    for (;;) {
      const decision = DECISION_KEYS[(await rl.question(question, { signal: gone })).trim().toLowerCase()];
      if (decision && offered.includes(decision)) return decision;
    }
  } catch (error) {
    if (!gone.aborted) throw error;
    process.stderr.write('\n  (answered elsewhere)\n');
    return null;
  } finally {
    rl.close();
  }
}
