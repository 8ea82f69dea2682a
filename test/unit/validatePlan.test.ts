import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePlanValue } from '../../src/core/contract/validatePlan.js';

describe('plan targets: names, and directories on this machine', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-plan-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const plan = (workspace: string) => ({ version: 1, actions: [{ id: 'a', workspace, prompt: 'go' }] });

  it('a directory that is a configured local workspace resolves to it; a remote workspace is named only by its name', () => {
    const local = validatePlanValue(plan(dir), { workspaces: [{ name: 'here', path: dir }], baseDir: '/' });
    expect(local.ok && local.targets).toEqual([{ actionId: 'a', kind: 'configured', workspace: 'here' }]);

    // The same path on another machine is not this directory: it stays a plain local directory.
    const remote = validatePlanValue(plan(dir), { workspaces: [{ name: 'far', path: dir, remote: true }], baseDir: '/' });
    expect(remote.ok && remote.targets[0]).toMatchObject({ kind: 'directory', path: dir });
    const byName = validatePlanValue(plan('far'), { workspaces: [{ name: 'far', path: dir, remote: true }], baseDir: '/' });
    expect(byName.ok && byName.targets).toEqual([{ actionId: 'a', kind: 'configured', workspace: 'far' }]);
  });
});
