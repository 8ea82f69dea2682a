import type { Transcript } from '../core/api/supervisorApi.js';
import { turnDuration } from '../core/state/transcript.js';
import { formatDuration } from '../core/util/time.js';
import type { DocLine } from './document.js';
import { ITEM_GLYPHS } from './itemGlyphs.js';
import type { Tone } from './viewModel.js';

const TURN_TONES: Record<string, Tone> = { completed: 'ok', failed: 'error', interrupted: 'error', inProgress: 'info' };

/** The whole thread, turn by turn: a header per turn (status, duration), each item under a glyph, errors in red. */
export function transcriptDocument(transcript: Transcript): DocLine[] {
  const turns = transcript.turns;
  const lines: DocLine[] = [
    { text: transcript.title, bold: true },
    { text: `${transcript.workspace} · ${transcript.threadId} · ${turns.length} turn${turns.length === 1 ? '' : 's'}`, tone: 'dim' },
  ];
  if (turns.length === 0) lines.push({ text: '', tone: 'dim' }, { text: 'no turns yet', tone: 'dim' });
  turns.forEach((turn, i) => {
    const ms = turnDuration(turn);
    const took = ms !== null ? ` · ${formatDuration(ms)}` : '';
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
