// Packs the project as `npm publish` would, for tests of what users install.
import { execa } from 'execa';
import { cpSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT = fileURLToPath(new URL('../..', import.meta.url));

export interface Packed {
  tarball: string;
  /** Paths inside the package, as `package/` would hold them. */
  files: string[];
  /** Names of the bundled dependencies. */
  bundled: string[];
}

/**
 * Unsets the npm_config_* variables `npm test` hands its scripts, which would point a nested
 * npm at the project's prefix (execa's `env`: undefined removes a variable).
 */
export function npmEnv(): Record<string, undefined> {
  const names = Object.keys(process.env).filter((name) => /^npm_config_(prefix|global_prefix|local_prefix|global)$/i.test(name));
  return Object.fromEntries(names.map((name) => [name, undefined]));
}

/** `npm pack` of the project (built dist/ included) into `destination`, an empty directory. */
export async function packProject(destination: string): Promise<Packed> {
  const from = lstatSync(join(PROJECT, 'node_modules')).isSymbolicLink() ? stageCheckout(join(destination, 'checkout')) : PROJECT;
  const result = await execa('npm', ['pack', '--json', '--pack-destination', destination], { cwd: from, env: npmEnv() });
  const [packed] = JSON.parse(result.stdout) as [{ filename: string; files: { path: string }[]; bundled: string[] }];
  return { tarball: join(destination, packed.filename), files: packed.files.map((f) => f.path), bundled: packed.bundled };
}

/**
 * A copy of the project whose node_modules is a directory of its own. A git worktree here
 * shares another checkout's node_modules through a symlink, and npm then packs the bundled
 * dependencies under their real paths (`../../<other checkout>/node_modules/...`), which npm
 * refuses to unpack. The copy has the production packages of the lockfile; the codex binaries
 * (hundreds of MB) are left out, as npm never bundles them.
 */
function stageCheckout(stage: string): string {
  for (const entry of readdirSync(PROJECT)) {
    if (entry !== 'node_modules' && entry !== '.git') cpSync(join(PROJECT, entry), join(stage, entry), { recursive: true });
  }
  const lock = JSON.parse(readFileSync(join(PROJECT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  for (const [path, entry] of Object.entries(lock.packages)) {
    const topLevel = /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path);
    if (topLevel && !entry.dev && !path.startsWith('node_modules/@openai/')) {
      cpSync(join(PROJECT, path), join(stage, path), { recursive: true, dereference: true });
    }
  }
  return stage;
}
