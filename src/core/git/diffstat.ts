import { lstat, open } from 'node:fs/promises';
import { join } from 'node:path';
import { SupervisorError } from '../errors.js';
import { git } from './gitCommand.js';
import { parseNumstat, parsePathList } from './porcelain.js';

export interface DiffstatFile {
  path: string;
  /** null for a binary file. */
  insertions: number | null;
  deletions: number | null;
  /** A new file git does not track yet. */
  untracked: boolean;
}

export interface Diffstat {
  files: number;
  insertions: number;
  deletions: number;
  perFile: DiffstatFile[];
  /** `path | +3 -1` per file, then the summary line, as `git diff --stat` words it. */
  text: string;
}

/** Untracked files larger than this are counted as files, their lines not read. */
const MAX_COUNTED_BYTES = 8 * 1024 * 1024;

/**
 * What an action changed in its worktree since `baseCommit`: commits made there and uncommitted
 * edits (`git diff --numstat BASE`, which compares the working tree), plus new files git does
 * not track yet (`ls-files --others --exclude-standard`, their lines counted here). Read only:
 * no `git add --intent-to-add`, so the agent's index stays as it left it.
 */
export async function worktreeDiffstat(path: string, baseCommit: string): Promise<Diffstat> {
  const [tracked, others] = await Promise.all([
    git(path, ['diff', '--numstat', '-z', '--no-renames', baseCommit, '--']),
    git(path, ['ls-files', '-z', '--others', '--exclude-standard']),
  ]);
  if (!tracked.ok) throw new SupervisorError(`cannot read the diff of the worktree ${path} since ${baseCommit}: ${tracked.error}`);
  if (!others.ok) throw new SupervisorError(`cannot list the new files of the worktree ${path}: ${others.error}`);
  const perFile: DiffstatFile[] = parseNumstat(tracked.stdout).map((e) => ({ ...e, untracked: false }));
  for (const file of parsePathList(others.stdout)) {
    const lines = await countLines(join(path, file));
    perFile.push({ path: file, insertions: lines, deletions: lines === null ? null : 0, untracked: true });
  }
  perFile.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return summarize(perFile);
}

export function summarize(perFile: DiffstatFile[]): Diffstat {
  const insertions = perFile.reduce((sum, f) => sum + (f.insertions ?? 0), 0);
  const deletions = perFile.reduce((sum, f) => sum + (f.deletions ?? 0), 0);
  return { files: perFile.length, insertions, deletions, perFile, text: diffstatText(perFile, insertions, deletions) };
}

function diffstatText(perFile: DiffstatFile[], insertions: number, deletions: number): string {
  if (perFile.length === 0) return 'no changes';
  const width = Math.max(...perFile.map((f) => f.path.length));
  const lines = perFile.map((f) => {
    const counts = f.insertions === null ? 'binary' : `+${f.insertions} -${f.deletions ?? 0}`;
    return `${f.path.padEnd(width)} | ${counts}${f.untracked ? ' (new, untracked)' : ''}`;
  });
  return [...lines, diffstatSummary({ files: perFile.length, insertions, deletions })].join('\n');
}

/** `3 files changed, 10 insertions(+), 2 deletions(-)`. */
export function diffstatSummary(stat: { files: number; insertions: number; deletions: number }): string {
  if (stat.files === 0) return 'no changes';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${plural(stat.files, 'file')} changed, ${plural(stat.insertions, 'insertion')}(+), ${plural(stat.deletions, 'deletion')}(-)`;
}

/** Lines of a text file as git counts them (a last line without newline counts); null when binary (a NUL in its first 8000 bytes, git's rule) or too large. */
async function countLines(file: string): Promise<number | null> {
  const info = await lstat(file).catch(() => null);
  // git stores a symlink as one line: its target.
  if (info?.isSymbolicLink()) return 1;
  if (!info?.isFile() || info.size > MAX_COUNTED_BYTES) return null;
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return null;
  try {
    const size = info.size;
    if (size === 0) return 0;
    const data = Buffer.alloc(size);
    await handle.read(data, 0, size, 0);
    if (data.subarray(0, 8000).includes(0)) return null;
    let lines = 0;
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) lines++;
    return data[size - 1] === 10 ? lines : lines + 1;
  } finally {
    await handle.close();
  }
}
