import type { ThreadDiff } from '../core/api/supervisorApi.js';
import type { DocLine } from './document.js';
import type { Tone } from './viewModel.js';

function toneOf(line: string): { tone?: Tone; bold?: boolean } {
  if (/^(diff --git|index |--- |\+\+\+ |new file|deleted file|rename |similarity )/.test(line)) return { bold: true };
  if (line.startsWith('@@')) return { tone: 'info' };
  if (line.startsWith('+')) return { tone: 'ok' };
  if (line.startsWith('-')) return { tone: 'error' };
  return {};
}

/** The files changed (lines added and removed), then the unified diff coloured as `git diff` colours it. */
export function diffDocument(diff: ThreadDiff): DocLine[] {
  if (diff.files.length === 0 && diff.diff.trim() === '') return [{ text: 'no changes in the last turn: its diff holds the edits Codex made itself (apply_patch), not files written by shell commands', tone: 'dim' }];
  const added = diff.files.reduce((n, f) => n + f.added, 0);
  const removed = diff.files.reduce((n, f) => n + f.removed, 0);
  const lines: DocLine[] = [
    { text: `${diff.files.length} file${diff.files.length === 1 ? '' : 's'} changed, +${added} −${removed}${diff.turnId ? ` · turn ${diff.turnId}` : ''}`, bold: true },
    ...diff.files.map((f): DocLine => ({ text: `${`+${f.added}`.padStart(6)} ${`−${f.removed}`.padStart(6)}  ${f.path}`, hang: 16 })),
    { text: '' },
  ];
  for (const line of diff.diff.replace(/\n$/, '').split('\n')) lines.push({ text: line, ...toneOf(line) });
  return lines;
}
