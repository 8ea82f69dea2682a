import type { ActionDispatchResult } from '../../core/api/supervisorApi.js';
import type { FinalActionResult } from '../../core/dispatch/awaitCompletion.js';
import { worktreeDetail } from '../../core/dispatch/awaitPlanRun.js';
import { escapeControl, oneLine, shortThreadId } from '../../core/util/text.js';
import { formatDuration, relativeTime } from '../../core/util/time.js';
import type { CliIo } from '../io.js';

/** A result as the tables take it: when the ledger says it was dispatched before, also when. */
export type ResultRow = Pick<FinalActionResult, 'id' | 'workspace' | 'status' | 'threadId' | 'turnId' | 'error'> &
  Partial<Pick<FinalActionResult, 'finalMessage' | 'elapsedMs'>> & {
    dispatchedAtMs?: number | null;
    retryable?: boolean;
    attemptCount?: number;
    /** A plan action's worktree branch and diffstat (null without a worktree). */
    branch?: string | null;
    diffstat?: string | null;
  };

/** When a result's action was dispatched before, if the executor said so. */
export function dispatchedAtOf(result: ActionDispatchResult): number | null {
  return result.dispatchedAtMs ?? null;
}

/** Actions of a plan run with no turn now: no time to show. */
const NOT_RUNNING = new Set<FinalActionResult['status']>(['waiting', 'paused', 'blocked']);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
}

/** `rows` (header first) with a last DETAIL column in whatever width they leave; errors cut off there follow in full. */
function withDetails(cells: string[][], details: string[], results: ResultRow[], width: number): string {
  // Escaped before measuring (a directory named by a plan is a workspace's name): the printed
  // escapes are wider than the characters. Escaping again when printed changes nothing.
  const rows = cells.map((r) => r.map(escapeControl));
  const used = rows[0]!.reduce((sum, _, c) => sum + Math.max(...rows.map((r) => r[c]!.length)) + 2, 0);
  const room = Math.max(20, width - used);
  const text = `${table(rows.map((r, i) => [...r, oneLine(details[i]!, room)]))}\n`;
  // An error is what the person has to act on: never only its cut-off start.
  const cut = results.filter((r) => r.error !== null && !r.retryable && oneLine(r.error, room) !== r.error);
  return cut.length === 0 ? text : `${text}\n${cut.map((r) => `${r.id}: ${r.error}`).join('\n')}\n`;
}

function dispatchedWhen(r: ResultRow, nowMs: number): string {
  return typeof r.dispatchedAtMs === 'number' ? `dispatched ${relativeTime(r.dispatchedAtMs, nowMs)}` : 'dispatched before';
}

/** An action whose earlier turn was lost or failed shows why in its status: `interrupted (turn lost: …)`. */
function statusCell(r: ResultRow): string {
  if (r.retryable && r.error) return `${r.status} (${r.error})`;
  // A plan action retried after transient failures or a quota pause: how many turns it took.
  return r.attemptCount !== undefined && r.attemptCount > 1 ? `${r.status} (${r.attemptCount} attempts)` : r.status;
}

/** Under a table with lost or failed earlier turns: the way to send them again. */
function retryHint(results: ResultRow[]): string {
  const n = results.filter((r) => r.retryable).length;
  return n === 0 ? '' : `\n${n === 1 ? 'its turn was' : `${n} turns were`} lost or failed since the earlier dispatch: --retry-failed sends ${n === 1 ? 'it' : 'them'} again\n`;
}

/** A worktree action's detail starts with where its work is: `cms/p/a (1 file changed, …): <final message>`. */
function withWorktree(r: ResultRow, detail: string): string {
  const where = worktreeDetail({ branch: r.branch ?? null, diffstat: r.diffstat ?? null });
  return where && detail ? `${where}: ${detail}` : where || detail;
}

export function resultsTable(results: ResultRow[], width = 120, nowMs = Date.now()): string {
  const rows = [['ACTION', 'WORKSPACE', 'STATUS', 'ELAPSED', 'THREAD']];
  const details = ['DETAIL'];
  for (const r of results) {
    const detail =
      r.status === 'planned'
        ? r.threadId
          ? `would continue thread ${r.threadId}`
          : 'would start a new thread'
        : r.status === 'skipped'
          ? `${dispatchedWhen(r, nowMs)}; --force sends it again`
          : r.retryable
            ? dispatchedWhen(r, nowMs)
            : withWorktree(r, r.error ?? r.finalMessage ?? '');
    const earlier = r.status === 'planned' || r.status === 'skipped' || r.retryable;
    rows.push([r.id, r.workspace, statusCell(r), earlier || NOT_RUNNING.has(r.status) ? '-' : formatDuration(r.elapsedMs ?? 0), r.threadId ? shortThreadId(r.threadId) : '-']);
    details.push(detail);
  }
  return withDetails(rows, details, results, width) + retryHint(results);
}

/** What a dry run found: per action `would dispatch` (and to which thread), `would skip (dispatched …)`, or why it cannot be. */
export function dryRunTable(results: ResultRow[], width = 120, nowMs = Date.now()): string {
  const rows = [['ACTION', 'WORKSPACE', 'STATUS', 'THREAD']];
  const details = ['DETAIL'];
  for (const r of results) {
    const [status, detail] =
      r.status === 'planned'
        ? ['would dispatch', r.threadId ? `would continue thread ${r.threadId}` : 'would start a new thread']
        : r.status === 'skipped'
          ? [`would skip (${dispatchedWhen(r, nowMs)})`, '--force sends it again']
          : r.retryable
            ? [statusCell(r), dispatchedWhen(r, nowMs)]
            : [r.status, r.error ?? ''];
    rows.push([r.id, r.workspace, status, r.threadId ? shortThreadId(r.threadId) : '-']);
    details.push(detail);
  }
  return withDetails(rows, details, results, width) + retryHint(results);
}

function mark(status: FinalActionResult['status']): string {
  if (status === 'dispatched' || status === 'running') return '…';
  if (status === 'waiting' || status === 'paused') return '·';
  return status === 'completed' || status === 'skipped' ? '✓' : '✗';
}

/** One status line per action, redrawn in place on a terminal. */
export class LiveLines {
  private drawn = 0;
  private suspended = 0;

  constructor(private readonly io: Pick<CliIo, 'err' | 'errControl'>) {}

  /** While a prompt is on screen, redrawing would overwrite it. */
  async whileSuspended<T>(work: () => Promise<T>): Promise<T> {
    this.clear();
    this.suspended++;
    try {
      return await work();
    } finally {
      this.suspended--;
    }
  }

  render(results: FinalActionResult[]): void {
    if (this.suspended > 0) return;
    const lines = results.map((r) => `  ${mark(r.status)} ${r.id}  ${r.workspace}  ${r.status === 'dispatched' ? 'running' : r.status}  ${NOT_RUNNING.has(r.status) ? '-' : formatDuration(r.elapsedMs)}${r.detail ? `  ${r.detail}` : ''}`);
    this.clear();
    this.io.err(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  clear(): void {
    if (this.drawn > 0) this.io.errControl(`\u001b[${this.drawn}A\u001b[J`);
    this.drawn = 0;
  }
}
