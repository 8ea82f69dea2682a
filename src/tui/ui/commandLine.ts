import type { View } from '../keymap.js';

/** What the `:` commands can do; the App's controller provides it. */
export interface CommandLineOps {
  show(view: View): void;
  help(): void;
  dispatchFile(path: string): void;
  /** `signalId` null: every open signal. */
  ack(signalId: string | null): void;
  mute(workspace: string, muted: boolean): void;
  notify(on: boolean): void;
  quit(): void;
  usage(text: string): void;
}

export interface CommandLineEntry {
  name: string;
  aliases: string[];
  /** As shown in the help: `FILE`, `on|off`. */
  args: string;
  description: string;
  run: (ops: CommandLineOps, arg: string) => void;
}

/** The `:` commands: this table drives running them, the help and the "unknown command" hint. */
export const COMMAND_LINE: CommandLineEntry[] = [
  { name: 'ws', aliases: ['workspaces', 'ops'], args: '', description: 'the operations view', run: (ops) => ops.show('ops') },
  { name: 'feed', aliases: [], args: '', description: 'the activity feed', run: (ops) => ops.show('feed') },
  { name: 'approvals', aliases: ['ap', 'needs'], args: '', description: 'what needs you', run: (ops) => ops.show('approvals') },
  { name: 'chat', aliases: [], args: '', description: 'the supervisor chat', run: (ops) => ops.show('chat') },
  {
    name: 'dispatch',
    aliases: [],
    args: 'FILE',
    description: 'dispatch a plan file',
    run: (ops, arg) => (arg ? ops.dispatchFile(arg) : ops.usage('usage: :dispatch FILE')),
  },
  { name: 'ack', aliases: [], args: '[SIGNAL]', description: 'mark every open signal (or one) seen', run: (ops, arg) => ops.ack(arg || null) },
  { name: 'mute', aliases: [], args: 'WS', description: "no notifications for a workspace's signals", run: (ops, arg) => ops.mute(arg, true) },
  { name: 'unmute', aliases: [], args: 'WS', description: 'notifications for the workspace again', run: (ops, arg) => ops.mute(arg, false) },
  {
    name: 'notify',
    aliases: [],
    args: 'on|off',
    description: 'notifications on or off for this session',
    run: (ops, arg) => (arg === 'on' || arg === 'off' ? ops.notify(arg === 'on') : ops.usage('usage: :notify on|off')),
  },
  { name: 'help', aliases: ['h'], args: '', description: 'keys and commands', run: (ops) => ops.help() },
  { name: 'q', aliases: ['quit'], args: '', description: 'quit', run: (ops) => ops.quit() },
];

/** `:name ARGS` as the help shows it. */
export const commandUsage = (c: CommandLineEntry): string => `:${c.name}${c.args ? ` ${c.args}` : ''}`;

export function findCommand(name: string): CommandLineEntry | undefined {
  return COMMAND_LINE.find((c) => c.name === name || c.aliases.includes(name));
}

/** Runs one typed line; an unknown name lists the commands. */
export function runCommandLine(line: string, ops: CommandLineOps): void {
  const [name = '', ...args] = line.trim().split(/\s+/);
  const command = findCommand(name);
  if (!command) return ops.usage(`unknown command ":${name}" — try ${COMMAND_LINE.map(commandUsage).join(' ')}`);
  command.run(ops, args.join(' '));
}
