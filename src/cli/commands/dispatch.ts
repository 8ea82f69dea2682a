import { dirname, resolve } from 'node:path';
import { ConfigStore } from '../../core/config/config.js';
import { readPlanFile, readPlanStream, type PlanRead } from '../../core/contract/readPlan.js';
import { validatePlanText, type PlanProblem } from '../../core/contract/validatePlan.js';
import type { FinalActionResult, OnApproval } from '../../core/dispatch/awaitCompletion.js';
import { PlanValidationError } from '../../core/errors.js';
import { LOCAL_HOST } from '../../core/hosts/hostSpec.js';
import { dispatchedAtOf, dryRunTable, LiveLines, resultsTable, type ResultRow } from '../format/dispatchText.js';
import type { GlobalOptions } from '../globalOptions.js';
import type { CliIo } from '../io.js';
import { openApi } from '../apiHandle.js';
import { checkSomeoneToAsk, waitForPlanRun, waitForTurns } from '../waitForTurns.js';
import type { PlanActionResult } from '../../core/dispatch/awaitPlanRun.js';

export interface DispatchCliOptions {
  plan: string;
  json?: boolean;
  dryRun?: boolean;
  force?: boolean;
  retryFailed?: boolean;
  timeout?: string;
  onApproval?: OnApproval;
  allowUnsafe?: boolean;
}

const EXIT_FAILED_STATUSES = new Set(['failed', 'interrupted', 'timeout', 'blocked']);

/** One action of a v2 run in `dispatch --json`. */
function planResultJson(r: PlanActionResult) {
  return {
    id: r.id,
    workspace: r.workspace,
    status: r.status,
    attempts: r.attempts.map(({ n, outcome, error, failure, threadId, turnId, startedAtMs, endedAtMs }) => ({ n, outcome, error, failure, threadId, turnId, startedAtMs, endedAtMs })),
    tokens: r.tokens,
    durationMs: r.durationMs,
    worktree: r.worktree,
    branch: r.branch,
    diffstat: r.diffstat,
    finalMessage: r.finalMessage,
    error: r.error,
    threadId: r.threadId,
    turnId: r.turnId,
    ...(r.status === 'paused' ? { resumesAtMs: r.resumesAtMs } : {}),
  };
}

type ReadPlan = { text: string; baseDir: string; source: string } | { problems: PlanProblem[]; source: string };

/** `-`: stdin, with paths relative to the cwd; else the file, with paths relative to its directory. */
async function readPlan(plan: string): Promise<ReadPlan> {
  if (plan === '-') return located(await readPlanStream(process.stdin), process.cwd(), 'the plan on stdin');
  const file = resolve(plan);
  return located(await readPlanFile(file), dirname(file), plan);
}

function located(read: PlanRead, baseDir: string, source: string): ReadPlan {
  return read.ok ? { text: read.text, baseDir, source } : { problems: read.problems, source };
}

/** `cm-supervisor dispatch --plan FILE`: validate, dispatch in one cycle, wait, report. */
export async function dispatchCommand(globals: GlobalOptions, opts: DispatchCliOptions, io: CliIo): Promise<number> {
  const config = new ConfigStore(globals.home).read();
  const plan = await readPlan(opts.plan);
  // The opt-in goes with the plan to whichever loop dispatches it (the daemon checks it again).
  const allowUnsafe = opts.allowUnsafe === true || config.allowUnsafePlans === true;
  const validation =
    'problems' in plan
      ? ({ ok: false, problems: plan.problems } as const)
      : validatePlanText(plan.text, {
          workspaces: config.workspaces.map((w) => ({ ...w, remote: (w.host ?? LOCAL_HOST) !== LOCAL_HOST })),
          hosts: [...new Set([LOCAL_HOST, ...config.hosts.map((h) => h.name)])],
          baseDir: plan.baseDir,
          allowUnsafe,
        });
  if (!validation.ok) {
    if (opts.json) io.out(`${JSON.stringify({ errors: validation.problems }, null, 2)}\n`);
    throw new PlanValidationError(validation.problems, plan.source);
  }

  const interactive = io.isTTY && process.stdin.isTTY === true && opts.plan !== '-';

  // The home's loop (the daemon's, or run here): each action goes as soon as its own host is
  // ready, not the slowest one; plans do not need the threads of other clients caught up first.
  const handle = await openApi(globals, { holder: 'dispatch', serve: true, awaitStart: false, supervisor: { listKnownThreads: false } });
  const api = handle.api;
  try {
    if (!opts.dryRun) checkSomeoneToAsk({ onApproval: opts.onApproval, interactive }, handle.mode, globals.home);
    const dispatched = await api.dispatch(validation.plan, {
      baseDir: 'baseDir' in plan ? plan.baseDir : process.cwd(),
      force: opts.force,
      retryFailed: opts.retryFailed,
      dryRun: opts.dryRun,
      ...(allowUnsafe ? { allowUnsafe } : {}),
      // A v2 plan's deadline is kept by the loop that runs it.
      ...(opts.timeout && validation.plan.version === 2 ? { timeoutSec: Number(opts.timeout) } : {}),
    });
    const live = io.isTTY && !opts.json ? new LiveLines(io) : null;
    if (dispatched.planRun && !opts.dryRun) {
      const rows = await waitForPlanRun(api, dispatched, { onApproval: opts.onApproval, interactive, live }, io);
      live?.clear();
      if (opts.json) io.out(`${JSON.stringify({ plan: dispatched.planId, results: rows.map(planResultJson) }, null, 2)}\n`);
      else io.out(`plan ${dispatched.planId}\n${resultsTable(rows.map((r) => ({ ...r, attemptCount: r.attempts.length })), process.stdout.columns ?? 120)}`);
      return rows.some((r) => EXIT_FAILED_STATUSES.has(r.status)) ? 1 : 0;
    }
    // A dry run reports what the executor found as it is: planned (would dispatch), skipped
    // (the ledger shows it sent), or failed with the reason its target could not be resolved.
    const finals: FinalActionResult[] = opts.dryRun
      ? dispatched.results.map((r) => ({ ...r, finalMessage: null, elapsedMs: 0 }))
      : await waitForTurns(api, dispatched, { timeout: opts.timeout, onApproval: opts.onApproval, interactive, live }, io);
    live?.clear();
    const byId = new Map(dispatched.results.map((r) => [r.id, r]));
    const results: ResultRow[] = finals.map((r) => ({ ...r, dispatchedAtMs: dispatchedAtOf(byId.get(r.id)!), retryable: byId.get(r.id)!.retryable === true }));
    if (opts.json) {
      io.out(
        `${JSON.stringify(
          {
            plan: dispatched.planId,
            results: results.map(({ id, workspace, status, threadId, turnId, error, finalMessage, dispatchedAtMs, retryable }) => ({
              id,
              workspace,
              status,
              threadId,
              turnId,
              error,
              finalMessage,
              // Only for an action skipped because the ledger shows it dispatched (and when).
              ...(typeof dispatchedAtMs === 'number' ? { dispatchedAtMs } : {}),
              // Only for an action whose earlier turn was lost or failed: --retry-failed sends it again.
              ...(retryable ? { retryable } : {}),
            })),
          },
          null,
          2,
        )}\n`,
      );
    } else {
      const width = process.stdout.columns ?? 120;
      io.out(opts.dryRun ? `dry run (nothing dispatched)\n${dryRunTable(results, width)}` : `plan ${dispatched.planId}\n${resultsTable(results, width)}`);
    }
    return results.some((r) => EXIT_FAILED_STATUSES.has(r.status)) ? 1 : 0;
  } finally {
    await handle.close();
  }
}
