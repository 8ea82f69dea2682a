import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validatePlanText } from '../../src/core/contract/validatePlan.js';

// The examples of docs/plan-format.md are plans people copy: each must be valid as written.
const doc = readFileSync(new URL('../../docs/plan-format.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((text) => text.trimStart().startsWith('{ "version"'));

const root = mkdtempSync(join(tmpdir(), 'cm-plan-docs-'));
for (const name of ['api', 'web']) execFileSync('git', ['init', '-q', join(root, name)]);
for (const dir of ['docs-site', 'web']) mkdirSync(join(root, 'plans', dir), { recursive: true });
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('docs/plan-format.md examples', () => {
  it('has examples of both versions', () => {
    expect(examples.filter((e) => e.includes('"version": 2')).length).toBeGreaterThanOrEqual(6);
    expect(examples.some((e) => e.includes('"version": 1'))).toBe(true);
  });

  for (const example of examples) {
    it(/"id": "([^"]+)"/.exec(example)![1]!, () => {
      const result = validatePlanText(example, {
        workspaces: [
          { name: 'api', path: join(root, 'api') },
          { name: 'web', path: join(root, 'web') },
        ],
        hosts: ['local'],
        baseDir: join(root, 'plans'),
      });
      expect(result.ok ? [] : result.problems).toEqual([]);
    });
  }
});
