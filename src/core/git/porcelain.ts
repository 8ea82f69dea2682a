/** Parsers of git's machine-readable outputs (`--porcelain`, `-z`): pure, for tests by table. */

export interface WorktreeEntry {
  path: string;
  /** The commit checked out; null for a repository without commits. */
  head: string | null;
  /** `refs/heads/…` stripped; null when detached or bare. */
  branch: string | null;
  bare: boolean;
  detached: boolean;
  /** `git worktree prune` would drop it: its directory is gone. */
  prunable: boolean;
  locked: boolean;
}

/** `git worktree list --porcelain -z`: records of NUL-terminated `key value` lines, an empty line between records. */
export function parseWorktreeList(text: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | null = null;
  for (const line of text.split('\0')) {
    if (line === '') {
      if (current) entries.push(current);
      current = null;
      continue;
    }
    const space = line.indexOf(' ');
    const key = space === -1 ? line : line.slice(0, space);
    const value = space === -1 ? '' : line.slice(space + 1);
    if (key === 'worktree') {
      if (current) entries.push(current);
      current = { path: value, head: null, branch: null, bare: false, detached: false, prunable: false, locked: false };
      continue;
    }
    if (!current) continue;
    if (key === 'HEAD') current.head = /^0+$/.test(value) ? null : value;
    else if (key === 'branch') current.branch = value.startsWith('refs/heads/') ? value.slice('refs/heads/'.length) : value;
    else if (key === 'bare') current.bare = true;
    else if (key === 'detached') current.detached = true;
    else if (key === 'prunable') current.prunable = true;
    else if (key === 'locked') current.locked = true;
  }
  if (current) entries.push(current);
  return entries;
}

export interface NumstatEntry {
  path: string;
  /** null for a binary file (git prints "-"). */
  insertions: number | null;
  deletions: number | null;
}

/** `git diff --numstat -z --no-renames`: `ADDED\tDELETED\tPATH\0` per file. */
export function parseNumstat(text: string): NumstatEntry[] {
  const entries: NumstatEntry[] = [];
  for (const record of text.split('\0')) {
    if (record === '') continue;
    const match = /^(-|\d+)\t(-|\d+)\t([\s\S]*)$/.exec(record);
    if (!match) continue;
    entries.push({
      path: match[3]!,
      insertions: match[1] === '-' ? null : Number(match[1]),
      deletions: match[2] === '-' ? null : Number(match[2]),
    });
  }
  return entries;
}

export interface StatusEntry {
  /** The two status letters (`XY`), e.g. ` M`, `??`, `A `. */
  code: string;
  path: string;
}

/** `git status --porcelain=v1 -z`: `XY PATH\0`, a rename or copy followed by its source path. */
export function parseStatus(text: string): StatusEntry[] {
  const entries: StatusEntry[] = [];
  const records = text.split('\0');
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    if (record.length < 4) continue;
    const code = record.slice(0, 2);
    entries.push({ code, path: record.slice(3) });
    if (code.includes('R') || code.includes('C')) i++;
  }
  return entries;
}

/** `git ls-files -z`: NUL-separated paths. */
export function parsePathList(text: string): string[] {
  return text.split('\0').filter((p) => p !== '');
}
