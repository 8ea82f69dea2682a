import { formatDuration } from '../core/util/time.js';
import type { DocLine } from './document.js';
import { ITEM_GLYPHS } from './itemGlyphs.js';
import type { Tone } from './viewModel.js';

/**
 * A thread's transcript as the supervisor API returns it (its `Transcript`, `TranscriptTurn`
 * and `TranscriptItem`): declared here by shape, so the TUI does not wait on the API's module.
 */
export interface TranscriptItemShape {
  id: string;
  type: string;
  text: string;
  status: string | null;
}
export interface TranscriptTurnShape {
  id: string;
  status: string;
  startedAtMs: number | null;
  completedAtMs: number | null;
  error: string | null;
  items: readonly TranscriptItemShape[];
}
export interface TranscriptShape {
  threadId: string;
  workspace: string;
  title: string;
  turns: readonly TranscriptTurnShape[];
}

const TURN_TONES: Record<string, Tone> = { completed: 'ok', failed: 'error', interrupted: 'error', inProgress: 'info' };

/** The whole thread, turn by turn: a header per turn (status, duration), each item under a glyph, errors in red. */
export function transcriptDocument(transcript: TranscriptShape): DocLine[] {
  const turns = transcript.turns;
  const lines: DocLine[] = [
    { text: transcript.title, bold: true },
    { text: `${transcript.workspace} · ${transcript.threadId} · ${turns.length} turn${turns.length === 1 ? '' : 's'}`, tone: 'dim' },
  ];
  if (turns.length === 0) lines.push({ text: '', tone: 'dim' }, { text: 'no turns yet', tone: 'dim' });
  turns.forEach((turn, i) => {
    const took = turn.startedAtMs !== null && turn.completedAtMs !== null ? ` · ${formatDuration(turn.completedAtMs - turn.startedAtMs)}` : '';
    lines.push({ text: '' }, { text: `── turn ${i + 1} · ${turn.status}${took} · ${turn.id}`, tone: TURN_TONES[turn.status] ?? 'plain', bold: true });
    for (const item of turn.items) {
      const failed = item.status === 'failed' || item.status === 'declined';
      lines.push({
        text: `${ITEM_GLYPHS[item.type] ?? '·'} ${item.text}${item.status && item.status !== 'completed' ? ` [${item.status}]` : ''}`,
        tone: failed ? 'error' : item.type === 'agentMessage' ? 'info' : item.type === 'userMessage' ? 'accent' : 'plain',
        hang: 2,
      });
    }
    if (turn.error) lines.push({ text: `error: ${turn.error}`, tone: 'error', hang: 7 });
  });
  return lines;
}
