import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigStore, workspaceSpecs } from '../../core/config/config.js';
import { readPlanFile, validatePlanText, type PlanProblem } from '../../core/contract/validatePlan.js';
import type { FinalActionResult, OnApproval } from '../../core/dispatch/awaitCompletion.js';
import { DispatchLedger } from '../../core/dispatch/ledger.js';
import { PlanValidationError } from '../../core/errors.js';
import { LOCAL_HOST } from '../../core/hosts/hostSpec.js';
import { LiveLines, resultsTable } from '../format/dispatchText.js';
import type { GlobalOptions } from '../globalOptions.js';
import { configuredSupervisor } from '../inProcess.js';
import type { CliIo } from '../io.js';
import { openApi } from '../apiHandle.js';
import { waitForTurns } from '../waitForTurns.js';

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
    'problems' in plan ? ({ ok: false, problems: plan.problems } as const) : validatePlanText(plan.text, { workspaces: config.workspaces.map((w) => ({ ...w, remote: (w.host ?? LOCAL_HOST) !== LOCAL_HOST })), baseDir: plan.baseDir });
  if (!validation.ok) {
    if (opts.json) io.out(`${JSON.stringify({ errors: validation.problems }, null, 2)}\n`);
    throw new PlanValidationError(validation.problems, plan.source);
  }

  const interactive = io.isTTY && process.stdin.isTTY === true && opts.plan !== '-';

  const targeted = new Set(validation.targets.filter((t) => t.kind === 'configured').map((t) => t.workspace));
  const handle = await openApi(globals, async () => {
    const ledger = new DispatchLedger(join(globals.home, 'dispatch-ledger.json'));
    if (ledger.setAside) io.err(`the dispatch ledger could not be read; it was moved to ${ledger.setAside} and a new one started\n`);
    // In-process, only the workspaces the plan names are started.
    const supervisor = configuredSupervisor(globals, config, {
      workspaces: workspaceSpecs(config).filter((w) => targeted.has(w.name)),
      ledger,
      listKnownThreads: false,
    });
    // Not awaited: each action goes as soon as its own workspace is ready, not the slowest one.
    void supervisor.start();
    return supervisor;
  });
  const api = handle.api;
  try {
    const dispatched = await api.dispatch(validation.plan, { baseDir: 'baseDir' in plan ? plan.baseDir : process.cwd(), force: opts.force, dryRun: opts.dryRun });
    const live = io.isTTY && !opts.json ? new LiveLines(io.err) : null;
    const results = opts.dryRun
      ? dispatched.results.map((r): FinalActionResult => ({ ...r, status: r.status === 'planned' ? 'planned' : 'failed', finalMessage: null, elapsedMs: 0 }))
      : await waitForTurns(api, dispatched, { timeout: opts.timeout, onApproval: opts.onApproval, interactive, live }, io);
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
