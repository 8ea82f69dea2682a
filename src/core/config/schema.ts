import { z } from 'zod';
import { SupervisorError } from '../errors.js';
import { LOCAL_HOST, type CodexDaemonMode } from '../hosts/hostSpec.js';
import { parseSshUrl, validateSshOption } from '../hosts/ssh.js';

/** Workspace and host names: they appear in commands, plans and `HOST:PATH`, so no ":" or spaces. */
export const WORKSPACE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const HOST_NAME_PATTERN = WORKSPACE_NAME_PATTERN;
const NAME_RULE = 'use 1 to 64 letters, digits, ".", "_" or "-"';

/** An environment variable name, as `env` and POSIX shells take it. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

const DAEMON_MODES = ['attach', 'start', 'never'] as const satisfies readonly CodexDaemonMode[];

const HostConfigSchema = z.strictObject({
  name: z.string().regex(HOST_NAME_PATTERN, NAME_RULE),
  /** `ssh://[user@]host[:port]`; absent only for `local`. */
  url: z.string().optional(),
  sshOptions: z.array(z.string()).optional(),
  codexBin: z.string().min(1).optional(),
  codexDaemon: z.enum(DAEMON_MODES, { error: 'must be "attach", "start" or "never"' }).optional(),
  env: z.record(z.string(), z.string()).optional(),
});

const WorkspaceConfigSchema = z.strictObject({
  name: z.string().regex(WORKSPACE_NAME_PATTERN, NAME_RULE),
  /** The host's name; absent: `local` (files written before hosts existed). */
  host: z.string().optional(),
  path: z.string().refine((p) => p.startsWith('/'), 'must be an absolute path'),
  /** Before hosts: the app-server command of this workspace (tests' fake app-servers). */
  command: z.array(z.string().min(1)).min(1).optional(),
  /** Before hosts: the environment of this workspace's own app-server. */
  env: z.record(z.string(), z.string()).optional(),
  stallAfterSec: z.number().positive().optional(),
});

export const ConfigSchema = z
  .strictObject({
    hosts: z.array(HostConfigSchema).default([]),
    workspaces: z.array(WorkspaceConfigSchema).default([]),
    /** The codex binary of `local` (before hosts; `host set local --codex-bin` writes hosts[]). */
    codexBin: z.string().min(1).optional(),
    pollIntervalSec: z.number().positive().optional(),
    stallAfterSec: z.number().positive().optional(),
    /** Plans may widen what agents may do (docs/plan-format.md): the standing `--allow-unsafe`. */
    allowUnsafePlans: z.boolean().optional(),
    notifications: z
      .strictObject({
        enabled: z.boolean().default(true),
        kinds: z.array(z.enum(['needs_approval', 'failed', 'completed', 'stalled', 'disconnected'])).optional(),
        muted: z.array(z.string()).default([]),
      })
      .optional(),
  })
  .superRefine((config, ctx) => {
    const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const hostIndex = new Map<string, number>();
    config.hosts.forEach((host, i) => {
      const first = hostIndex.get(host.name);
      if (first !== undefined) problem(['hosts', i, 'name'], `"${host.name}" is already the name of hosts.${first}; give each host its own name`);
      else hostIndex.set(host.name, i);
      for (const key of Object.keys(host.env ?? {})) {
        if (!ENV_NAME_PATTERN.test(key)) problem(['hosts', i, 'env', key], 'not an environment variable name: use letters, digits and "_", not starting with a digit');
      }
      if (host.name === LOCAL_HOST) {
        if (host.url !== undefined) problem(['hosts', i, 'url'], `"local" is this machine and has no url; remove it, or give the ssh host another name`);
        if (host.sshOptions?.length) problem(['hosts', i, 'sshOptions'], `"local" is this machine and is not reached over ssh; remove them`);
        return;
      }
      if (host.url === undefined) {
        problem(['hosts', i, 'url'], 'missing: every host but "local" needs an ssh://[user@]host[:port] url');
      } else {
        const error = supervisorMessage(() => parseSshUrl(host.url!));
        if (error) problem(['hosts', i, 'url'], error);
      }
      host.sshOptions?.forEach((option, j) => {
        const error = supervisorMessage(() => validateSshOption(option));
        if (error) problem(['hosts', i, 'sshOptions', j], error);
      });
    });

    const known = () => [LOCAL_HOST, ...config.hosts.map((h) => h.name).filter((n) => n !== LOCAL_HOST)].join(', ');
    const workspaceIndex = new Map<string, number>();
    config.workspaces.forEach((ws, i) => {
      const first = workspaceIndex.get(ws.name);
      if (first !== undefined) problem(['workspaces', i, 'name'], `"${ws.name}" is already the name of workspaces.${first}; give each workspace its own name`);
      else workspaceIndex.set(ws.name, i);
      if (ws.host === undefined) return;
      if (ws.command || ws.env) {
        problem(['workspaces', i, 'host'], 'a workspace with its own command or env is its own host; remove "host", or move the environment to the host (`cm-supervisor host set HOST --env KEY=VALUE`) and remove "command" and "env"');
      } else if (ws.host !== LOCAL_HOST && !hostIndex.has(ws.host)) {
        problem(['workspaces', i, 'host'], `unknown host "${ws.host}"; known hosts: ${known()}; add it with \`cm-supervisor host add ${ws.host} ssh://…\``);
      }
    });
  });

/** The message of the SupervisorError `check` throws, or null when it passes. */
function supervisorMessage(check: () => unknown): string | null {
  try {
    check();
    return null;
  } catch (error) {
    if (error instanceof SupervisorError) return error.message;
    throw error;
  }
}

export type Config = z.infer<typeof ConfigSchema>;
export type HostConfig = z.infer<typeof HostConfigSchema>;
export type WorkspaceConfig = z.infer<typeof WorkspaceConfigSchema>;

/**
 * Why `value` is not a valid configuration, one `field: message` per problem (joined with "; "),
 * or null when it is valid.
 */
export function configProblems(value: unknown): { config: Config; problems: null } | { config: null; problems: string } {
  const parsed = ConfigSchema.safeParse(value);
  if (parsed.success) return { config: parsed.data, problems: null };
  return { config: null, problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ') };
}
