import { runCommand, type CommandResult } from '../process/runCommand.js';

export interface GitResult {
  ok: boolean;
  stdout: string;
  /** What git said on failure (its stderr, or why it could not start), one trimmed text. */
  error: string;
  result: CommandResult;
}

const GIT_TIMEOUT_MS = 60_000;

/**
 * `git -C dir ARGS…` as argv (no shell). Messages in English whatever the locale (we quote
 * them), no credential prompts, and no optional locks: `git status` in a user's checkout must
 * not refresh and rewrite its index behind their editor.
 */
export async function git(dir: string, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<GitResult> {
  const result = await runCommand({
    argv: ['git', '-C', dir, ...args],
    env: { LC_ALL: 'C', LANGUAGE: 'C', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' },
    timeoutMs: options.timeoutMs ?? GIT_TIMEOUT_MS,
    maxOutputBytes: 16 * 1024 * 1024,
  });
  const ok = result.code === 0 && !result.timedOut;
  const error = result.spawnError
    ? result.spawnError.code === 'ENOENT'
      ? 'git is not installed (not found on PATH)'
      : result.spawnError.message
    : result.timedOut
      ? `git ${args[0] ?? ''} took longer than ${Math.round((options.timeoutMs ?? GIT_TIMEOUT_MS) / 1000)} s and was stopped`
      : result.stderr.trim() || `git ${args[0] ?? ''} exited with code ${result.code}`;
  return { ok, stdout: result.stdout, error: ok ? '' : error, result };
}
