import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';

export interface ResolvedCodexBinary {
  path: string;
  source: 'flag' | 'env' | 'bundled' | 'path' | 'fallback';
}

/** npm platform packages of @openai/codex and the vendor triple inside each. */
const PLATFORM_PACKAGES: Record<string, { pkg: string; triple: string }> = {
  'linux-x64': { pkg: '@openai/codex-linux-x64', triple: 'x86_64-unknown-linux-musl' },
  'linux-arm64': { pkg: '@openai/codex-linux-arm64', triple: 'aarch64-unknown-linux-musl' },
  'darwin-x64': { pkg: '@openai/codex-darwin-x64', triple: 'x86_64-apple-darwin' },
  'darwin-arm64': { pkg: '@openai/codex-darwin-arm64', triple: 'aarch64-apple-darwin' },
  'win32-x64': { pkg: '@openai/codex-win32-x64', triple: 'x86_64-pc-windows-msvc' },
  'win32-arm64': { pkg: '@openai/codex-win32-arm64', triple: 'aarch64-pc-windows-msvc' },
};

/**
 * The native binary shipped by the pinned @openai/codex dependency. We run it directly rather
 * than through its node wrapper, which on Node 20 stays in between as a second process and
 * would survive a SIGKILL of the wrapper.
 */
export function bundledCodexBinary(platform = process.platform, arch = process.arch): string | null {
  const entry = PLATFORM_PACKAGES[`${platform}-${arch}`];
  if (!entry) return null;
  try {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve(`${entry.pkg}/package.json`));
    const bin = join(root, 'vendor', entry.triple, 'bin', platform === 'win32' ? 'codex.exe' : 'codex');
    accessSync(bin, constants.X_OK);
    return bin;
  } catch {
    return null;
  }
}

function onPath(name: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Why `path` cannot be started as a program, or null when it can: a bare name (`codex`) is
 * looked up on `pathVar`, a relative path is taken from `cwd` (where its app-server would run).
 * Only the file is checked; whether it speaks the app-server protocol takes a handshake.
 */
export function executableProblem(path: string, options: { pathVar: string | undefined; cwd: string }): string | null {
  if (!path.includes('/')) return onPath(path, options.pathVar) ? null : 'not found on PATH';
  const file = isAbsolute(path) ? path : resolve(options.cwd, path);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(file).isDirectory();
  } catch {
    return 'not found';
  }
  if (isDirectory) return 'a directory, not a program';
  try {
    accessSync(file, constants.X_OK);
    return null;
  } catch {
    return 'not executable';
  }
}

/** `--codex-bin`, then CM_SUPERVISOR_CODEX_BIN, then the bundled binary, then `codex` on PATH. */
export function resolveCodexBinary(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedCodexBinary {
  // A relative path means the user's directory, not the workspace the app-server runs in.
  if (flag) return { path: asGiven(flag), source: 'flag' };
  const fromEnv = env.CM_SUPERVISOR_CODEX_BIN;
  if (fromEnv) return { path: asGiven(fromEnv), source: 'env' };
  const bundled = bundledCodexBinary();
  if (bundled) return { path: bundled, source: 'bundled' };
  const found = onPath('codex', env.PATH);
  if (found) return { path: found, source: 'path' };
  // Left for the spawn to fail on, with the "codex not found" message.
  return { path: 'codex', source: 'fallback' };
}

/** `./bin/codex` → an absolute path; a bare name such as `codex` is left for the PATH lookup. */
function asGiven(path: string): string {
  return path.includes('/') ? resolve(path) : path;
}

/** The bundled binary, or an error that says how to get it (for tests and the demo). */
export function requireBundledCodexBinary(): string {
  const bin = bundledCodexBinary();
  if (!bin) throw new Error(`the bundled codex binary for ${process.platform}-${process.arch} is missing: run npm ci`);
  return bin;
}
