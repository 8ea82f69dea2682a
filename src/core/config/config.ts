import Conf from 'conf';
import { existsSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { SupervisorError } from '../errors.js';
import { LOCAL_HOST } from '../hosts/hostSpec.js';
import { checkPrivateFile, ensurePrivateHome, PRIVATE_FILE_MODE } from '../persistence/privateHome.js';
import { unknownHostError, withHostAdded, withHostRemoved, withHostSet, workspaceHost, type HostSettings } from './hostsConfig.js';
import { configProblems, WORKSPACE_NAME_PATTERN, type Config, type HostConfig, type WorkspaceConfig } from './schema.js';
import type { WorkspaceTarget } from './workspaceTarget.js';

export { ConfigSchema, ENV_NAME_PATTERN, HOST_NAME_PATTERN, WORKSPACE_NAME_PATTERN, type Config, type HostConfig, type WorkspaceConfig } from './schema.js';
export { describeHost, hostSpecs, withNamedCodexBin, parseEnvAssignments, workspaceHost, workspaceSpecs, type HostSettings } from './hostsConfig.js';
export { parseWorkspaceTarget, verifyRemoteDirectory, type WorkspaceTarget } from './workspaceTarget.js';

/**
 * The user's configuration, `<home>/config.json`, kept by conf (atomic writes) and validated
 * with zod on every read; errors name the file and the field. Every change is checked against
 * the current file and written as one key (`hosts` or `workspaces`); the rest is left as it is.
 */
export class ConfigStore {
  private readonly store: Conf<Record<string, unknown>>;
  readonly path: string;

  constructor(readonly home: string) {
    // Before conf, which would create a missing home with the umask's mode.
    ensurePrivateHome(home);
    try {
      this.store = new Conf<Record<string, unknown>>({
        cwd: home,
        configName: 'config',
        projectSuffix: '',
        clearInvalidConfig: false,
        configFileMode: PRIVATE_FILE_MODE,
      });
    } catch (error) {
      throw new SupervisorError(
        `cannot read ${join(home, 'config.json')}: ${error instanceof Error ? error.message : String(error)}; fix or remove the file`,
        2,
        { cause: error },
      );
    }
    this.path = this.store.path;
  }

  read(): Config {
    // Read again on every change (the daemon reloads it): refused as soon as others can write it.
    checkPrivateFile(this.path);
    const { config, problems } = configProblems(this.store.store);
    if (!config) throw new SupervisorError(`invalid configuration in ${this.path}: ${problems}`, 2);
    return config;
  }

  addHost(name: string, settings: HostSettings & { url: string }): HostConfig {
    return this.writeHosts(withHostAdded(this.read(), name, settings), name);
  }

  /** Changes a host's settings; `local` gets an entry in `hosts` on its first change. */
  setHost(name: string, settings: HostSettings): HostConfig {
    return this.writeHosts(withHostSet(this.read(), name, settings), name);
  }

  removeHost(name: string): HostConfig {
    const config = this.read();
    const host = config.hosts.find((h) => h.name === name);
    this.write('hosts', withHostRemoved(config, name));
    return host!;
  }

  /**
   * The entry `addWorkspace` would write, without writing it: throws when the name is invalid
   * or taken, the host unknown, the place already configured, or a local path no directory.
   * A remote directory is checked by the caller (verifyRemoteDirectory: it is asynchronous).
   */
  prepareWorkspace(target: WorkspaceTarget, options: { name?: string } = {}): WorkspaceConfig {
    const config = this.read();
    const { host, path } = target;
    const isSsh = config.hosts.some((h) => h.name === host && h.name !== LOCAL_HOST);
    if (!isSsh && host !== LOCAL_HOST) throw unknownHostError(host, config);
    if (!isSsh && (!existsSync(path) || !statSync(path).isDirectory())) {
      throw new SupervisorError(`${path} is not a directory; give the path of a repository to supervise`, 2);
    }
    const name = options.name ?? posix.basename(path);
    if (!WORKSPACE_NAME_PATTERN.test(name)) {
      throw new SupervisorError(`"${name}" is not a valid workspace name; use --name with 1 to 64 letters, digits, ".", "_" or "-"`, 2);
    }
    if (config.workspaces.some((w) => w.name === name)) {
      throw new SupervisorError(`a workspace named "${name}" already exists; pick another with --name`, 2);
    }
    // Workspaces with their own command run on this machine too.
    const machine = (hostName: string) => (config.hosts.some((h) => h.name === hostName && h.name !== LOCAL_HOST) ? hostName : LOCAL_HOST);
    const existing = config.workspaces.find((w) => w.path === path && machine(workspaceHost(w)) === machine(host));
    if (existing) throw new SupervisorError(`${isSsh ? `${host}:${path}` : path} is already configured as workspace "${existing.name}"`, 2);
    return { name, host, path };
  }

  addWorkspace(target: WorkspaceTarget, options: { name?: string } = {}): WorkspaceConfig {
    const workspace = this.prepareWorkspace(target, options);
    this.write('workspaces', [...this.read().workspaces, workspace]);
    return workspace;
  }

  removeWorkspace(name: string): WorkspaceConfig {
    const config = this.read();
    const workspace = config.workspaces.find((w) => w.name === name);
    if (!workspace) {
      const known = config.workspaces.map((w) => w.name).join(', ') || '(none)';
      throw new SupervisorError(`no workspace named "${name}"; configured: ${known}`, 2);
    }
    this.write(
      'workspaces',
      config.workspaces.filter((w) => w.name !== name),
    );
    return workspace;
  }

  private writeHosts(hosts: HostConfig[], name: string): HostConfig {
    this.write('hosts', hosts);
    return hosts.find((h) => h.name === name)!;
  }

  /** Writes one key, after checking that the whole file stays valid with it. */
  private write(key: 'hosts' | 'workspaces', value: HostConfig[] | WorkspaceConfig[]): void {
    const { problems } = configProblems({ ...this.store.store, [key]: value });
    if (problems) throw new SupervisorError(`not saved: ${this.path} would be invalid: ${problems}`, 2);
    this.store.set(key, value);
  }
}
