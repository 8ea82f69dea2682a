import type { ChalkInstance } from 'chalk';
import type { ThreadDiff, Transcript, TranscriptItem } from '../../core/api/supervisorApi.js';
import { turnDuration } from '../../core/state/transcript.js';
import { formatDuration } from '../../core/util/time.js';
import { escapeControl, oneLine, shortThreadId } from '../../core/util/text.js';

/** One glyph per item type, so a transcript reads at a glance (`·` for types without one). */
const GLYPHS: Record<string, string> = {
  userMessage: '›',
  agentMessage: '●',
  reasoning: '∴',
  plan: '☰',
  commandExecution: '▸',
  fileChange: '±',
  mcpToolCall: '⚙',
  dynamicToolCall: '⚙',
  webSearch: '⌕',
};

const INDENT = '    ';

function itemLines(item: TranscriptItem): string {
  const glyph = GLYPHS[item.type] ?? '·';
  // Items without text of their own are named by their type; failed or declined ones say so.
  const text = item.text === '' ? `(${item.type})` : item.text;
  const status = item.status === 'failed' || item.status === 'declined' ? ` [${item.status}]` : '';
  const [first, ...rest] = `${text}${status}`.split('\n');
  return [`  ${glyph} ${first}`, ...rest.map((line) => `${INDENT}${line}`)].join('\n');
}

/** `thread show`: a header for the thread, then each turn's header and its items, oldest first. */
export function transcriptText(t: Transcript): string {
  const lines = [`thread ${t.threadId}  ${t.workspace}: ${oneLine(t.title, 100)}`];
  if (t.turns.length === 0) lines.push('', 'no turns yet');
  t.turns.forEach((turn, index) => {
    const at = turn.startedAtMs === null ? '' : `  ${new Date(turn.startedAtMs).toISOString().slice(0, 19).replace('T', ' ')}`;
    const ms = turnDuration(turn);
    const took = ms !== null ? ` (${formatDuration(ms)})` : '';
    const error = turn.error ? `: ${turn.error}` : '';
    lines.push('', `── turn ${index + 1}  ${turn.status}${error}${at}${took}  ${shortThreadId(turn.id)}`);
    for (const item of turn.items) lines.push(itemLines(item));
  });
  return `${lines.join('\n')}\n`;
}

/**
 * `diff`: the files with their added/removed lines, then the unified diff; `paint` colours it
 * (a chalk of level 0 leaves it plain). The diff is agent-written text: its controls are
 * escaped here, before our own colour codes are added.
 */
export function diffText(d: ThreadDiff, paint: ChalkInstance): string {
  if (d.turnId === null || d.diff === '') return `thread ${shortThreadId(d.threadId)}: its latest turn changed no files\n`;
  const width = Math.max(...d.files.map((f) => String(f.added).length + String(f.removed).length));
  const files = d.files.map((f) => {
    const counts = `${paint.green(`+${f.added}`)} ${paint.red(`-${f.removed}`)}`;
    return `  ${counts}${' '.repeat(width - String(f.added).length - String(f.removed).length)}  ${escapeControl(f.path)}`;
  });
  const head = `turn ${shortThreadId(d.turnId)}: ${d.files.length} file${d.files.length === 1 ? '' : 's'} changed`;
  const body = escapeControl(d.diff)
    .split('\n')
    .map((line) => {
      if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff --git')) return paint.bold(line);
      if (line.startsWith('@@')) return paint.cyan(line);
      if (line.startsWith('+')) return paint.green(line);
      if (line.startsWith('-')) return paint.red(line);
      return line;
    })
    .join('\n');
  return `${head}\n${files.join('\n')}\n\n${body}${body.endsWith('\n') ? '' : '\n'}`;
}
