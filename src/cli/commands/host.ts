import { ConfigStore, describeHost, hostSpecs, parseEnvAssignments, type Config, type HostSettings } from '../../core/config/config.js';
import type { CodexDaemonMode, HostSpec } from '../../core/hosts/hostSpec.js';
import type { GlobalOptions } from '../globalOptions.js';
import { applyConfigNow } from '../applyConfigNow.js';
import type { CliIo } from '../io.js';

/** The options `host add` and `host set` share, as commander gives them. */
export interface HostCliOptions {
  sshOption?: string[];
  codexBin?: string;
  codexDaemon?: CodexDaemonMode;
  env?: string[];
}

export interface HostSetCliOptions extends HostCliOptions {
  url?: string;
  clearEnv?: boolean;
  clearSshOptions?: boolean;
}

function settingsFrom(opts: HostSetCliOptions): HostSettings {
  return {
    url: opts.url,
    sshOptions: opts.sshOption,
    codexBin: opts.codexBin,
    codexDaemon: opts.codexDaemon,
    env: opts.env ? parseEnvAssignments(opts.env) : undefined,
    clearEnv: opts.clearEnv,
    clearSshOptions: opts.clearSshOptions,
  };
}

export async function hostAdd(globals: GlobalOptions, name: string, url: string, opts: HostCliOptions, io: CliIo): Promise<void> {
  const store = new ConfigStore(globals.home);
  store.addHost(name, { ...settingsFrom(opts), url });
  io.out(`added host "${name}" to ${store.path}:\n${hostBlock(store.read(), name)}`);
  io.out(`add a workspace on it with \`cm-supervisor workspace add ${name}:/absolute/path\`\n`);
  await applyConfigNow(globals, io);
}

export async function hostSet(globals: GlobalOptions, name: string, opts: HostSetCliOptions, io: CliIo): Promise<void> {
  const store = new ConfigStore(globals.home);
  store.setHost(name, settingsFrom(opts));
  io.out(`updated host "${name}" in ${store.path}:\n${hostBlock(store.read(), name)}`);
  await applyConfigNow(globals, io);
}

export async function hostRemove(globals: GlobalOptions, name: string, io: CliIo): Promise<void> {
  const store = new ConfigStore(globals.home);
  const host = store.removeHost(name);
  io.out(`removed host "${host.name}" (${host.url})\n`);
  await applyConfigNow(globals, io);
}

/** `local` first, then the ssh hosts, then the own hosts of workspaces with a `command`. */
export function hostList(globals: GlobalOptions, opts: { json?: boolean }, io: CliIo): void {
  const config = new ConfigStore(globals.home).read();
  const hosts = hostSpecs(config);
  if (opts.json) {
    io.out(`${JSON.stringify(
      hosts.map((h) => describeHost(h, config)),
      null,
      2,
    )}\n`);
    return;
  }
  io.out(hosts.map((h) => formatHost(h, config)).join(''));
}

function hostBlock(config: Config, name: string): string {
  return formatHost(hostSpecs(config).find((h) => h.name === name)!, config);
}

/** One host as lines; environment names only: the values may be secrets. */
function formatHost(host: HostSpec, config: Config): string {
  const d = describeHost(host, config);
  const where = d.kind === 'local' && d.name === 'local' ? 'this machine' : d.kind === 'ssh' ? d.url! : d.kind === 'local' ? 'this machine (own app-server)' : `command: ${d.command!.join(' ')}`;
  const rows: [string, string][] = [
    ['codex', d.codexBin ?? (d.kind === 'ssh' ? 'codex (default, on its PATH)' : d.kind === 'command' ? '(the command)' : '(default)')],
    ['daemon', d.codexDaemon],
    ...(d.kind === 'ssh' ? [['ssh options', d.sshOptions.join(' ') || '(none)'] as [string, string]] : []),
    ['env', d.envKeys.join(', ') || '(none)'],
    ['workspaces', d.workspaces.join(', ') || '(none)'],
  ];
  return `${d.name}  ${where}\n${rows.map(([label, value]) => `  ${`${label}:`.padEnd(13)}${value}\n`).join('')}`;
}
