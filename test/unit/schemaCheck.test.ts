import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as messages from '../../src/core/protocol/messages.js';
import { schemaCheck } from '../../src/core/protocol/schemaCheck.js';
import { loadTranscripts, seededRandom } from '../support/transcripts.js';

const protocolSchemas: [string, z.ZodType][] = Object.entries(messages as Record<string, unknown>).flatMap(([name, value]) =>
  name.endsWith('Schema') && value instanceof z.ZodType ? [[name, value] as [string, z.ZodType]] : [],
);

/** Every params object and result the recorded real app-server sent, and their nested objects. */
function recordedValues(): unknown[] {
  const values: unknown[] = [];
  const collect = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    values.push(v);
    for (const child of Object.values(v)) collect(child);
  };
  for (const lines of Object.values(loadTranscripts())) {
    for (const line of lines) {
      const message = JSON.parse(line) as { params?: unknown; result?: unknown };
      collect(message.params);
      collect(message.result);
    }
  }
  return values;
}

const ODD_VALUES: unknown[] = [undefined, null, 0, -1.5, '', 'x', true, [], ['a'], [1], {}, { type: 'active' }, { type: 'active', activeFlags: 'no' }];

/** A deep copy of `value` with one randomly chosen field removed or replaced by an odd value. */
function mutate(value: unknown, random: () => number): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const containers: Record<string, unknown>[] = [];
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    containers.push(v as Record<string, unknown>);
    for (const child of Object.values(v)) walk(child);
  };
  walk(copy);
  const target = containers[Math.floor(random() * containers.length)]!;
  const keys = Object.keys(target);
  if (keys.length === 0) return copy;
  const key = keys[Math.floor(random() * keys.length)]!;
  if (random() < 0.2) delete target[key];
  else target[key] = ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
  return copy;
}

describe('schemaCheck: zod acceptance without the copy', () => {
  it('covers every protocol schema (none falls back to zod for valid input)', () => {
    expect(protocolSchemas.length).toBeGreaterThan(20);
    for (const [name, schema] of protocolSchemas) expect(schemaCheck(schema), name).not.toBeNull();
  });

  it('accepts exactly what zod accepts, for recorded values and mutations of them', () => {
    const random = seededRandom(7);
    const values = recordedValues();
    expect(values.length).toBeGreaterThan(200);
    let accepted = 0;
    let compared = 0;
    for (const value of values) {
      const variants = [value, ...Array.from({ length: 6 }, () => mutate(value, random))];
      for (const variant of variants) {
        for (const [name, schema] of protocolSchemas) {
          const expected = schema.safeParse(variant).success;
          expect(schemaCheck(schema)!(variant), `${name} on ${JSON.stringify(variant)?.slice(0, 300)}`).toBe(expected);
          if (expected) accepted++;
          compared++;
        }
      }
    }
    // The comparison means something only if both answers occur often.
    expect(accepted).toBeGreaterThan(500);
    expect(compared - accepted).toBeGreaterThan(500);
  });

  it('agrees with zod on the kinds it supports, at their edges', () => {
    const schema = z.object({
      s: z.string(),
      n: z.number().nullable().optional(),
      b: z.boolean().optional(),
      l: z.literal('x').optional(),
      e: z.enum(['a', 'b']).optional(),
      r: z.record(z.string(), z.number()).optional(),
      u: z.union([z.string(), z.array(z.number())]).optional(),
      any: z.unknown(),
      loose: z.looseObject({ id: z.string() }).optional(),
    });
    const cases: unknown[] = [
      { s: 'a' },
      { s: 'a', extra: 1 },
      { s: 1 },
      {},
      [],
      null,
      'text',
      { s: 'a', n: null },
      { s: 'a', n: Infinity },
      { s: 'a', n: Number.NaN },
      { s: 'a', b: 'true' },
      { s: 'a', l: 'y' },
      { s: 'a', e: 'c' },
      { s: 'a', e: 'b' },
      { s: 'a', r: { k: 1 } },
      { s: 'a', r: { k: '1' } },
      { s: 'a', r: [1] },
      { s: 'a', u: [1, 2] },
      { s: 'a', u: [1, '2'] },
      { s: 'a', u: 3 },
      { s: 'a', loose: { id: 'x', more: true } },
      { s: 'a', loose: { more: true } },
    ];
    const check = schemaCheck(schema)!;
    for (const value of cases) expect(check(value), JSON.stringify(value)).toBe(schema.safeParse(value).success);
  });

  it('gives no check for what it does not support, so callers use zod', () => {
    expect(schemaCheck(z.string().min(1))).toBeNull();
    expect(schemaCheck(z.strictObject({ a: z.string() }))).toBeNull();
    expect(schemaCheck(z.object({ a: z.string().transform((s) => s.length) }))).toBeNull();
    expect(schemaCheck(z.object({ a: z.string().default('x') }))).toBeNull();
    expect(schemaCheck(z.object({ a: z.number() }).refine((v) => v.a > 0))).toBeNull();
    expect(schemaCheck(z.array(z.object({ a: z.string().email() })))).toBeNull();
  });
});
