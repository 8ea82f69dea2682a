import type { SignalRecord } from '../core/state/model.js';
import { oneLine } from '../core/util/text.js';
import type { Tone } from './viewModel.js';

/** What a raised signal tells the person: once what happened and why, and the keys that act on it. */
export interface Notice {
  /** The toast's line (its keys are drawn after it, never cut off). */
  text: string;
  tone: Tone;
  /** The desktop notification's title and body. */
  title: string;
  body: string;
  /** A failure's thread: while its toast shows, Enter opens it and R retries it. */
  threadId?: string;
  keys?: string;
}

const GLYPHS: Record<SignalRecord['kind'], string> = { needs_approval: '!', failed: '✗', completed: '✓', stalled: '⏸', disconnected: '✕' };
const TONES: Record<SignalRecord['kind'], Tone> = { needs_approval: 'warn', failed: 'error', completed: 'ok', stalled: 'warn', disconnected: 'error' };

/**
 * The signal's message already says what happened ("failed: install deps — database is
 * locked"): the notice adds where and what to press, never the kind a second time.
 */
export function signalNotice(signal: SignalRecord): Notice {
  const message = oneLine(signal.message, 200);
  // Only a failure's toast takes Enter and R: on any other, they keep their meaning for the selection.
  const actionable = signal.kind === 'failed' && signal.threadId !== null;
  const keys = actionable ? 'Enter open · R retry' : signal.kind === 'needs_approval' ? '3 answer' : undefined;
  return {
    text: `${GLYPHS[signal.kind]} ${signal.workspace} · ${message}`,
    tone: TONES[signal.kind],
    title: `cm-supervisor · ${signal.workspace}`,
    body: message,
    ...(actionable && signal.threadId ? { threadId: signal.threadId } : {}),
    ...(keys ? { keys } : {}),
  };
}
