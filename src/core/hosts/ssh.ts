import { SupervisorError } from '../errors.js';
import { sshUrl, type SshTarget } from './hostSpec.js';
import { joinForPosixShell } from './remoteQuote.js';

const URL_FORMAT = 'write ssh://[user@]host[:port], e.g. ssh://me@build1 or ssh://me@[::1]:2222';

/** Whitespace or control characters (C0, DEL, C1): never part of a user or host name. */
const UNSAFE_CHARS = /[\s\u0000-\u001f\u007f-\u009f]/u;

function badUrl(url: string, problem: string, fix: string = URL_FORMAT): SupervisorError {
  return new SupervisorError(`invalid ssh host URL ${JSON.stringify(url)}: ${problem}; ${fix}`, 2);
}

/**
 * `ssh://[user@]host[:port]` (IPv6 in brackets: `ssh://[::1]:2222`) → the target ssh connects
 * to. Throws a SupervisorError (exit 2) that says what is wrong and how to write it instead.
 * Nothing is percent-decoded: the user and host go to ssh as written.
 */
export function parseSshUrl(url: string): SshTarget {
  const scheme = /^ssh:\/\//i.exec(url);
  if (!scheme) {
    const other = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
    throw badUrl(url, other ? `the scheme is ${other[1]}://, not ssh://` : 'it does not start with ssh://');
  }
  const rest = url.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  if (tail !== '' && tail !== '/') {
    throw badUrl(url, `"${tail}" after the host is not supported (no path, query or fragment)`, `write the host alone (${URL_FORMAT}) and give the directory as the workspace path`);
  }

  const at = authority.lastIndexOf('@');
  const userPart = at === -1 ? null : authority.slice(0, at);
  const hostPort = at === -1 ? authority : authority.slice(at + 1);

  let user: string | null = null;
  if (userPart !== null) {
    if (userPart.includes(':')) throw badUrl(url, 'it holds a password', 'passwords are not supported: use keys or ssh-agent, and write ssh://user@host');
    if (userPart === '') throw badUrl(url, 'the user name before "@" is empty', 'leave out the "@" to use your ssh default user, or write ssh://user@host');
    checkName(url, 'user name', userPart);
    user = userPart;
  }

  let host: string;
  let portText: string | null = null;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close === -1) throw badUrl(url, 'the "[" of an IPv6 address is not closed');
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw badUrl(url, `unexpected "${after}" after the IPv6 address`);
      portText = after.slice(1);
    }
    // Hex groups, dots (an embedded IPv4) and an optional zone (`%eth0`).
    if (!/^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9_.-]+)?$/.test(host)) {
      throw badUrl(url, `"[${host}]" is not an IPv6 address`, 'put only IPv6 addresses in brackets, e.g. ssh://[::1]:2222');
    }
  } else {
    const colon = hostPort.indexOf(':');
    if (colon !== -1 && hostPort.indexOf(':', colon + 1) !== -1) {
      throw badUrl(url, 'an IPv6 address must be written in brackets', 'write e.g. ssh://[::1]:2222');
    }
    host = colon === -1 ? hostPort : hostPort.slice(0, colon);
    portText = colon === -1 ? null : hostPort.slice(colon + 1);
  }
  if (host === '') throw badUrl(url, 'there is no host');
  checkName(url, 'host', host);

  let port: number | null = null;
  if (portText !== null) {
    const value = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(value >= 1 && value <= 65535)) {
      throw badUrl(url, `the port ${JSON.stringify(portText)} is not a number from 1 to 65535`, 'write the port as digits after ":" (e.g. ssh://build1:2222) or leave it out for port 22');
    }
    port = value;
  }
  return { user, host, port };
}

function checkName(url: string, what: string, name: string): void {
  // ssh would read a leading "-" as an option (the `--` we pass guards the destination too).
  if (name.startsWith('-')) throw badUrl(url, `the ${what} ${JSON.stringify(name)} starts with "-"`);
  if (UNSAFE_CHARS.test(name)) throw badUrl(url, `the ${what} ${JSON.stringify(name)} contains whitespace or control characters`);
}

/** `root@127.0.0.1:2222`, `[::1]:2222`, `build1`: a target in messages. */
export function describeSshTarget(target: SshTarget): string {
  const host = target.port !== null && target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.user !== null ? `${target.user}@` : ''}${host}${target.port !== null ? `:${target.port}` : ''}`;
}

/** The `user@host` (or `host`) argument of ssh. */
export function sshDestination(target: SshTarget): string {
  return target.user !== null ? `${target.user}@${target.host}` : target.host;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks one `--ssh-option` (each becomes `-o OPT`). BatchMode is ours: with it, ssh fails
 * instead of asking for a password or a host key confirmation nobody can answer.
 */
export function validateSshOption(option: string): void {
  const keyword = /^([A-Za-z][A-Za-z0-9]*)\s*(=|\s)/.exec(option);
  if (!keyword || UNSAFE_CHARS.test(option.replaceAll(' ', ''))) {
    throw new SupervisorError(
      `invalid ssh option ${JSON.stringify(option)}: write it as KEYWORD=VALUE as in ssh_config (e.g. IdentityFile=~/.ssh/id_ed25519 or ServerAliveInterval=5), on one line`,
      2,
    );
  }
  if (keyword[1]!.toLowerCase() === 'batchmode') {
    throw new SupervisorError(
      `the ssh option ${JSON.stringify(option)} cannot be used: cm-supervisor always runs ssh with BatchMode=yes and never types passwords; use keys or ssh-agent`,
      2,
    );
  }
}

/**
 * The argv of `ssh` running `remoteArgv` on `target`, with `env` set for that command only
 * (through `env K=V …`: sshd passes no client environment unless its AcceptEnv allows it).
 *
 * ssh keeps the FIRST value it obtains for each option (ssh_config(5)), command line included,
 * so the order is: BatchMode (not overridable), the URL's port, the user's options, then our
 * defaults, which the user's options therefore override.
 */
export function sshArgv(target: SshTarget, sshOptions: readonly string[], remoteArgv: readonly string[], env: Record<string, string> = {}): string[] {
  if (remoteArgv.length === 0) throw new Error(`no remote command given for ${sshUrl(target)}`);
  const options = sshConnectOptions(target, sshOptions);
  const entries = Object.entries(env);
  for (const [name] of entries) {
    if (!ENV_NAME.test(name)) {
      throw new SupervisorError(
        `invalid environment variable name ${JSON.stringify(name)} for ${sshUrl(target)}: a name is letters, digits and "_", not starting with a digit (e.g. CODEX_HOME)`,
        2,
      );
    }
  }
  const command = entries.length > 0 ? ['env', ...entries.map(([name, value]) => `${name}=${value}`), ...remoteArgv] : [...remoteArgv];
  return ['ssh', '-T', '-o', 'BatchMode=yes', ...options, '--', sshDestination(target), joinForPosixShell(command)];
}

/**
 * The options every ssh connection to `target` takes, in ssh's first-value-wins order (see
 * sshArgv): the URL's port, the user's options, then our defaults. Without BatchMode and `-T`,
 * which only a connection nobody watches wants (a person's shell takes `-t` and may be asked).
 */
export function sshConnectOptions(target: SshTarget, sshOptions: readonly string[]): string[] {
  for (const option of sshOptions) validateSshOption(option);
  return [
    ...(target.port !== null ? ['-p', String(target.port)] : []),
    ...sshOptions.flatMap((option) => ['-o', option]),
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=3',
    // A host that accepts but never answers would otherwise hold the connection attempt forever.
    '-o',
    'ConnectTimeout=15',
  ];
}
