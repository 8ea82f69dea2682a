/**
 * Hosts own app-servers; a workspace is a directory on a host. These are the specs the loop
 * works from, built from config.json (config.ts) or by the demo and tests. They sit at the
 * lowest layer that needs them so that config, loop and dispatch all import downwards.
 */

/** How a host finds its app-server (`--codex-daemon`). */
export type CodexDaemonMode =
  /** Use Codex's own daemon when its control socket answers, else a private child (default). */
  | 'attach'
  /** Run `codex app-server daemon start` first, then attach. */
  | 'start'
  /** Always a private `codex app-server` child. */
  | 'never';

export const CODEX_DAEMON_MODES: readonly CodexDaemonMode[] = ['attach', 'start', 'never'];

export interface SshTarget {
  user: string | null;
  /** A host name or address as ssh takes it (IPv6 without brackets). */
  host: string;
  port: number | null;
}

/** The always-present host: this machine. */
export const LOCAL_HOST = 'local';

export interface HostSpec {
  name: string;
  /**
   * `local`: this machine. `ssh`: another machine over OpenSSH. `command`: the app-server
   * command of a workspace configured before hosts existed (`workspace.command`), which keeps
   * working as that workspace's own host.
   */
  kind: 'local' | 'ssh' | 'command';
  /** kind `ssh`: where to connect. */
  ssh: SshTarget | null;
  /** kind `ssh`: each becomes `-o OPT` on the ssh command line. */
  sshOptions: string[];
  /** The codex binary on that host; null: the resolved default (local) or `codex` (ssh). */
  codexBin: string | null;
  codexDaemon: CodexDaemonMode;
  /** Environment of the app-server on that host (e.g. CODEX_HOME, a provider key variable). */
  env: Record<string, string>;
  /** kind `command`: argv of a process that speaks the app-server protocol on stdio. */
  command: string[] | null;
}

export interface WorkspaceSpec {
  name: string;
  /** The name of its host (`local` unless configured otherwise). */
  host: string;
  /** An absolute directory on that host. */
  path: string;
  stallAfterMs?: number;
}

/** A local host with default settings (the one `local` is unless `host set local` changed it). */
export function localHost(overrides: Partial<HostSpec> = {}): HostSpec {
  return { name: LOCAL_HOST, kind: 'local', ssh: null, sshOptions: [], codexBin: null, codexDaemon: 'attach', env: {}, command: null, ...overrides };
}

/** The name of the implicit host that runs a legacy workspace `command`. */
export function commandHostName(workspace: string): string {
  return `command:${workspace}`;
}

/** `ssh://user@host:port` as the user would write it (for lists and messages). */
export function sshUrl(target: SshTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `ssh://${target.user ? `${target.user}@` : ''}${host}${target.port ? `:${target.port}` : ''}`;
}
