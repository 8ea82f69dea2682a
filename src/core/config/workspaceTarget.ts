import { posix, resolve } from 'node:path';
import { SupervisorError } from '../errors.js';
import { LOCAL_HOST, sshUrl, type HostSpec } from '../hosts/hostSpec.js';
import { probeRemoteDirectory } from '../hosts/remoteProbe.js';

/** Where a workspace is: a host's name and an absolute directory on that host. */
export interface WorkspaceTarget {
  host: string;
  path: string;
}

const HOST_PREFIX = /^([A-Za-z0-9._-]{1,64}):(.*)$/s;

/**
 * `workspace add [HOST:]PATH` → its host and absolute path. Without a known host prefix the
 * argument is a local path, resolved against `cwd`; a prefix that names no host is an error
 * unless a local file of that name exists (`a:b` may be a directory). Write `./build1:x` for a
 * local path that starts like a host name. Pure but for `localPathExists`.
 */
export function parseWorkspaceTarget(arg: string, hosts: readonly HostSpec[], cwd: string, localPathExists: (path: string) => boolean): WorkspaceTarget {
  const prefix = HOST_PREFIX.exec(arg);
  if (!prefix) return { host: LOCAL_HOST, path: resolve(cwd, arg) };
  const name = prefix[1]!;
  const rest = prefix[2]!;
  const host = hosts.find((h) => h.name === name);
  if (!host) {
    if (localPathExists(resolve(cwd, arg))) return { host: LOCAL_HOST, path: resolve(cwd, arg) };
    const known = hosts.filter((h) => h.kind !== 'command').map((h) => h.name).join(', ');
    throw new SupervisorError(`unknown host "${name}"; known hosts: ${known}; add it with \`cm-supervisor host add ${name} ssh://…\``, 2);
  }
  if (host.kind === 'local') return { host: host.name, path: resolve(cwd, rest) };
  if (!rest.startsWith('/')) {
    throw new SupervisorError(
      `the path ${JSON.stringify(rest)} on host ${name} is not absolute; a remote workspace needs the absolute path of its directory, e.g. ${name}:/home/me/repo`,
      2,
    );
  }
  const path = posix.normalize(rest);
  return { host: host.name, path: path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path };
}

/**
 * Checks over ssh that `path` is a directory on `host` (an ssh host): exit 2 with what to fix
 * when the host cannot be reached or the path is no directory there.
 */
export async function verifyRemoteDirectory(host: HostSpec, path: string, probe: typeof probeRemoteDirectory = probeRemoteDirectory): Promise<void> {
  const result = await probe(host, path);
  if (result.ok) return;
  if (result.reason === 'notDirectory') throw new SupervisorError(result.message, 2);
  const where = `${host.name} (${sshUrl(host.ssh!)})`;
  // The probe's message says what ssh said and what to check; it may start with where already.
  const detail = result.message.startsWith(`cannot reach ${where}: `) ? result.message.slice(`cannot reach ${where}: `.length) : result.message;
  throw new SupervisorError(
    `host ${where} is unreachable: ${detail.replace(/\.$/, '')}; once \`ssh\` gets through, add the workspace again (change the host with \`cm-supervisor host set ${host.name} --url ssh://… --ssh-option …\`)`,
    2,
  );
}
