import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

/** Runs the built CLI (npm test builds first) the way a user's shell would. */
export async function runBuiltCli(args: string[], options: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {}) {
  const result = await execa(process.execPath, [CLI, ...args], {
    env: options.env,
    input: options.input ?? '',
    cwd: options.cwd,
    reject: false,
    timeout: 60_000,
  });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}
