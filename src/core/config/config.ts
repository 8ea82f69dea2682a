import Conf from 'conf';
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { SupervisorError } from '../errors.js';
import type { WorkspaceSpec } from '../loop/supervisor.js';

export const WORKSPACE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

const WorkspaceConfigSchema = z.strictObject({
  name: z.string().regex(WORKSPACE_NAME_PATTERN, 'use 1 to 64 letters, digits, ".", "_" or "-"'),
  path: z.string().refine((p) => p.startsWith('/'), 'must be an absolute path'),
  command: z.array(z.string().min(1)).min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
  stallAfterSec: z.number().positive().optional(),
});

export const ConfigSchema = z.strictObject({
  workspaces: z.array(WorkspaceConfigSchema).default([]),
  codexBin: z.string().min(1).optional(),
  pollIntervalSec: z.number().positive().optional(),
  stallAfterSec: z.number().positive().optional(),
  notifications: z
    .strictObject({
      enabled: z.boolean().default(true),
      kinds: z.array(z.enum(['needs_approval', 'failed', 'completed', 'stalled', 'disconnected'])).optional(),
      muted: z.array(z.string()).default([]),
    })
    .optional(),
});

export type Config = z.infer<typeof ConfigSchema>;
export type WorkspaceConfig = z.infer<typeof WorkspaceConfigSchema>;

/**
 * The user's configuration, `<home>/config.json`, kept by conf (atomic writes) and validated
 * with zod on every read; errors name the file and the field.
 */
export class ConfigStore {
  private readonly store: Conf<Record<string, unknown>>;
  readonly path: string;

  constructor(readonly home: string) {
    try {
      this.store = new Conf<Record<string, unknown>>({ cwd: home, configName: 'config', projectSuffix: '', clearInvalidConfig: false });
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
    const parsed = ConfigSchema.safeParse(this.store.store);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
      throw new SupervisorError(`invalid configuration in ${this.path}: ${problems}`, 2);
    }
    return parsed.data;
  }

  addWorkspace(pathArg: string, options: { name?: string; cwd: string }): WorkspaceConfig {
    const config = this.read();
    const path = resolve(options.cwd, pathArg);
    if (!existsSync(path) || !statSync(path).isDirectory()) {
      throw new SupervisorError(`${path} is not a directory; give the path of a repository to supervise`, 2);
    }
    const name = options.name ?? basename(path);
    if (!WORKSPACE_NAME_PATTERN.test(name)) {
      throw new SupervisorError(`"${name}" is not a valid workspace name; use --name with 1 to 64 letters, digits, ".", "_" or "-"`, 2);
    }
    if (config.workspaces.some((w) => w.name === name)) {
      throw new SupervisorError(`a workspace named "${name}" already exists; pick another with --name`, 2);
    }
    const existing = config.workspaces.find((w) => w.path === path);
    if (existing) throw new SupervisorError(`${path} is already configured as workspace "${existing.name}"`, 2);
    const workspace: WorkspaceConfig = { name, path };
    this.store.set('workspaces', [...config.workspaces, workspace]);
    return workspace;
  }

  removeWorkspace(name: string): WorkspaceConfig {
    const config = this.read();
    const workspace = config.workspaces.find((w) => w.name === name);
    if (!workspace) {
      const known = config.workspaces.map((w) => w.name).join(', ') || '(none)';
      throw new SupervisorError(`no workspace named "${name}"; configured: ${known}`, 2);
    }
    this.store.set(
      'workspaces',
      config.workspaces.filter((w) => w.name !== name),
    );
    return workspace;
  }
}

/** Supervisor workspace specs from the configuration. */
export function workspaceSpecs(config: Config): WorkspaceSpec[] {
  return config.workspaces.map((w) => ({
    name: w.name,
    path: w.path,
    ...(w.command ? { command: w.command } : {}),
    ...(w.env ? { env: w.env } : {}),
    ...((w.stallAfterSec ?? config.stallAfterSec) ? { stallAfterMs: (w.stallAfterSec ?? config.stallAfterSec)! * 1000 } : {}),
  }));
}
