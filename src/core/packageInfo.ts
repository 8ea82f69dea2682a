import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  name: string;
  version: string;
  root: string;
}

let cached: PackageInfo | null = null;

/** Our own package.json, found by walking up (the depth differs between src/ and dist/src/). */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cm-supervisor' && pkg.version) {
        cached = { name: pkg.name, version: pkg.version, root: dir };
        return cached;
      }
    } catch {
      // keep walking
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cm-supervisor package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}
