import { SupervisorError } from '../errors.js';
import { runCommand, type CommandResult } from '../process/runCommand.js';
import { sshUrl, type HostSpec, type SshTarget } from './hostSpec.js';
import { joinForPosixShell } from './remoteQuote.js';
import { sshArgv, sshDestination } from './ssh.js';

export type DirectoryProbe = { ok: true } | { ok: false; reason: 'unreachable' | 'notDirectory'; message: string };
export type CodexProbe = { ok: true; version: string } | { ok: false; reason: 'unreachable' | 'codexMissing'; message: string };

const DEFAULT_TIMEOUT_MS = 15_000;
/** ssh's own failures (connection, authentication, host key) all exit 255. */
const SSH_FAILED = 255;
const COMMAND_NOT_FOUND = 127;
const COMMAND_NOT_EXECUTABLE = 126;

/** Whether `path` is a directory on the ssh host (`test -d PATH` over ssh). */
export async function probeRemoteDirectory(host: HostSpec, path: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DirectoryProbe> {
  const target = sshTargetOf(host);
  const result = await runCommand({ argv: sshArgv(target, host.sshOptions, ['test', '-d', path]), timeoutMs });
  if (result.code === 0) return { ok: true };
  if (result.code === 1) {
    // `test` prints nothing; anything on stderr came from the remote login (e.g. nologin).
    const detail = lastLines(result.stderr);
    return {
      ok: false,
      reason: 'notDirectory',
      message: `${path} is not a directory on ${host.name} (${sshUrl(target)})${detail ? ` (the remote side said: ${detail})` : ''}: create it there or give the path of an existing directory`,
    };
  }
  return { ok: false, reason: 'unreachable', message: unreachableMessage(host, target, result, timeoutMs) };
}

/** Runs `CODEX --version` on the ssh host with the host's environment: is codex there, which one. */
export async function probeRemoteCodex(host: HostSpec, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<CodexProbe> {
  const target = sshTargetOf(host);
  const codex = host.codexBin ?? 'codex';
  const result = await runCommand({ argv: sshArgv(target, host.sshOptions, [codex, '--version'], host.env), timeoutMs });
  if (result.code === 0) {
    const version = result.stdout.trim().split('\n')[0]?.trim() ?? '';
    return { ok: true, version };
  }
  if (result.code === null || result.code === SSH_FAILED) {
    return { ok: false, reason: 'unreachable', message: unreachableMessage(host, target, result, timeoutMs) };
  }
  const where = `${host.name} (${sshUrl(target)})`;
  const fix = `set the host's codex binary with \`cm-supervisor host set ${host.name} --codex-bin PATH\` (an absolute path: commands run over ssh may not read your shell profile, so PATH can differ from a login)`;
  const problem =
    result.code === COMMAND_NOT_FOUND
      ? `codex was not found on ${where} as ${JSON.stringify(codex)}`
      : result.code === COMMAND_NOT_EXECUTABLE
        ? `${JSON.stringify(codex)} on ${where} cannot be run (not executable)`
        : `\`${codex} --version\` failed on ${where} with exit code ${result.code}`;
  const detail = lastLines(result.stderr);
  return { ok: false, reason: 'codexMissing', message: `${problem}${detail ? ` (${detail})` : ''}: install codex there or ${fix}` };
}

function sshTargetOf(host: HostSpec): SshTarget {
  if (host.kind !== 'ssh' || host.ssh === null) {
    throw new SupervisorError(`host ${host.name} is not an ssh host (kind ${host.kind}): only ssh hosts can be probed over ssh`, 2);
  }
  return host.ssh;
}

function unreachableMessage(host: HostSpec, target: SshTarget, result: CommandResult, timeoutMs: number): string {
  const where = `${host.name} (${sshUrl(target)})`;
  let problem: string;
  if (result.spawnError) {
    problem =
      result.spawnError.code === 'ENOENT'
        ? `cannot reach ${where}: the ssh client is not installed on this machine (install OpenSSH's client, e.g. apt-get install openssh-client)`
        : `cannot reach ${where}: ssh did not start (${result.spawnError.message})`;
    return problem;
  }
  if (result.timedOut) {
    problem = `cannot reach ${where}: ssh did not finish within ${Math.round(timeoutMs / 100) / 10} s`;
  } else {
    const how = result.code !== null ? `exit code ${result.code}` : `signal ${result.signal ?? 'unknown'}`;
    problem = `cannot reach ${where}: ssh failed (${how})`;
  }
  const detail = lastLines(result.stderr);
  const check = joinForPosixShell([
    'ssh',
    '-o',
    'BatchMode=yes',
    ...(target.port !== null ? ['-p', String(target.port)] : []),
    ...host.sshOptions.flatMap((option) => ['-o', option]),
    sshDestination(target),
    'true',
  ]);
  return (
    `${problem}${detail ? `: ${detail}` : ''}. ` +
    `Check that \`${check}\` works: it needs a key in ssh-agent or one given with --ssh-option IdentityFile=…, ` +
    `and a known host key (connect once by hand, or add it to ~/.ssh/known_hosts with ssh-keyscan)`
  );
}

/** The last non-empty lines of ssh's stderr (its error is at the end), joined for one message. */
function lastLines(stderr: string, count = 2): string {
  return stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(-count)
    .join(' / ');
}
