#!/usr/bin/env node
// Regenerates src/core/protocol/generated from the pinned @openai/codex binary.
// The bindings are written by `codex app-server generate-ts`; the only change made here is
// adding `.js` to relative imports, which NodeNext module resolution requires.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const codexPkg = require('@openai/codex/package.json');
const codexJs = join(dirname(require.resolve('@openai/codex/package.json')), codexPkg.bin.codex);
const target = join(root, 'src/core/protocol/generated');

const out = mkdtempSync(join(tmpdir(), 'cm-gen-'));
execFileSync(process.execPath, [codexJs, 'app-server', 'generate-ts', '--out', out], { stdio: 'inherit' });

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.ts')) {
      const text = readFileSync(path, 'utf8').replace(/(from\s+"(\.{1,2}\/[^"]+?))(")/g, (_m, _all, spec) => {
        const file = join(dirname(path), spec);
        const isDir = statSync(file, { throwIfNoEntry: false })?.isDirectory();
        return `from "${spec}${isDir ? '/index' : ''}.js"`;
      });
      writeFileSync(path, text);
    }
  }
}
walk(out);
writeFileSync(
  join(out, 'version.ts'),
  `// Written by scripts/gen-protocol.mjs: the @openai/codex version these bindings came from.\nexport const GENERATED_FROM_CODEX_VERSION = ${JSON.stringify(codexPkg.version)};\n`,
);
rmSync(target, { recursive: true, force: true });
mkdirSync(dirname(target), { recursive: true });
try {
  renameSync(out, target);
} catch {
  execFileSync('cp', ['-r', out, target]);
  rmSync(out, { recursive: true, force: true });
}
console.log(`protocol bindings for codex ${codexPkg.version} written to ${target}`);
