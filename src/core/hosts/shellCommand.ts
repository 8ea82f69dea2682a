import type { HostSpec } from './hostSpec.js';
import { quoteForPosixShell } from './remoteQuote.js';
import { sshConnectOptions, sshDestination } from './ssh.js';

/** A program to run with the terminal handed over to it (the TUI's `!`). */
export interface ShellCommand {
  file: string;
  args: string[];
  /** The directory to start it in, on this machine; absent when the directory is on another one. */
  cwd?: string;
}

/**
 * A person's shell in a workspace's directory: `$SHELL` (else /bin/sh) started there on this
 * machine (a `local` host, and a `command` host, whose workspaces are local directories); on an
 * ssh host, `ssh -t` with the host's options into a login shell that starts in the directory.
 * The path reaches the remote shell through the one quoting helper (remoteQuote.ts).
 */
export function shellCommand(host: HostSpec, workspace: { path: string }, env: Readonly<Record<string, string | undefined>>): ShellCommand {
  if (host.kind === 'ssh' && host.ssh) {
    // The remote user's own shell, not ours: `$SHELL` is expanded over there.
    const remote = `cd ${quoteForPosixShell(workspace.path)} && exec "\${SHELL:-/bin/sh}" -l`;
    return { file: 'ssh', args: ['-t', ...sshConnectOptions(host.ssh, host.sshOptions), '--', sshDestination(host.ssh), remote] };
  }
  return { file: env.SHELL || '/bin/sh', args: [], cwd: workspace.path };
}
