import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigStore, hostSpecs, parseWorkspaceTarget, verifyRemoteDirectory, workspaceHost } from '../../core/config/config.js';
import { LOCAL_HOST } from '../../core/hosts/hostSpec.js';
import type { GlobalOptions } from '../globalOptions.js';
import { applyConfigNow } from '../applyConfigNow.js';
import type { CliIo } from '../io.js';

/** `workspace add [HOST:]PATH`: a local directory, or an absolute one on an ssh host (checked over ssh). */
export async function workspaceAdd(globals: GlobalOptions, targetArg: string, opts: { name?: string }, io: CliIo): Promise<void> {
  const store = new ConfigStore(globals.home);
  const hosts = hostSpecs(store.read());
  const target = parseWorkspaceTarget(targetArg, hosts, process.cwd(), existsSync);
  // Name and duplicates first: they need no network.
  store.prepareWorkspace(target, opts);
  const host = hosts.find((h) => h.name === target.host);
  if (host?.kind === 'ssh') await verifyRemoteDirectory(host, target.path);
  const ws = store.addWorkspace(target, opts);
  const where = ws.host === LOCAL_HOST ? ws.path : `${ws.host}:${ws.path}`;
  io.out(`added workspace "${ws.name}" (${where}) to ${store.path}\n`);
  if (host?.kind !== 'ssh' && !insideGitWorkTree(ws.path)) {
    io.err(`warning: ${ws.path} is not a git repository; Codex trusts projects by directory and may ask to trust it (run \`git init\` there if it should be one)\n`);
  }
  await applyConfigNow(globals, io);
}

/** `dir` or a directory above it has `.git` (a directory, or the file of a worktree or submodule). */
function insideGitWorkTree(dir: string): boolean {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, '.git'))) return true;
    if (dirname(current) === current) return false;
  }
}

export function workspaceList(globals: GlobalOptions, opts: { json?: boolean }, io: CliIo): void {
  const store = new ConfigStore(globals.home);
  const rows = store.read().workspaces.map((w) => ({ name: w.name, host: workspaceHost(w), path: w.path, command: w.command }));
  if (opts.json) {
    io.out(`${JSON.stringify(
      rows.map(({ name, host, path }) => ({ name, host, path })),
      null,
      2,
    )}\n`);
    return;
  }
  if (rows.length === 0) {
    io.out('no workspaces configured: add one with `cm-supervisor workspace add [HOST:]PATH`\n');
    return;
  }
  const nameWidth = Math.max(...rows.map((w) => w.name.length));
  const hostWidth = Math.max(...rows.map((w) => w.host.length));
  const lines = rows.map((w) => `${w.name.padEnd(nameWidth)}  ${w.host.padEnd(hostWidth)}  ${w.path}${w.command ? `  (command: ${w.command.join(' ')})` : ''}`);
  io.out(`${lines.join('\n')}\n`);
}

export async function workspaceRemove(globals: GlobalOptions, name: string, io: CliIo): Promise<void> {
  const store = new ConfigStore(globals.home);
  const ws = store.removeWorkspace(name);
  io.out(`removed workspace "${ws.name}" (${ws.host && ws.host !== LOCAL_HOST ? `${ws.host}:${ws.path}` : ws.path})\n`);
  await applyConfigNow(globals, io);
}
