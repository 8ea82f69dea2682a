import type { z } from 'zod';
import type { TranscriptItem, TranscriptTurn } from '../api/supervisorApi.js';
import { TranscriptItemSchema, type TranscriptPageSchema } from '../protocol/messages.js';
import { oneLine, stripControl } from '../util/text.js';
import { itemText } from './itemText.js';

type HostTurn = z.infer<typeof TranscriptPageSchema>['data'][number];

/** Turns as the host sent them (`thread/turns/list`, full items), as a person reads them. */
export function transcriptTurns(turns: HostTurn[]): TranscriptTurn[] {
  return turns.map((turn) => ({
    id: turn.id,
    status: turn.status,
    startedAtMs: typeof turn.startedAt === 'number' ? turn.startedAt * 1000 : null,
    completedAtMs: typeof turn.completedAt === 'number' ? turn.completedAt * 1000 : null,
    durationMs: turn.durationMs ?? null,
    error: turn.error ? oneLine(turn.error.message, 1000) : null,
    items: (turn.items ?? []).map(transcriptItem),
  }));
}

/** One item, read on its own: an item this version cannot read says so instead of failing the transcript. */
function transcriptItem(raw: unknown, index: number): TranscriptItem {
  const parsed = TranscriptItemSchema.safeParse(raw);
  if (!parsed.success) {
    const type = typeof (raw as { type?: unknown } | null)?.type === 'string' ? stripControl((raw as { type: string }).type) : 'unknown';
    return { id: `#${index}`, type, text: '(an item cm-supervisor cannot read)', status: null };
  }
  const item = parsed.data;
  return { id: item.id, type: item.type, text: itemText(item), status: item.status ?? null };
}

/** How long a turn took: Codex's own measure, else its whole-second start and end times. */
export function turnDuration(turn: Pick<TranscriptTurn, 'durationMs' | 'startedAtMs' | 'completedAtMs'>): number | null {
  if (turn.durationMs !== null) return turn.durationMs;
  return turn.startedAtMs !== null && turn.completedAtMs !== null ? turn.completedAtMs - turn.startedAtMs : null;
}
