import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

  it('has no import cycles in src (type imports included: they couple layers just the same)', () => {
    const files = sources('src');
    const edges = new Map(files.map((f) => [f, localImports(f)]));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'visiting');
      stack.push(file);
      for (const next of edges.get(file) ?? []) {
        if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});

/** The files under src that `file` imports (relative specifiers, `.js` mapped back to the source). */
function localImports(file: string): string[] {
  return imports(file).flatMap((specifier) => {
    if (!specifier.startsWith('.')) return [];
    const target = relative(root, resolve(root, dirname(file), specifier));
    const source = [target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx')].find((candidate) => existsSync(join(root, candidate)));
    return source && !source.includes('/generated/') ? [source] : [];
  });
}
