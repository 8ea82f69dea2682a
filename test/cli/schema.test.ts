import { describe, expect, it } from 'vitest';
import { runBuiltCli } from '../support/runBuiltCli.js';

type Schema = { $id?: string; title?: string; oneOf?: Schema[]; properties?: Record<string, Schema & { const?: unknown; items?: Schema }> };

describe('cm-supervisor schema (built CLI)', () => {
  it('prints both plan versions, version 2 first', async () => {
    const r = await runBuiltCli(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as Schema;
    expect(schema.$id).toBe('https://cm-supervisor.dev/schemas/plan.json');
    expect(schema.oneOf!.map((s) => [s.title, s.properties!.version!.const])).toEqual([
      ['cm-supervisor plan (version 2)', 2],
      ['cm-supervisor plan (version 1)', 1],
    ]);
    const action = schema.oneOf![0]!.properties!.actions!.items!.properties!;
    for (const key of ['after', 'retry', 'worktree', 'kind', 'target', 'budget', 'goal']) expect(Object.keys(action)).toContain(key);
    expect(Object.keys(schema.oneOf![1]!.properties!.actions!.items!.properties!)).not.toContain('after');
  });

  it('`schema 2` and `schema 1` print one version; another is a usage error (exit 2)', async () => {
    const two = await runBuiltCli(['schema', '2']);
    expect(two.code).toBe(0);
    expect(JSON.parse(two.stdout)).toMatchObject({ $id: 'https://cm-supervisor.dev/schemas/plan-v2.json', properties: { concurrency: { type: 'integer' } } });
    const one = await runBuiltCli(['schema', '1']);
    expect(JSON.parse(one.stdout)).toMatchObject({ $id: 'https://cm-supervisor.dev/schemas/plan-v1.json', properties: { version: { const: 1 } } });
    const three = await runBuiltCli(['schema', '3']);
    expect(three.code).toBe(2);
    expect(three.stderr).toContain("value '3' is invalid for argument 'version'. Allowed choices are 2, 1.");
  });
});
