import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ConfigStore, workspaceSpecs } from '../../core/config/config.js';
import { readPlanFile, validatePlanText, type PlanProblem } from '../../core/contract/validatePlan.js';
import { awaitCompletion, type FinalActionResult, type OnApproval } from '../../core/dispatch/awaitCompletion.js';
import { DispatchLedger } from '../../core/dispatch/ledger.js';
import { DaemonClient } from '../../core/daemon/client.js';
import { PlanValidationError, SupervisorError } from '../../core/errors.js';
import { Supervisor } from '../../core/loop/supervisor.js';
import { approvalSubject, decisionWord } from '../../core/state/digest.js';
import type { ApprovalDecision } from '../../core/state/events.js';
import type { ApprovalRecord } from '../../core/state/model.js';
import { oneLine } from '../../core/util/text.js';
import { LiveLines, resultsTable } from '../format/dispatchText.js';
import type { GlobalOptions } from '../globalOptions.js';
import type { CliIo } from '../io.js';
import { openApi } from '../apiHandle.js';
import { shutdownSignal } from '../shutdown.js';

export interface DispatchCliOptions {
  plan: string;
  json?: boolean;
  dryRun?: boolean;
  force?: boolean;
  timeout?: string;
  onApproval?: OnApproval;
}

const EXIT_FAILED_STATUSES = new Set(['failed', 'interrupted', 'timeout']);

function readPlan(plan: string): { text: string; baseDir: string; source: string } | { problems: PlanProblem[]; source: string } {
  if (plan === '-') return { text: readFileSync(0, 'utf8'), baseDir: process.cwd(), source: 'the plan on stdin' };
  const file = resolve(plan);
  const read = readPlanFile(file);
  return read.ok ? { text: read.text, baseDir: dirname(file), source: plan } : { problems: read.problems, source: plan };
}

/** `cm-supervisor dispatch --plan FILE`: validate, dispatch in one cycle, wait, report. */
export async function dispatchCommand(globals: GlobalOptions, opts: DispatchCliOptions, io: CliIo): Promise<number> {
  const config = new ConfigStore(globals.home).read();
  const plan = readPlan(opts.plan);
  const validation =
    'problems' in plan ? ({ ok: false, problems: plan.problems } as const) : validatePlanText(plan.text, { workspaces: config.workspaces, baseDir: plan.baseDir });
  if (!validation.ok) {
    if (opts.json) io.out(`${JSON.stringify({ errors: validation.problems }, null, 2)}\n`);
    throw new PlanValidationError(validation.problems, plan.source);
  }

  const interactive = io.isTTY && process.stdin.isTTY === true && opts.plan !== '-';
  const onApproval: OnApproval = opts.onApproval ?? (interactive ? 'ask' : 'decline');
  const autoAnswerNote = (a: ApprovalRecord, decision: ApprovalDecision) =>
    io.err(
      `${a.workspace}: ${decisionWord(decision)} ${approvalSubject(a)}${
        opts.onApproval ? ` (--on-approval ${opts.onApproval})` : ' (no terminal to ask on; choose with --on-approval accept|decline|cancel)'
      }\n`,
    );

  const targeted = new Set(validation.targets.filter((t) => t.kind === 'configured').map((t) => t.workspace));
  const handle = await openApi(globals, async () => {
    const ledger = new DispatchLedger(join(globals.home, 'dispatch-ledger.json'));
    if (ledger.setAside) io.err(`the dispatch ledger could not be read; it was moved to ${ledger.setAside} and a new one started\n`);
    // In-process, only the workspaces the plan names are started.
    const supervisor = new Supervisor({ workspaces: workspaceSpecs(config).filter((w) => targeted.has(w.name)), codexBin: globals.codex.path, ledger });
    await supervisor.start();
    return supervisor;
  });
  const api = handle.api;
  // A daemon that goes away (stopped, crashed) sends no more changes: stop waiting, say so.
  const lost = new AbortController();
  if (api instanceof DaemonClient) api.onClose(() => lost.abort());
  try {
    const dispatched = await api.dispatch(validation.plan, { baseDir: 'baseDir' in plan ? plan.baseDir : process.cwd(), force: opts.force, dryRun: opts.dryRun });
    const live = io.isTTY && !opts.json ? new LiveLines(io.err) : null;
    const results = opts.dryRun
      ? dispatched.results.map((r): FinalActionResult => ({ ...r, status: r.status === 'planned' ? 'planned' : 'failed', finalMessage: null, elapsedMs: 0 }))
      : await awaitCompletion(api, dispatched, {
          timeoutMs: opts.timeout ? Number(opts.timeout) * 1000 : null,
          onApproval,
          onAutoAnswer: autoAnswerNote,
          abort: AbortSignal.any([shutdownSignal(), lost.signal]),
          ...(interactive ? { ask: (a: ApprovalRecord, gone: AbortSignal) => askApproval(a, live, gone) } : {}),
          ...(live ? { onProgress: (r: FinalActionResult[]) => live.render(r) } : {}),
        }).catch((error: unknown) => {
          if (!lost.signal.aborted) throw error;
          throw new SupervisorError('the connection to the cm-supervisor daemon was lost while waiting for the turns; see `cm-supervisor status`', 1, { cause: error });
        });
    live?.clear();
    if (opts.json) {
      io.out(
        `${JSON.stringify(
          {
            plan: dispatched.planId,
            results: results.map(({ id, workspace, status, threadId, turnId, error, finalMessage }) => ({ id, workspace, status, threadId, turnId, error, finalMessage })),
          },
          null,
          2,
        )}\n`,
      );
    } else {
      io.out(`${opts.dryRun ? 'dry run (nothing dispatched)' : `plan ${dispatched.planId}`}\n${resultsTable(results, process.stdout.columns ?? 120)}`);
    }
    return results.some((r) => EXIT_FAILED_STATUSES.has(r.status)) ? 1 : 0;
  } finally {
    await handle.close();
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
    const question = `${approval.workspace}: approve ${approvalSubject(approval)}${where}?${why}\n  ${keys.map(([k, d]) => `[${k}] ${d}`).join('  ')}: `;
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
