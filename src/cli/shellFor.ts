import type { SupervisorApi } from '../core/api/supervisorApi.js';
import type { Config } from '../core/config/config.js';
import { hostSpecs } from '../core/config/hostsConfig.js';
import { SupervisorError } from '../core/errors.js';
import { localHost } from '../core/hosts/hostSpec.js';
import { shellCommand, type ShellCommand } from '../core/hosts/shellCommand.js';

/**
 * The TUI's `!`: the shell for a thread — in the thread's own directory when Codex reports
 * one, else its workspace's — on the machine of the workspace's host.
 */
export function shellFor(api: SupervisorApi, readConfig: () => Config | null) {
  return async (threadId: string): Promise<ShellCommand> => {
    const state = await api.snapshot();
    const thread = state.threads[threadId];
    const workspace = thread ? state.workspaces[thread.workspace] : undefined;
    if (!thread || !workspace) throw new SupervisorError(`thread ${threadId} is gone`, 1);
    const config = readConfig();
    const host = (config ? hostSpecs(config) : []).find((h) => h.name === workspace.host) ?? localHost();
    return shellCommand(host, { path: thread.cwd ?? workspace.path }, process.env);
  };
}
