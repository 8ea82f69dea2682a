#!/usr/bin/env node
// Runs the build (`tsc -p tsconfig.build.json`, ~25 s) only when something it compiles changed
// since the last build that succeeded: `npm run demo` then starts in about a second.
// `tsc --incremental` was measured too: a run with nothing to do still took ~9 s.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const CONFIG = 'tsconfig.build.json';
/** Dated when the last successful build started. In dist/: removing dist/ removes it. */
export const STAMP = join('dist', '.build-stamp');
const STARTED = join('dist', '.build-started');

/**
 * The newest modification time (ms) among what the build reads: the directories in the build
 * config's `include` (a directory's own time changes when a file in it is added, removed or
 * renamed), both tsconfig files, package.json and the lockfile. Infinity when the config
 * cannot be read: then only a build can tell.
 */
export function newestInput(root) {
  let include;
  try {
    include = JSON.parse(readFileSync(join(root, CONFIG), 'utf8')).include;
  } catch {
    return Infinity;
  }
  if (!Array.isArray(include)) return Infinity;
  const files = ['tsconfig.json', CONFIG, 'package.json', 'package-lock.json'];
  return Math.max(...[...include, ...files].map((entry) => newestUnder(join(root, entry))));
}

function newestUnder(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestUnder(join(path, name))));
}

/** Whether dist/ may lag behind its sources: no successful build yet, or an input changed since one started. */
export function buildIsStale(root) {
  let built;
  try {
    built = statSync(join(root, STAMP)).mtimeMs;
  } catch {
    return true;
  }
  return newestInput(root) >= built;
}

/**
 * Called as a build starts: a file whose time the file system sets, so it compares with the
 * sources' times on the same clock (the kernel's, which lags Date.now() by up to a tick).
 */
export function buildStarting(root) {
  const started = join(root, STARTED);
  mkdirSync(dirname(started), { recursive: true });
  writeFileSync(started, 'written by scripts/build-if-stale.mjs when a build starts\n');
}

/** Called once the build succeeded: its start becomes the stamp, so an edit made during the build stays newer. */
export function buildSucceeded(root) {
  renameSync(join(root, STARTED), join(root, STAMP));
}

function main() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (!buildIsStale(root)) return 0;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // A first run waits for the compiler with nothing else on the screen: say why.
  process.stderr.write('building cm-supervisor (its sources changed since the last build; about 25 s)…\n');
  buildStarting(root);
  const result = spawnSync(process.execPath, [tsc, '-p', CONFIG], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) return result.status ?? 1;
  buildSucceeded(root);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main();
