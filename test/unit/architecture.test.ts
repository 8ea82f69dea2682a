import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  const abs = join(root, dir);
  // src/tui may not exist yet in a checkout; the rule holds from its first file on.
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((name) => {
    const path = join(abs, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : sources(relative(root, path));
    return /\.tsx?$/.test(name) ? [relative(root, path)] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

describe('architecture boundaries', () => {
  it('src/core never imports rendering libraries', () => {
    const offenders = sources('src/core').flatMap((f) =>
      imports(f)
        .filter((i) => ['react', 'ink', 'chalk'].includes(i) || i.startsWith('ink-') || i.includes('/tui/'))
        .map((i) => `${f} imports ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it('only src/core/process starts processes (execa, child_process)', () => {
    const offenders = sources('src').flatMap((f) =>
      imports(f)
        .filter((i) => i === 'execa' || i === 'node:child_process' || i === 'child_process')
        .filter(() => !f.startsWith('src/core/process/'))
        .map((i) => `${f} imports ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it('src/tui does no process or file IO of its own', () => {
    const banned = ['execa', 'conf', 'node:fs', 'node:fs/promises', 'fs', 'node:child_process', 'child_process', 'node:net'];
    const offenders = sources('src/tui').flatMap((f) => imports(f).filter((i) => banned.includes(i)).map((i) => `${f} imports ${i}`));
    expect(offenders).toEqual([]);
  });
});
