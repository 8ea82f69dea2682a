import { SupervisorError } from '../errors.js';
import { commandHostName, LOCAL_HOST, localHost, sshUrl, type CodexDaemonMode, type HostSpec, type WorkspaceSpec } from '../hosts/hostSpec.js';
import { parseSshUrl, validateSshOption } from '../hosts/ssh.js';
import { ENV_NAME_PATTERN, HOST_NAME_PATTERN, type Config, type HostConfig, type WorkspaceConfig } from './schema.js';

/** What `host add` and `host set` change; lists and env replace what was there. */
export interface HostSettings {
  url?: string;
  sshOptions?: string[];
  codexBin?: string;
  codexDaemon?: CodexDaemonMode;
  env?: Record<string, string>;
  /** `host set` only: empty the list before applying `sshOptions`/`env`. */
  clearSshOptions?: boolean;
  clearEnv?: boolean;
}

/**
 * A workspace written before hosts existed with its own `command` (or `env`) keeps its own
 * app-server: it is the only workspace of an implicit host named `command:<workspace>`.
 */
function hasOwnHost(ws: WorkspaceConfig): boolean {
  return ws.command !== undefined || ws.env !== undefined;
}

/**
 * The hosts for a run whose codex binary the user named (--codex-bin or CM_SUPERVISOR_CODEX_BIN):
 * it beats what config.json says, so the hosts on this machine forget their own and use it.
 */
export function withNamedCodexBin(hosts: HostSpec[]): HostSpec[] {
  return hosts.map((h) => (h.kind === 'local' ? { ...h, codexBin: null } : h));
}

/** The name of the host a configured workspace runs on. */
export function workspaceHost(ws: WorkspaceConfig): string {
  return hasOwnHost(ws) ? commandHostName(ws.name) : (ws.host ?? LOCAL_HOST);
}

/**
 * Every host of the configuration: `local` first (always), the ssh hosts in file order, then
 * the implicit hosts of workspaces with their own command or env. The config must be valid
 * (ConfigStore.read validated it). A local host without a codex binary of its own uses the one
 * the command decided (--codex-bin, the environment, the top-level `codexBin`, the bundled one).
 */
export function hostSpecs(config: Config): HostSpec[] {
  const localConfig = config.hosts.find((h) => h.name === LOCAL_HOST);
  const local = localHost({
    codexBin: localConfig?.codexBin ?? null,
    codexDaemon: localConfig?.codexDaemon ?? 'attach',
    env: { ...localConfig?.env },
  });
  const ssh = config.hosts
    .filter((h) => h.name !== LOCAL_HOST)
    .map(
      (h): HostSpec => ({
        name: h.name,
        kind: 'ssh',
        ssh: parseSshUrl(h.url!),
        sshOptions: [...(h.sshOptions ?? [])],
        codexBin: h.codexBin ?? null,
        codexDaemon: h.codexDaemon ?? 'attach',
        env: { ...h.env },
        command: null,
      }),
    );
  const own = config.workspaces.filter(hasOwnHost).map(
    (ws): HostSpec =>
      ws.command
        ? { ...localHost(), name: commandHostName(ws.name), kind: 'command', codexDaemon: 'never', env: { ...ws.env }, command: [...ws.command] }
        : // Only `env`: a private app-server on this machine with that environment, as before hosts.
          { ...local, name: commandHostName(ws.name), codexDaemon: 'never', env: { ...local.env, ...ws.env } },
  );
  return [local, ...ssh, ...own];
}

/** Supervisor workspace specs from the configuration. */
export function workspaceSpecs(config: Config): WorkspaceSpec[] {
  return config.workspaces.map((w) => {
    const stallAfterSec = w.stallAfterSec ?? config.stallAfterSec;
    return { name: w.name, host: workspaceHost(w), path: w.path, ...(stallAfterSec ? { stallAfterMs: stallAfterSec * 1000 } : {}) };
  });
}

/** `KEY=VALUE` arguments (`--env`) → an environment; a later KEY replaces an earlier one. */
export function parseEnvAssignments(assignments: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    const name = eq === -1 ? '' : assignment.slice(0, eq);
    if (!ENV_NAME_PATTERN.test(name)) {
      throw new SupervisorError(
        `--env ${JSON.stringify(assignment)} is not KEY=VALUE with KEY of letters, digits and "_" (not starting with a digit); write e.g. --env CODEX_HOME=/home/me/.codex`,
        2,
      );
    }
    env[name] = assignment.slice(eq + 1);
  }
  return env;
}

function knownHosts(config: Config): string {
  return [LOCAL_HOST, ...config.hosts.map((h) => h.name).filter((n) => n !== LOCAL_HOST)].join(', ');
}

export function unknownHostError(name: string, config: Config): SupervisorError {
  return new SupervisorError(`unknown host "${name}"; known hosts: ${knownHosts(config)}; add it with \`cm-supervisor host add ${name} ssh://…\``, 2);
}

function checkSshSettings(settings: HostSettings): void {
  if (settings.url !== undefined) parseSshUrl(settings.url);
  settings.sshOptions?.forEach(validateSshOption);
}

/** The hosts list with `name` added (`host add`). */
export function withHostAdded(config: Config, name: string, settings: HostSettings & { url: string }): HostConfig[] {
  if (name === LOCAL_HOST) {
    throw new SupervisorError('the host "local" is this machine and always exists; change its settings with `cm-supervisor host set local …`', 2);
  }
  if (!HOST_NAME_PATTERN.test(name)) {
    throw new SupervisorError(`"${name}" is not a valid host name; use 1 to 64 letters, digits, ".", "_" or "-"`, 2);
  }
  const existing = config.hosts.find((h) => h.name === name);
  if (existing) {
    throw new SupervisorError(`a host named "${name}" already exists (${existing.url}); change it with \`cm-supervisor host set ${name} …\` or pick another name`, 2);
  }
  checkSshSettings(settings);
  return [...config.hosts, applySettings({ name }, settings)];
}

/** The hosts list with `name` changed (`host set`, also for `local`). */
export function withHostSet(config: Config, name: string, settings: HostSettings): HostConfig[] {
  const existing = config.hosts.find((h) => h.name === name);
  if (!existing && name !== LOCAL_HOST) {
    throw new SupervisorError(`no host named "${name}"; known hosts: ${knownHosts(config)}; add it with \`cm-supervisor host add ${name} ssh://…\``, 2);
  }
  if (Object.values(settings).every((v) => v === undefined || v === false)) {
    throw new SupervisorError('nothing to change; give --url, --ssh-option, --codex-bin, --codex-daemon, --env, --clear-env or --clear-ssh-options', 2);
  }
  if (name === LOCAL_HOST && settings.url !== undefined) {
    throw new SupervisorError('the host "local" is this machine and has no url; add an ssh host with `cm-supervisor host add NAME ssh://…`', 2);
  }
  if (name === LOCAL_HOST && settings.sshOptions?.length) {
    throw new SupervisorError('the host "local" is this machine and is not reached over ssh; --ssh-option is for ssh hosts', 2);
  }
  checkSshSettings(settings);
  const updated = applySettings(existing ?? { name }, settings);
  return existing ? config.hosts.map((h) => (h === existing ? updated : h)) : [...config.hosts, updated];
}

/** The hosts list without `name` (`host remove`); refused while a workspace uses it. */
export function withHostRemoved(config: Config, name: string): HostConfig[] {
  if (name === LOCAL_HOST) throw new SupervisorError('the host "local" is this machine and cannot be removed', 2);
  if (!config.hosts.some((h) => h.name === name)) {
    throw new SupervisorError(`no host named "${name}"; known hosts: ${knownHosts(config)}`, 2);
  }
  const users = config.workspaces.filter((w) => workspaceHost(w) === name).map((w) => w.name);
  if (users.length > 0) {
    throw new SupervisorError(
      `host ${name} is used by workspace${users.length === 1 ? '' : 's'} ${users.join(', ')}; remove ${users.length === 1 ? 'it' : 'them'} first with \`cm-supervisor workspace remove NAME\``,
      2,
    );
  }
  return config.hosts.filter((h) => h.name !== name);
}

function applySettings(host: HostConfig, settings: HostSettings): HostConfig {
  const next: HostConfig = { ...host };
  if (settings.url !== undefined) next.url = settings.url;
  if (settings.clearSshOptions) delete next.sshOptions;
  if (settings.sshOptions !== undefined) next.sshOptions = [...settings.sshOptions];
  if (settings.codexBin !== undefined) next.codexBin = settings.codexBin;
  if (settings.codexDaemon !== undefined) next.codexDaemon = settings.codexDaemon;
  if (settings.clearEnv) delete next.env;
  if (settings.env !== undefined) next.env = { ...settings.env };
  if (next.sshOptions?.length === 0) delete next.sshOptions;
  if (next.env && Object.keys(next.env).length === 0) delete next.env;
  return next;
}

/** One host as `host list --json` prints it: environment names only, never values. */
export function describeHost(host: HostSpec, config: Config) {
  return {
    name: host.name,
    kind: host.kind,
    url: host.ssh ? sshUrl(host.ssh) : null,
    sshOptions: host.sshOptions,
    codexBin: host.codexBin,
    codexDaemon: host.codexDaemon,
    envKeys: Object.keys(host.env),
    command: host.command,
    workspaces: config.workspaces.filter((w) => workspaceHost(w) === host.name).map((w) => w.name),
  };
}
