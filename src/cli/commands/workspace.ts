import { ConfigStore } from '../../core/config/config.js';
import type { GlobalOptions } from '../globalOptions.js';
import type { CliIo } from '../io.js';

export function workspaceAdd(globals: GlobalOptions, path: string, opts: { name?: string }, io: CliIo): void {
  const store = new ConfigStore(globals.home);
  const ws = store.addWorkspace(path, { name: opts.name, cwd: process.cwd() });
  io.out(`added workspace "${ws.name}" (${ws.path}) to ${store.path}\n`);
}

export function workspaceList(globals: GlobalOptions, opts: { json?: boolean }, io: CliIo): void {
  const store = new ConfigStore(globals.home);
  const { workspaces } = store.read();
  if (opts.json) {
    io.out(`${JSON.stringify(workspaces, null, 2)}\n`);
    return;
  }
  if (workspaces.length === 0) {
    io.out('no workspaces configured: add one with `cm-supervisor workspace add PATH`\n');
    return;
  }
  const width = Math.max(...workspaces.map((w) => w.name.length));
  io.out(`${workspaces.map((w) => `${w.name.padEnd(width)}  ${w.path}${w.command ? `  (command: ${w.command.join(' ')})` : ''}`).join('\n')}\n`);
}

export function workspaceRemove(globals: GlobalOptions, name: string, io: CliIo): void {
  const store = new ConfigStore(globals.home);
  const ws = store.removeWorkspace(name);
  io.out(`removed workspace "${ws.name}" (${ws.path})\n`);
}
