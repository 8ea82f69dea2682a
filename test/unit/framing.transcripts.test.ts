import { describe, expect, it } from 'vitest';
import { LineDecoder } from '../../src/core/protocol/lineDecoder.js';
import { classifyLine } from '../../src/core/protocol/wire.js';
import { loadTranscripts, seededRandom } from '../support/transcripts.js';

const transcripts = loadTranscripts();
const GARBAGE = ['not json at all', '{"truncated": ', '42', '{"neither":"method nor id"}', '\u001b[31mcolour\u001b[0m'];

describe('framing of recorded real-binary transcripts', () => {
  it('has the recorded scenarios', () => {
    expect(Object.keys(transcripts)).toEqual(
      expect.arrayContaining(['text-turn', 'approval-accept', 'approval-decline', 'upstream-500', 'resume']),
    );
  });

  for (const [name, lines] of Object.entries(transcripts)) {
    it(`${name}: random splits, CRLF and interleaved garbage recover every message in order`, () => {
      for (let seed = 1; seed <= 25; seed++) {
        const random = seededRandom(seed);
        const stream: string[] = [];
        let garbage = 0;
        for (const line of lines) {
          if (random() < 0.3) {
            stream.push(GARBAGE[Math.floor(random() * GARBAGE.length)]!);
            garbage++;
          }
          stream.push(line);
        }
        const bytes = Buffer.from(stream.map((l) => l + (random() < 0.5 ? '\r\n' : '\n')).join(''), 'utf8');

        const decoder = new LineDecoder();
        const good: unknown[] = [];
        let bad = 0;
        for (let at = 0; at < bytes.length; ) {
          const size = 1 + Math.floor(random() * 700);
          for (const line of decoder.push(bytes.subarray(at, at + size)).lines) {
            const result = classifyLine(line);
            if (result.type !== 'invalid') good.push(JSON.parse(line));
            else bad++;
          }
          at += size;
        }
        expect(decoder.flush(), `seed ${seed}`).toBeNull();
        expect(bad, `seed ${seed}`).toBe(garbage);
        expect(good, `seed ${seed}`).toEqual(lines.map((l) => JSON.parse(l)));
      }
    });
  }
});
