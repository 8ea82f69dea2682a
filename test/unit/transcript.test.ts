import { describe, expect, it } from 'vitest';
import { TranscriptPageSchema } from '../../src/core/protocol/messages.js';
import { transcriptTurns } from '../../src/core/state/transcript.js';

/** A page of `thread/turns/list {itemsView: "full"}` shaped as Codex 0.171 answered it. */
const page = TranscriptPageSchema.parse({
  data: [
    {
      id: 'turn-1',
      items: [
        { type: 'userMessage', id: 'i1', clientId: null, content: [{ type: 'text', text: 'first\nhello', text_elements: [] }, { type: 'image', url: 'x' }] },
        { type: 'reasoning', id: 'i2', summary: ['look at the tests'], content: [] },
        { type: 'commandExecution', id: 'i3', command: "/bin/bash -lc 'npm test'", status: 'completed', exitCode: 1, aggregatedOutput: `${Array.from({ length: 25 }, (_, n) => `line ${n + 1}`).join('\n')}\n` },
        { type: 'fileChange', id: 'i4', status: 'completed', changes: [{ path: '/repo/a.ts', kind: { type: 'update', move_path: null }, diff: '' }, { path: '/repo/b.ts', kind: { type: 'add' }, diff: 'x' }] },
        { type: 'agentMessage', id: 'i5', text: 'Done \u001b[31mred\u001b[0m\u0007', phase: null },
        { type: 'contextCompaction', id: 'i6' },
        { type: 'agentMessage', id: 7 },
      ],
      status: 'completed',
      error: null,
      startedAt: 1796559494,
      completedAt: 1796559495,
    },
    {
      id: 'turn-2',
      items: [{ type: 'userMessage', id: 'i8', content: [{ type: 'text', text: '[fail] second', text_elements: [] }] }],
      status: 'failed',
      error: { message: 'We’re currently experiencing high demand', codexErrorInfo: 'internalServerError', additionalDetails: null },
      startedAt: 1796559496,
      completedAt: null,
    },
  ],
  nextCursor: null,
});

describe('transcriptTurns', () => {
  it('each turn with its times, error and items as a person reads them', () => {
    const [first, second] = transcriptTurns(page.data);
    expect(first).toMatchObject({ id: 'turn-1', status: 'completed', startedAtMs: 1796559494000, completedAtMs: 1796559495000, error: null });
    expect(first!.items).toEqual([
      { id: 'i1', type: 'userMessage', text: 'first\nhello', status: null },
      { id: 'i2', type: 'reasoning', text: 'look at the tests', status: null },
      {
        id: 'i3',
        type: 'commandExecution',
        // The command as typed, its exit code and the end of its output.
        text: ['$ npm test (exit 1)', '… (5 lines before)', ...Array.from({ length: 20 }, (_, n) => `line ${n + 6}`)].join('\n'),
        status: 'completed',
      },
      { id: 'i4', type: 'fileChange', text: '/repo/a.ts, /repo/b.ts', status: 'completed' },
      // Terminal controls are stripped from agent text.
      { id: 'i5', type: 'agentMessage', text: 'Done red', status: null },
      { id: 'i6', type: 'contextCompaction', text: '', status: null },
      // An item of a shape this version cannot read says so; the rest of the transcript stands.
      { id: '#6', type: 'agentMessage', text: '(an item cm-supervisor cannot read)', status: null },
    ]);
    expect(second).toMatchObject({ id: 'turn-2', status: 'failed', completedAtMs: null, error: 'We’re currently experiencing high demand' });
  });
});
