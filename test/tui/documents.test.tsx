import { render } from 'ink-testing-library';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { detailDocument } from '../../src/tui/detailDocument.js';
import { DocumentView } from '../../src/tui/components/DocumentView.js';
import { diffDocument } from '../../src/tui/diffDocument.js';
import { BOTTOM, type DocLine } from '../../src/tui/document.js';
import { ColorContext } from '../../src/tui/theme.js';
import type { Transcript } from '../../src/core/api/supervisorApi.js';
import { transcriptDocument } from '../../src/tui/transcriptDocument.js';
import { useChalkLevel } from '../support/chalkLevel.js';
import type { SupervisorEvent } from '../../src/core/state/events.js';
import { turnCompleted } from '../support/events.js';
import { FakeApi } from '../support/fakeApi.js';
import { NOW } from '../support/renderApp.js';
import { T0 } from '../support/replay.js';
import { startedThread } from '../support/scenarios.js';

// Inverse (the matches) and colours are part of what these tests look at.
useChalkLevel(1);

// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');
const INVERSE = '\u001b[7m';
const GREEN = '\u001b[32m';
const RED = '\u001b[31m';
const CYAN = '\u001b[36m';

function draw(element: React.ReactElement, width = 80) {
  const instance = render(<ColorContext.Provider value={true}>{element}</ColorContext.Provider>);
  Object.defineProperty(instance.stdout, 'columns', { get: () => width });
  instance.rerender(<ColorContext.Provider value={true}>{element}</ColorContext.Provider>);
  const frame = instance.lastFrame() ?? '';
  return { frame, lines: plain(frame).split('\n'), raw: frame.split('\n') };
}

const numbered: DocLine[] = Array.from({ length: 40 }, (_, i) => ({ text: `line ${i + 1}${i % 10 === 4 ? ' has an error' : ''}` }));

describe('DocumentView at 80 columns', () => {
  it('shows the lines from the scroll offset and a footer with where they are', () => {
    const { lines } = draw(<DocumentView lines={numbered} width={80} height={10} scroll={5} />);
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe('line 6');
    expect(lines[8]).toBe('line 14');
    expect(lines[9]).toBe('lines 6–14 of 40');
  });

  it('BOTTOM shows the last page; an offset past the end is clamped', () => {
    expect(draw(<DocumentView lines={numbered} width={80} height={10} scroll={BOTTOM} />).lines.slice(-2)).toEqual(['line 40', 'lines 32–40 of 40']);
    expect(draw(<DocumentView lines={numbered} width={80} height={10} scroll={1000} />).lines.at(-1)).toBe('lines 32–40 of 40');
  });

  it('highlights every match and says which one is current', () => {
    const { lines, raw } = draw(<DocumentView lines={numbered} width={80} height={10} scroll={0} search="ERROR" matchIndex={1} />);
    expect(lines.at(-1)).toBe('lines 1–9 of 40 · /ERROR 2 of 4');
    expect(raw[4]).toContain(`${INVERSE}error`);
    expect(draw(<DocumentView lines={numbered} width={80} height={10} scroll={0} search="nope" />).lines.at(-1)).toBe('lines 1–9 of 40 · /nope not found');
  });

  it('wraps a long line to the width, never wider', () => {
    const long = 'failed: api: failed: unexpected status 500 Internal Server Error: ' + 'x'.repeat(200);
    const { lines } = draw(<DocumentView lines={[{ text: long, tone: 'error' }]} width={80} height={10} scroll={0} />);
    expect(lines.slice(0, 4).join('')).toBe(long);
    for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(80);
  });
});

describe('the detail view as a document', () => {
  const reason = 'api: failed: unexpected status 500 Internal Server Error: the server had an error while processing your request, please retry after a short wait';
  function failedThread(items = 1) {
    const api = new FakeApi();
    api.emitAll([
      ...startedThread('tF', 'fix the flaky test', T0 + 10_000),
      { type: 'tokenUsage/updated', atMs: T0 + 10_500, workspace: 'ws1', threadId: 'tF', totalTokens: 12_345, lastTokens: 345, contextWindow: null },
      ...Array.from({ length: items }, (_, i): SupervisorEvent => ({ type: 'item/completed', atMs: T0 + 11_000 + i, workspace: 'ws1', threadId: 'tF', turnId: 'tF-turn', item: { type: 'agentMessage', id: `msg-${i}`, text: `reply number ${i + 1}` } })),
      { type: 'turn/error', atMs: T0 + 13_000, workspace: 'ws1', threadId: 'tF', turnId: 'tF-turn', error: { message: reason }, willRetry: false },
      turnCompleted('tF', 'tF-turn', 'failed', T0 + 13_001, { message: reason }),
    ]);
    return api.state;
  }

  it('wraps the error in full at 80 columns and shows the tokens', () => {
    const { lines } = draw(<DocumentView lines={detailDocument(failedThread(), 'tF', NOW)} width={80} height={20} scroll={BOTTOM} />);
    expect(lines[1]).toBe('ws1 · tF · failed · 12k tokens');
    const error = lines.findIndex((l) => l.startsWith('error  '));
    const end = lines.findIndex((l, i) => i > error && !l.startsWith('       '));
    expect(end - error).toBe(2);
    expect(lines.slice(error, end).map((l) => l.trim()).join(' ')).toBe(`error ${reason}`.replace('error', 'error '));
  });

  it('by default shows the newest items; a scroll of 0 shows the top, searched', () => {
    const state = failedThread(30);
    const bottom = draw(<DocumentView lines={detailDocument(state, 'tF', NOW)} width={80} height={12} scroll={BOTTOM} />).lines;
    expect(bottom.at(-2)).toContain('‹ reply number 30');
    expect(bottom.at(-1)).toMatch(/^lines \d+–\d+ of \d+$/);
    const top = draw(<DocumentView lines={detailDocument(state, 'tF', NOW)} width={80} height={12} scroll={0} search="reply number 1" />).lines;
    expect(top[0]).toBe('fix the flaky test');
    expect(top.at(-1)).toMatch(/^lines 1–11 of \d+ · \/reply number 1 1 of 11$/);
  });
});

describe('the transcript as a document', () => {
  const transcript: Transcript = {
    threadId: 'th1',
    workspace: 'ws1',
    title: 'upgrade deps',
    turns: [
      { id: 'turn-1', status: 'completed', startedAtMs: T0, completedAtMs: T0 + 65_000, durationMs: null, error: null, items: [
        { id: 'i1', type: 'userMessage', text: 'upgrade the dependencies', status: null },
        { id: 'i2', type: 'commandExecution', text: 'npm update (exit 0)', status: 'completed' },
        { id: 'i3', type: 'agentMessage', text: 'Done.\nAll tests pass.', status: null },
      ] },
      { id: 'turn-2', status: 'failed', startedAtMs: T0 + 70_000, completedAtMs: null, durationMs: 1_500, error: 'unexpected status 500', items: [{ id: 'i4', type: 'commandExecution', text: 'npm test', status: 'failed' }] },
    ],
  };

  it('shows a header per turn, a glyph per item, and errors in red', () => {
    const { lines, raw } = draw(<DocumentView lines={transcriptDocument(transcript)} width={80} height={20} scroll={0} />);
    expect(lines.slice(0, 13)).toEqual([
      'upgrade deps',
      'ws1 · th1 · 2 turns',
      '',
      '── turn 1 · completed · 1m 05s · turn-1',
      '› upgrade the dependencies',
      '$ npm update (exit 0)',
      '‹ Done.',
      '  All tests pass.',
      '',
      // Codex's own measure where it gives one (its times are whole seconds).
      '── turn 2 · failed · 1.5s · turn-2',
      '$ npm test [failed]',
      'error: unexpected status 500',
      '',
    ]);
    expect(raw[11]).toContain(RED);
    expect(raw[6]).toContain(CYAN);
  });

  it('says when there are no turns', () => {
    expect(transcriptDocument({ ...transcript, turns: [] }).map((l) => l.text)).toContain('no turns yet');
  });
});

describe('the diff as a document', () => {
  const diff = ['diff --git a/src/a.ts b/src/a.ts', 'index 1..2 100644', '--- a/src/a.ts', '+++ b/src/a.ts', '@@ -1,2 +1,2 @@', ' keep', '-old line', '+new line', ''].join('\n');

  it('lists the files changed, then the unified diff coloured', () => {
    const { lines, raw } = draw(<DocumentView lines={diffDocument({ threadId: 'th1', turnId: 'turn-1', diff, files: [{ path: 'src/a.ts', added: 1, removed: 1 }] })} width={80} height={20} scroll={0} />);
    expect(lines.slice(0, 11)).toEqual([
      '1 file changed, +1 −1 · turn turn-1',
      '    +1     −1  src/a.ts',
      '',
      'diff --git a/src/a.ts b/src/a.ts',
      'index 1..2 100644',
      '--- a/src/a.ts',
      '+++ b/src/a.ts',
      '@@ -1,2 +1,2 @@',
      ' keep',
      '-old line',
      '+new line',
    ]);
    expect(raw[7]).toContain(CYAN);
    expect(raw[9]).toContain(RED);
    expect(raw[10]).toContain(GREEN);
  });

  it('says "no changes in the last turn", and what a diff holds, when the turn changed nothing', () => {
    const { lines } = draw(<DocumentView lines={diffDocument({ threadId: 'th1', turnId: null, diff: '', files: [] })} width={80} height={5} scroll={0} />);
    expect(lines.slice(0, 2).join(' ')).toMatch(/^no changes in the last turn: its diff holds the edits Codex made itself \(apply_patch\), not files\s+written by shell commands/);
  });
});
