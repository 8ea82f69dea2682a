import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildIsStale, buildStarting, buildSucceeded, STAMP } from '../../scripts/build-if-stale.mjs';

describe('npm run demo rebuilds only when what the build compiles changed (scripts/build-if-stale.mjs)', () => {
  let root: string;
  // Inputs start dated a minute ago; edits and builds then take the file system's own times.
  const past = (Date.now() - 60_000) / 1000;
  const file = (path: string, text = 'export {};\n') => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const age = (...paths: string[]) => {
    for (const path of paths) utimesSync(join(root, path), past, past);
  };
  const builtNow = () => {
    buildStarting(root);
    buildSucceeded(root);
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cm-build-stale-'));
    file('tsconfig.json', '{}');
    file('tsconfig.build.json', JSON.stringify({ extends: './tsconfig.json', include: ['src', 'test/support'] }));
    file('package.json', '{}');
    file('package-lock.json', '{}');
    file('src/cli/main.ts');
    file('test/support/helper.ts');
    file('docs/notes.md', '# notes');
    age('tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json', 'src/cli/main.ts', 'src/cli', 'src', 'test/support/helper.ts', 'test/support', 'docs/notes.md', 'docs');
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('builds when there was no successful build, or dist/ was removed', () => {
    expect(buildIsStale(root)).toBe(true);
    builtNow();
    expect(buildIsStale(root)).toBe(false);
    rmSync(join(root, 'dist'), { recursive: true });
    expect(buildIsStale(root)).toBe(true);
  });

  it('builds after a source is edited, added or removed, in any directory the build config includes', () => {
    builtNow();
    file('src/cli/main.ts', 'export const edited = 1;\n');
    expect(buildIsStale(root)).toBe(true);
    builtNow();
    file('test/support/added.ts');
    expect(buildIsStale(root)).toBe(true);
    builtNow();
    rmSync(join(root, 'src/cli/main.ts'));
    expect(buildIsStale(root)).toBe(true);
  });

  it('builds after either tsconfig, package.json or the lockfile changes', () => {
    for (const config of ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json']) {
      builtNow();
      file(config, config === 'tsconfig.build.json' ? JSON.stringify({ include: ['src', 'test/support'] }) : '{ }');
      expect(buildIsStale(root), config).toBe(true);
    }
  });

  it('does not build for a change the build does not read', () => {
    builtNow();
    file('docs/notes.md', '# notes, edited');
    expect(buildIsStale(root)).toBe(false);
  });

  it('an edit made while the build ran is newer than the stamp, which is dated when the build started', () => {
    buildStarting(root);
    file('src/cli/main.ts', 'export const duringTheBuild = 1;\n');
    buildSucceeded(root);
    expect(buildIsStale(root)).toBe(true);
  });

  it('a build that failed leaves dist/ stale', () => {
    buildStarting(root);
    expect(buildIsStale(root)).toBe(true);
  });

  it('an unreadable build config means a build, which reports the problem', () => {
    builtNow();
    file('tsconfig.build.json', '{ not json');
    age('tsconfig.build.json');
    expect(buildIsStale(root)).toBe(true);
    expect(STAMP).toBe(join('dist', '.build-stamp'));
  });
});
