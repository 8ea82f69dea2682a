import { ConfigStore, hostSpecs, workspaceSpecs } from '../../core/config/config.js';
import { SupervisorError } from '../../core/errors.js';
import { diffstatSummary } from '../../core/git/diffstat.js';
import { listWorktrees, removeWorktree, selectWorktree, worktreesRoot, type RemovedWorktree, type WorktreeInfo, type WorkspaceRef } from '../../core/git/worktrees.js';
import type { GlobalOptions } from '../globalOptions.js';
import type { CliIo } from '../io.js';

export interface WorktreeRemoveCliOptions {
  plan?: string;
  all?: boolean;
  force?: boolean;
  deleteBranch?: boolean;
  json?: boolean;
}

/** The configured workspaces git can be run in from here: those of ssh hosts are not (their worktrees are not made either). */
function localWorkspaces(globals: GlobalOptions): WorkspaceRef[] {
  const config = new ConfigStore(globals.home).read();
  const ssh = new Set(hostSpecs(config).filter((h) => h.kind === 'ssh').map((h) => h.name));
  return workspaceSpecs(config)
    .filter((w) => !ssh.has(w.host))
    .map((w) => ({ name: w.name, path: w.path }));
}

function state(w: WorktreeInfo): 'clean' | 'dirty' | 'gone' | 'unknown' {
  if (!w.exists) return 'gone';
  if (w.dirty === null) return 'unknown';
  return w.dirty.length === 0 ? 'clean' : 'dirty';
}

function asJson(w: WorktreeInfo) {
  return {
    plan: w.planId,
    action: w.actionId,
    workspace: w.workspace,
    path: w.path,
    branch: w.branch,
    baseCommit: w.baseCommit,
    state: state(w),
    dirty: w.dirty?.map((e) => e.path) ?? null,
    diffstat: w.diffstat ? { files: w.diffstat.files, insertions: w.diffstat.insertions, deletions: w.diffstat.deletions, perFile: w.diffstat.perFile } : null,
    problem: w.problem,
  };
}

/** `worktree list`: the plan actions' worktrees of this home. */
export async function worktreeList(globals: GlobalOptions, opts: { json?: boolean }, io: CliIo): Promise<number> {
  const list = await listWorktrees(globals.home, localWorkspaces(globals));
  if (opts.json) {
    io.out(`${JSON.stringify(list.map(asJson), null, 2)}\n`);
    return 0;
  }
  if (list.length === 0) {
    io.out(`no worktrees under ${worktreesRoot(globals.home)}: plan actions with "worktree" make them\n`);
    return 0;
  }
  const rows = list.map((w) => {
    const s = state(w);
    const stateText = s === 'dirty' ? `dirty (${w.dirty!.length})` : s;
    return [`${w.planId}/${w.actionId}`, w.workspace ?? '?', w.branch ?? '?', stateText, w.diffstat ? diffstatSummary(w.diffstat) : (w.problem ?? '?'), w.path];
  });
  const header = ['WORKTREE', 'WORKSPACE', 'BRANCH', 'STATE', 'CHANGES', 'PATH'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  io.out(`${[line(header), ...rows.map(line)].join('\n')}\n`);
  return 0;
}

/** `worktree remove PLAN/ACTION|PATH | --plan PLAN | --all`: exit 1 when one was refused (dirty without --force). */
export async function worktreeRemove(globals: GlobalOptions, ref: string | undefined, opts: WorktreeRemoveCliOptions, io: CliIo): Promise<number> {
  const chosen = [ref !== undefined, opts.plan !== undefined, opts.all === true].filter(Boolean).length;
  if (chosen !== 1) {
    throw new SupervisorError('name what to remove: one worktree (PLAN/ACTION or its path), --plan PLAN, or --all (`cm-supervisor worktree list` shows them)', 2);
  }
  const list = await listWorktrees(globals.home, localWorkspaces(globals));
  const known = list.length === 0 ? 'there are none' : `known: ${list.map((w) => `${w.planId}/${w.actionId}`).join(', ')}`;
  let selected: WorktreeInfo[];
  if (ref !== undefined) {
    const one = selectWorktree(list, ref, process.cwd());
    if (!one) throw new SupervisorError(`no worktree "${ref}" under ${worktreesRoot(globals.home)}; ${known}`, 2);
    selected = [one];
  } else if (opts.plan !== undefined) {
    selected = list.filter((w) => w.planId === opts.plan);
    if (selected.length === 0) throw new SupervisorError(`plan "${opts.plan}" has no worktree under ${worktreesRoot(globals.home)}; ${known}`, 2);
  } else {
    selected = list;
  }

  const removed: RemovedWorktree[] = [];
  const refused: { plan: string; action: string; path: string; reason: string }[] = [];
  for (const w of selected) {
    try {
      removed.push(await removeWorktree(globals.home, w, { force: opts.force, deleteBranch: opts.deleteBranch }));
    } catch (error) {
      if (!(error instanceof SupervisorError)) throw error;
      refused.push({ plan: w.planId, action: w.actionId, path: w.path, reason: error.message });
    }
  }
  if (opts.json) {
    io.out(`${JSON.stringify({ removed: removed.map((r) => ({ plan: r.planId, action: r.actionId, path: r.path, branch: r.branch, branchDeleted: r.branchDeleted })), refused }, null, 2)}\n`);
  } else {
    if (selected.length === 0) io.out(`no worktrees under ${worktreesRoot(globals.home)}\n`);
    for (const r of removed) {
      const branch = r.branch === null ? '' : r.branchDeleted ? `, branch ${r.branch} deleted` : `, branch ${r.branch} kept`;
      io.out(`removed worktree ${r.planId}/${r.actionId} (${r.path})${branch}\n`);
    }
    for (const r of refused) io.err(`cm-supervisor: ${r.reason}\n`);
  }
  return refused.length > 0 ? 1 : 0;
}
