import { SupervisorError } from '../errors.js';

/*
 * The one way cm-supervisor turns an argv into a command line for a remote shell.
 *
 * ssh has no argv: it joins everything after the destination with spaces and the remote sshd
 * runs that string with the user's login shell (`$SHELL -c STRING`). So every argument that
 * reaches another machine (workspace paths, codex binaries, environment values: text that may
 * come from agents, plans or workspaces) goes through here and nowhere else.
 *
 * The remote login shell must be POSIX-like (sh, bash, dash, zsh, ksh): inside single quotes
 * they take every byte literally, newlines included. csh/tcsh and fish quote differently and
 * are not supported as login shells of ssh hosts.
 */

/** Words every POSIX-like shell (and zsh) leaves alone: no globbing, expansion or splitting. */
const SAFE_WORD = /^[A-Za-z0-9_./:=@%+,-]+$/;

/**
 * One argument as a word of a POSIX shell command line: unchanged when it is a plain safe word
 * (`codex`, `/usr/bin/codex`, `KEY=value`), else in single quotes with each `'` written `'\''`.
 * Throws a SupervisorError (exit 2) for a NUL byte, which no shell command line can carry.
 */
export function quoteForPosixShell(arg: string): string {
  if (arg.includes('\0')) {
    throw new SupervisorError(
      `cannot pass the argument ${JSON.stringify(arg)} to the remote shell: it contains a NUL byte, which no command line can carry; remove the NUL byte from it`,
      2,
    );
  }
  // zsh expands a word starting with `=` (`=codex` is the path of codex): quote it.
  if (SAFE_WORD.test(arg) && !arg.startsWith('=')) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * An argv as one POSIX shell command line that runs argv[0] with exactly these arguments.
 * A first word holding `=` is always quoted: unquoted, `A=b` would be a variable assignment.
 */
export function joinForPosixShell(argv: readonly string[]): string {
  return argv
    .map((arg, index) => {
      const word = quoteForPosixShell(arg);
      return index === 0 && word === arg && arg.includes('=') ? `'${arg}'` : word;
    })
    .join(' ');
}
