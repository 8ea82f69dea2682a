import type { DispatchOptions, DispatchResult } from '../api/supervisorApi.js';
import type { PlanV2 } from '../contract/plan.js';
import type { PlanTarget } from '../contract/validatePlan.js';
import type { PlanRunEvent } from '../state/planRuns.js';
import { planIdOf, messageOf, type DispatchTarget } from './dispatchPlan.js';
import { checkEarlier } from './earlierTurn.js';

type Preset = Extract<PlanRunEvent, { type: 'planRun/started' }>['preset'];

/**
 * Hands a validated v2 plan to the loop's scheduler (planScheduler.ts) and returns at once.
 * A run of the same plan id already in the state goes on (`retryFailed` re-sends its failed,
 * interrupted, blocked and timed-out actions); `force` starts it over. For a plan the state does
 * not know (another process dispatched it, or the state was lost), the ledger says which actions
 * an earlier dispatch sent: those done are `skipped`, those whose turn failed or was lost stay
 * `failed`/`interrupted` (their dependents blocked) unless `retryFailed`.
 */
export async function startPlanRun(target: DispatchTarget, plan: PlanV2, targets: PlanTarget[], options: DispatchOptions): Promise<DispatchResult> {
  const planId = planIdOf(plan);
  // A plain directory becomes a workspace before the run names it.
  for (const t of targets) if (t.kind === 'directory') await target.clientFor(t);
  const state = target.state();
  const known = state.planRuns[planId] !== undefined && !options.force;
  const preset = known || options.force ? {} : await presetFromLedger(target, planId, plan, targets, options.retryFailed === true);
  target.emit({
    type: 'planRun/started',
    atMs: target.now(),
    planId,
    plan,
    actions: targets.map((t) => ({ id: t.actionId, workspace: t.workspace, host: state.workspaces[t.workspace]?.host ?? 'local' })),
    preset,
    deadlineAtMs: options.timeoutSec ? target.now() + options.timeoutSec * 1000 : null,
    retryFailed: options.retryFailed === true,
    fresh: options.force === true,
  });
  return {
    planId,
    planRun: true,
    results: plan.actions.map((a, i) => ({
      id: a.id,
      workspace: targets[i]!.workspace,
      status: preset[a.id]?.status === 'skipped' ? 'skipped' : 'dispatched',
      jobKey: `${planId}:${a.id}`,
      threadId: null,
      turnId: null,
      error: preset[a.id]?.error ?? null,
    })),
  };
}

async function presetFromLedger(target: DispatchTarget, planId: string, plan: PlanV2, targets: PlanTarget[], retryFailed: boolean): Promise<Preset> {
  const ledger = target.ledger;
  if (!ledger) return {};
  const entries = ledger.read();
  const preset: Preset = {};
  await Promise.all(
    plan.actions.map(async (action, i) => {
      const entry = entries[`${planId}:${action.id}`];
      if (!entry) return;
      if (ledger.inFlight(entry)) {
        preset[action.id] = { status: 'skipped', error: 'another dispatch is sending it right now' };
        return;
      }
      try {
        const earlier = await checkEarlier(target, targets[i]!, entry, { repair: true });
        if (earlier.kind === 'done') preset[action.id] = { status: 'skipped', error: null };
        else if (!retryFailed) preset[action.id] = { status: earlier.kind === 'lost' ? 'interrupted' : 'failed', error: `turn ${earlier.kind}: ${earlier.reason} (--retry-failed sends it again)` };
      } catch (error) {
        preset[action.id] = { status: 'failed', error: `could not check its earlier dispatch: ${messageOf(error)}` };
      }
    }),
  );
  return preset;
}
