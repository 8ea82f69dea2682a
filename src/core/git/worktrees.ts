import { existsSync, readdirSync, readFileSync, realpathSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { SupervisorError } from '../errors.js';
import type { HostSpec, WorkspaceSpec } from '../hosts/hostSpec.js';
import { writeFileAtomic } from '../persistence/atomicWrite.js';
import { worktreeDiffstat, type Diffstat } from './diffstat.js';
import { git } from './gitCommand.js';
import { parseStatus, parseWorktreeList, type StatusEntry, type WorktreeEntry } from './porcelain.js';

/**
 * A git worktree per plan action, under `<home>/worktrees/<plan>/<action>`, on its own branch
 * (`cms/<plan>/<action>` unless the plan names one), started from the workspace's HEAD. The
 * workspace's own checkout is never touched: no checkout, no stash, no index refresh. Beside
 * each worktree `<action>.json` keeps where it came from (workspace, base commit) for `list`.
 */

/** Plan and action ids become path components: the plan format's pattern, without "." and "..". */
const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface CreateWorktreeRequest {
  home: string;
  /** The workspace's directory (local); may be a subdirectory of its repository. */
  workspacePath: string;
  /** The workspace's name, kept for `worktree list`. */
  workspace?: string;
  planId: string;
  actionId: string;
  /** The new branch; default `cms/<planId>/<actionId>`. */
  branch?: string;
}

export interface PreparedWorktree {
  /** The worktree's root directory. */
  path: string;
  /** Where the action's thread runs: the worktree's copy of the workspace directory (`path` itself unless the workspace is a subdirectory of its repository). */
  cwd: string;
  branch: string;
  /** HEAD of the workspace when the worktree was made: the diffstat's base. */
  baseCommit: string;
  /** An existing worktree of this plan action was taken again (a re-run). */
  reused: boolean;
  /** Facts worth saying (the workspace had uncommitted changes, which the worktree does not have). */
  notes: string[];
}

const MetaSchema = z.object({
  version: z.literal(1),
  planId: z.string(),
  actionId: z.string(),
  workspace: z.string().nullable(),
  workspacePath: z.string(),
  repoRoot: z.string(),
  path: z.string(),
  cwd: z.string(),
  branch: z.string(),
  baseCommit: z.string(),
});
type WorktreeMeta = z.infer<typeof MetaSchema>;

export function worktreesRoot(home: string): string {
  return join(resolve(home), 'worktrees');
}

export function worktreePath(home: string, planId: string, actionId: string): string {
  return join(worktreesRoot(home), planId, actionId);
}

export function defaultBranch(planId: string, actionId: string): string {
  return `cms/${planId}/${actionId}`;
}

function metaPath(home: string, planId: string, actionId: string): string {
  return join(worktreesRoot(home), planId, `${actionId}.json`);
}

function checkId(kind: 'plan' | 'action', id: string): void {
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') {
    throw new SupervisorError(`"${id}" cannot name a worktree directory: a ${kind} id for a worktree uses 1 to 64 letters, digits, ".", "_" or "-" (not "." or "..")`, 2);
  }
}

/** The repository of a local workspace: its top level and the workspace's place in it. */
async function repositoryOf(workspacePath: string, label: string): Promise<{ root: string; prefix: string; head: string }> {
  if (!existsSync(workspacePath)) throw new SupervisorError(`${label} (${workspacePath}) does not exist, so no worktree can be made of it`, 2);
  const top = await git(workspacePath, ['rev-parse', '--show-toplevel', '--show-prefix']);
  if (!top.ok) {
    throw new SupervisorError(
      `${label} (${workspacePath}) is not a git repository, so an action with "worktree" cannot run there: run \`git init\` and commit there, or remove "worktree" from the action (git: ${top.error})`,
      2,
    );
  }
  const [root = '', prefix = ''] = top.stdout.split('\n');
  const head = await git(workspacePath, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  if (!head.ok || head.stdout.trim() === '') {
    throw new SupervisorError(`${label} (${root}) has no commit yet, and a worktree starts from HEAD: commit once there, or remove "worktree" from the action`, 2);
  }
  return { root, prefix, head: head.stdout.trim() };
}

async function worktreeEntries(repoDir: string): Promise<WorktreeEntry[]> {
  const list = await git(repoDir, ['worktree', 'list', '--porcelain', '-z']);
  if (!list.ok) throw new SupervisorError(`cannot list the worktrees of ${repoDir}: ${list.error}`);
  return parseWorktreeList(list.stdout);
}

function samePath(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}

/**
 * `git worktree add -b BRANCH <home>/worktrees/PLAN/ACTION HEAD` in the workspace's repository.
 * Idempotent for one plan action: its worktree, still on its branch, is taken again (`reused`).
 * Refused (exit 2) with what to do: not a git repository, no commit yet, the branch already
 * exists or is checked out elsewhere, the directory taken by something else.
 */
export async function createWorktree(req: CreateWorktreeRequest): Promise<PreparedWorktree> {
  checkId('plan', req.planId);
  checkId('action', req.actionId);
  const label = req.workspace ? `workspace "${req.workspace}"` : 'the workspace';
  const branch = req.branch ?? defaultBranch(req.planId, req.actionId);
  const path = worktreePath(req.home, req.planId, req.actionId);
  const repo = await repositoryOf(req.workspacePath, label);
  const format = await git(repo.root, ['check-ref-format', '--branch', branch]);
  if (!format.ok) throw new SupervisorError(`"${branch}" is not a valid git branch name (git check-ref-format): name another branch in the action's "worktree"`, 2);

  const entries = await worktreeEntries(repo.root);
  const atPath = entries.find((e) => samePath(e.path, path));
  const onBranch = entries.find((e) => e.branch === branch);
  if (atPath && atPath.branch === branch && !atPath.prunable) {
    const meta = readMeta(req.home, req.planId, req.actionId);
    const baseCommit = meta?.baseCommit ?? (await mergeBase(repo.root, branch, repo.head));
    return { path, cwd: resolve(path, repo.prefix), branch, baseCommit, reused: true, notes: [`reused the worktree ${path} (branch ${branch}) made by an earlier run`] };
  }
  if (atPath && !atPath.prunable) {
    throw new SupervisorError(`${path} is already a worktree of ${repo.root} on ${atPath.branch ? `branch ${atPath.branch}` : 'a detached HEAD'}, not ${branch}: remove it (\`cm-supervisor worktree remove ${req.planId}/${req.actionId}\`) or name another branch`, 2);
  }
  if (onBranch) {
    throw new SupervisorError(`branch ${branch} is already checked out at ${onBranch.path}: git lets a branch live in one worktree only; remove that worktree or name another branch in the action's "worktree"`, 2);
  }
  const exists = await git(repo.root, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
  if (exists.ok) {
    throw new SupervisorError(`branch ${branch} already exists in ${repo.root}: a worktree gets a new branch; delete it (\`git -C ${repo.root} branch -D ${branch}\`) or name another branch in the action's "worktree"`, 2);
  }
  if (existsSync(path) && (!isDir(path) || readdirSync(path).length > 0)) {
    throw new SupervisorError(`${path} exists and is not a worktree of ${repo.root}: move it away or remove it (\`cm-supervisor worktree remove ${path} --force\`)`, 2);
  }

  const notes: string[] = [];
  const status = await git(repo.root, ['status', '--porcelain=v1', '-z', '--untracked-files=no']);
  const dirty = status.ok ? parseStatus(status.stdout) : [];
  if (dirty.length > 0) {
    notes.push(`${label} has uncommitted changes (${dirty.length} file${dirty.length === 1 ? '' : 's'}); the worktree starts from HEAD ${repo.head.slice(0, 12)} without them, and they stay where they are`);
  }
  const add = await git(repo.root, ['worktree', 'add', '-b', branch, path, repo.head]);
  if (!add.ok) throw new SupervisorError(`cannot create the worktree ${path} of ${repo.root}: ${add.error}`);
  const meta: WorktreeMeta = {
    version: 1,
    planId: req.planId,
    actionId: req.actionId,
    workspace: req.workspace ?? null,
    workspacePath: req.workspacePath,
    repoRoot: repo.root,
    path,
    cwd: resolve(path, repo.prefix),
    branch,
    baseCommit: repo.head,
  };
  writeFileAtomic(metaPath(req.home, req.planId, req.actionId), `${JSON.stringify(meta, null, 2)}\n`);
  return { path, cwd: meta.cwd, branch, baseCommit: repo.head, reused: false, notes };
}

async function mergeBase(repoDir: string, branch: string, head: string): Promise<string> {
  const base = await git(repoDir, ['merge-base', branch, head]);
  return base.ok ? base.stdout.trim() : head;
}

function readMeta(home: string, planId: string, actionId: string): WorktreeMeta | null {
  try {
    const parsed = MetaSchema.safeParse(JSON.parse(readFileSync(metaPath(home, planId, actionId), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export interface WorktreeInfo {
  planId: string;
  actionId: string;
  /** The configured workspace it belongs to; null when none of them has it (removed from the config, or the meta file lost). */
  workspace: string | null;
  /** The repository that registered it; null when unknown. */
  repoRoot: string | null;
  path: string;
  branch: string | null;
  baseCommit: string | null;
  /** Its directory exists. */
  exists: boolean;
  /** `git worktree list` of its repository lists it. */
  registered: boolean;
  /** Uncommitted or untracked entries (`git status`); null when it could not be read. */
  dirty: StatusEntry[] | null;
  diffstat: Diffstat | null;
  /** Why some of the above is unknown. */
  problem: string | null;
}

export interface WorkspaceRef {
  name: string;
  path: string;
}

/**
 * Every worktree under `<home>/worktrees/*` (directories and meta files) and every worktree the
 * given local workspaces' repositories register there, with branch, clean or dirty, and the
 * diffstat since its base.
 */
export async function listWorktrees(home: string, workspaces: readonly WorkspaceRef[]): Promise<WorktreeInfo[]> {
  const root = worktreesRoot(home);
  const found = new Map<string, WorktreeInfo>();
  const blank = (planId: string, actionId: string): WorktreeInfo => ({
    planId,
    actionId,
    workspace: null,
    repoRoot: null,
    path: worktreePath(home, planId, actionId),
    branch: null,
    baseCommit: null,
    exists: false,
    registered: false,
    dirty: null,
    diffstat: null,
    problem: null,
  });
  const at = (planId: string, actionId: string): WorktreeInfo => {
    const key = `${planId}/${actionId}`;
    let info = found.get(key);
    if (!info) found.set(key, (info = blank(planId, actionId)));
    return info;
  };

  for (const planId of safeDir(root)) {
    const planDir = join(root, planId);
    if (!isDir(planDir)) continue;
    for (const name of safeDir(planDir)) {
      if (name.endsWith('.json')) {
        const actionId = name.slice(0, -'.json'.length);
        const meta = readMeta(home, planId, actionId);
        if (!meta) continue;
        const info = at(planId, actionId);
        info.workspace = meta.workspace;
        info.repoRoot = meta.repoRoot;
        info.branch = meta.branch;
        info.baseCommit = meta.baseCommit;
      } else if (isDir(join(planDir, name))) {
        at(planId, name).exists = true;
      }
    }
  }

  const repos = new Map<string, string[]>();
  for (const ws of workspaces) {
    const top = await git(ws.path, ['rev-parse', '--show-toplevel']);
    if (!top.ok) continue;
    const repoRoot = top.stdout.trim();
    repos.set(repoRoot, [...(repos.get(repoRoot) ?? []), ws.name]);
  }
  for (const [repoRoot, names] of repos) {
    const entries = await worktreeEntries(repoRoot).catch(() => []);
    for (const entry of entries) {
      const rel = relative(root, entry.path);
      const parts = rel.split(sep);
      if (rel.startsWith('..') || parts.length !== 2) continue;
      const info = at(parts[0]!, parts[1]!);
      info.registered = true;
      info.repoRoot ??= repoRoot;
      info.branch = entry.branch ?? info.branch;
      if (info.workspace === null || !names.includes(info.workspace)) info.workspace = names[0] ?? null;
      info.exists = info.exists || (!entry.prunable && existsSync(entry.path));
    }
  }

  const list = [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const info of list) await describe(info);
  return list;
}

async function describe(info: WorktreeInfo): Promise<void> {
  if (!info.exists) {
    info.problem = info.registered ? 'its directory is gone (git still lists it: `worktree remove` prunes it)' : 'its directory is gone';
    return;
  }
  const status = await git(info.path, ['status', '--porcelain=v1', '-z']);
  if (!status.ok) {
    info.problem = `not a readable git worktree: ${status.error}`;
    return;
  }
  info.dirty = parseStatus(status.stdout);
  if (info.baseCommit === null && info.repoRoot !== null && info.branch !== null) {
    const base = await git(info.repoRoot, ['merge-base', info.branch, 'HEAD']);
    if (base.ok) info.baseCommit = base.stdout.trim();
  }
  if (info.baseCommit !== null) {
    info.diffstat = await worktreeDiffstat(info.path, info.baseCommit).catch((error: unknown) => {
      info.problem = error instanceof Error ? error.message : String(error);
      return null;
    });
  }
}

function safeDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export interface RemoveOptions {
  /** Remove a worktree with uncommitted or untracked files (they are lost). */
  force?: boolean;
  /** Delete its branch too (`git branch -D`: its commits are then reachable only from the reflog). */
  deleteBranch?: boolean;
}

export interface RemovedWorktree {
  planId: string;
  actionId: string;
  path: string;
  branch: string | null;
  branchDeleted: boolean;
}

/**
 * `git worktree remove` of one listed worktree, its meta file and an emptied plan directory.
 * A dirty worktree is refused (exit 1) naming what is dirty, unless `force`.
 */
export async function removeWorktree(home: string, info: WorktreeInfo, options: RemoveOptions = {}): Promise<RemovedWorktree> {
  if (!options.force && info.dirty && info.dirty.length > 0) {
    const shown = info.dirty.slice(0, 10).map((e) => `${e.code.trim() || '?'} ${e.path}`);
    const more = info.dirty.length > shown.length ? `, and ${info.dirty.length - shown.length} more` : '';
    throw new SupervisorError(`the worktree ${info.planId}/${info.actionId} (${info.path}) has uncommitted changes: ${shown.join(', ')}${more}; commit them on ${info.branch ?? 'its branch'}, or remove it with --force (they are lost)`);
  }
  if (info.registered && info.repoRoot) {
    const args = ['worktree', 'remove', ...(options.force ? ['--force'] : []), info.path];
    const removed = info.exists ? await git(info.repoRoot, args) : await git(info.repoRoot, ['worktree', 'prune']);
    if (!removed.ok) throw new SupervisorError(`cannot remove the worktree ${info.path}: ${removed.error}`);
  } else if (info.exists) {
    if (!options.force) {
      throw new SupervisorError(`${info.path} is not a worktree any configured workspace's repository lists (its workspace was removed, or it was moved): remove it with --force to delete the directory`);
    }
    rmSync(info.path, { recursive: true, force: true });
  }
  let branchDeleted = false;
  if (options.deleteBranch && info.branch && info.repoRoot) {
    const deleted = await git(info.repoRoot, ['branch', '-D', info.branch]);
    if (!deleted.ok) throw new SupervisorError(`removed the worktree ${info.path}, but not its branch ${info.branch}: ${deleted.error}`);
    branchDeleted = true;
  }
  rmSync(metaPath(home, info.planId, info.actionId), { force: true });
  try {
    rmdirSync(join(worktreesRoot(home), info.planId));
  } catch {
    // Other actions' worktrees are still there.
  }
  return { planId: info.planId, actionId: info.actionId, path: info.path, branch: info.branch, branchDeleted };
}

/** The listed worktrees a `worktree remove` argument names: `PLAN/ACTION` or a worktree's path; null when it names none. */
export function selectWorktree(list: readonly WorktreeInfo[], ref: string, cwd: string): WorktreeInfo | null {
  const byId = list.find((w) => `${w.planId}/${w.actionId}` === ref);
  if (byId) return byId;
  const path = resolve(cwd, ref);
  return list.find((w) => samePath(w.path, path)) ?? null;
}

/** What the plan scheduler asks of worktrees: one before an action with `worktree` starts, one when it ends. */
export interface WorktreeManager {
  /** A worktree for this action (made, or the one of an earlier run); its `cwd` is the thread's. Refuses ssh workspaces (exit 2). */
  prepare(request: { workspace: WorkspaceSpec; host: Pick<HostSpec, 'name' | 'kind'>; planId: string; actionId: string; branch?: string }): Promise<PreparedWorktree>;
  /** What the action changed there since the worktree was made, untracked files included. */
  diffstat(worktree: Pick<PreparedWorktree, 'path' | 'baseCommit'>): Promise<Diffstat>;
}

export function worktreeManager(home: string): WorktreeManager {
  return {
    async prepare({ workspace, host, planId, actionId, branch }) {
      if (host.kind === 'ssh') {
        throw new SupervisorError(
          `workspace "${workspace.name}" is on the ssh host "${host.name}": worktrees are made only for workspaces on this machine for now; remove "worktree" from the action, or run it on a local clone`,
          2,
        );
      }
      return createWorktree({ home, workspacePath: workspace.path, workspace: workspace.name, planId, actionId, ...(branch === undefined ? {} : { branch }) });
    },
    diffstat: ({ path, baseCommit }) => worktreeDiffstat(path, baseCommit),
  };
}
