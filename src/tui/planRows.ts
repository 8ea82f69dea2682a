import type { PlanAttempt, PlanRun, PlanRunAction, PlanActionStatus } from '../core/state/planRuns.js';
import type { SupervisorState } from '../core/state/model.js';
import { actionDetail } from '../core/dispatch/awaitPlanRun.js';
import { formatTokens, oneLine } from '../core/util/text.js';
import { clockTime, relativeTime } from '../core/util/time.js';
import type { OpsRow, StatusCell } from './viewModel.js';

/** How long an ended plan run stays in the operations view. */
export const ENDED_RUN_SHOWN_MS = 15 * 60_000;

const ACTION_STATUS: Record<PlanActionStatus, StatusCell> = {
  waiting: { glyph: '·', word: 'waiting', tone: 'dim' },
  running: { glyph: '▶', word: 'running', tone: 'info' },
  completed: { glyph: '✓', word: 'done', tone: 'ok' },
  skipped: { glyph: '✓', word: 'done before', tone: 'dim' },
  // A quota pause is not a failure: it resumes by itself.
  paused: { glyph: '⏸', word: 'paused', tone: 'warn' },
  failed: { glyph: '✗', word: 'failed', tone: 'error' },
  interrupted: { glyph: '✗', word: 'interrupted', tone: 'error' },
  timeout: { glyph: '✗', word: 'timeout', tone: 'error' },
  blocked: { glyph: '⊘', word: 'blocked', tone: 'error' },
};

/** Runs in progress, and those that ended in the last ENDED_RUN_SHOWN_MS, newest first. */
export function shownRuns(state: SupervisorState, nowMs: number): PlanRun[] {
  return Object.values(state.planRuns)
    .filter((run) => run.endedAtMs === null || nowMs - run.endedAtMs < ENDED_RUN_SHOWN_MS)
    .sort((a, b) => b.startedAtMs - a.startedAtMs);
}

/** A v2 plan's rows in the operations view: the run, then each action (its thread, once it has one, is the row's). */
export function planRows(state: SupervisorState, nowMs: number): OpsRow[] {
  return shownRuns(state, nowMs).flatMap((run) => [runRow(run, nowMs), ...run.actions.map((a) => actionRow(run, a, nowMs))]);
}

function count(run: PlanRun, ...statuses: PlanActionStatus[]): number {
  return run.actions.filter((a) => statuses.includes(a.status)).length;
}

function runStatus(run: PlanRun): StatusCell {
  if (run.endedAtMs !== null) return count(run, 'failed', 'interrupted', 'timeout', 'blocked') > 0 ? { glyph: '✗', word: 'ended', tone: 'error' } : { glyph: '✓', word: 'done', tone: 'ok' };
  if (count(run, 'running') > 0) return { glyph: '▶', word: 'running', tone: 'info' };
  if (count(run, 'paused') > 0) return { glyph: '⏸', word: 'paused', tone: 'warn' };
  return { glyph: '·', word: 'waiting', tone: 'dim' };
}

function runRow(run: PlanRun, nowMs: number): OpsRow {
  const parts = (
    [
      ['completed', count(run, 'completed', 'skipped')],
      ['running', count(run, 'running')],
      ['waiting', count(run, 'waiting')],
      ['paused', count(run, 'paused')],
      ['failed', count(run, 'failed', 'interrupted', 'timeout')],
      ['blocked', count(run, 'blocked')],
    ] as const
  ).flatMap(([word, n]) => (word === 'completed' || n > 0 ? [`${n} ${word}`] : []));
  const progress = `${count(run, 'completed', 'skipped')}/${run.actions.length} ${parts.join(', ').replace(/^\d+ /, '')}`;
  const next = run.actions.find((a) => a.status === 'paused' || a.status === 'waiting');
  const broken = run.actions.filter((a) => ['failed', 'interrupted', 'timeout'].includes(a.status)).map((a) => `${a.id}: ${oneLine(a.error ?? a.status, 120)}`);
  return {
    key: `plan:${run.planId}`,
    kind: 'plan',
    workspace: '',
    threadId: null,
    status: runStatus(run),
    name: `▤ plan ${run.planId}`,
    task: progress,
    last: run.endedAtMs !== null ? `ended ${relativeTime(run.endedAtMs, nowMs)}` : `started ${relativeTime(run.startedAtMs, nowMs)}${run.deadlineAtMs !== null ? ` · timeout ${clockTime(run.deadlineAtMs)}` : ''}`,
    next: next ? `${next.id}: ${actionDetail(next, nowMs) || next.status}` : run.endedAtMs === null ? 'running' : '',
    blockers: broken.join('; '),
    blockerTone: broken.length > 0 ? 'error' : 'plain',
    tokens: '',
    blockerList: broken,
  };
}

function attemptText(a: PlanAttempt): string {
  const how = a.outcome === 'failed' && a.failure ? `failed (${a.failure})` : a.outcome;
  return `#${a.n} ${how} ${clockTime(a.startedAtMs)}${a.error ? ` — ${oneLine(a.error, 160)}` : ''}`;
}

function actionRow(run: PlanRun, action: PlanRunAction, nowMs: number): OpsRow {
  const last = action.attempts.at(-1);
  const prompt = run.plan.actions.find((a) => a.id === action.id)?.prompt ?? '';
  const detail = actionDetail(action, nowMs);
  const ended = action.endedAtMs !== null ? `${relativeTime(action.endedAtMs, nowMs)} ` : '';
  const worktree = action.branch ? ` · ${action.branch}${action.diffstat ? ` (${action.diffstat})` : ''}` : '';
  const error = action.status === 'completed' || action.status === 'skipped' ? '' : (action.error ?? '');
  return {
    key: `plan:${run.planId}:${action.id}`,
    kind: 'action',
    workspace: action.workspace,
    // The act keys and Enter work on the thread of its last attempt.
    threadId: last?.threadId ?? null,
    status: ACTION_STATUS[action.status],
    name: `  ${action.id} · ${action.workspace}`,
    task: oneLine(prompt, 200),
    last: last ? `${ended}${attemptText(last)}${worktree}` : detail,
    next: detail || (action.status === 'completed' && action.finalMessage ? `replied: ${oneLine(action.finalMessage, 160)}` : ''),
    blockers: error ? oneLine(error, 200) : '',
    blockerTone: error ? 'error' : 'plain',
    tokens: action.tokens ? `${formatTokens(action.tokens)} tok` : '',
    blockerList: error ? [oneLine(error, 200)] : [],
    // The strip lists every attempt, and where its worktree is.
    details: [
      ...action.attempts.map((a) => ({ label: 'try', text: attemptText(a), tone: a.outcome === 'failed' ? ('error' as const) : ('plain' as const) })),
      ...(action.worktree ? [{ label: 'tree', text: `${action.worktree}${action.diffstat ? ` · ${action.diffstat}` : ''}`, tone: 'plain' as const }] : []),
    ],
  };
}
