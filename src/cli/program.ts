import { Command, InvalidArgumentError, Option } from 'commander';
import { closest } from '../core/contract/validatePlan.js';
import { packageInfo } from '../core/packageInfo.js';
import { chatCommand, type ChatCliOptions } from './commands/chat.js';
import { dispatchCommand, type DispatchCliOptions } from './commands/dispatch.js';
import { doctorCommand } from './commands/doctor.js';
import { attachCommand, demoCommand, tuiCommand } from './commands/tui.js';
import { daemonRun, daemonStart, daemonStatus, daemonStop } from './commands/daemon.js';
import { schemaCommand } from './commands/schema.js';
import { feedCommand, statusCommand } from './commands/status.js';
import { workspaceAdd, workspaceList, workspaceRemove } from './commands/workspace.js';
import { resolveGlobalOptions } from './globalOptions.js';
import type { CliIo } from './io.js';

function parsePositiveInt(value: string): string {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a positive whole number');
  return value;
}

/** Options of the commands that wait for dispatched turns (dispatch, chat). */
function timeoutOption(): Option {
  return new Option('--timeout <seconds>', 'interrupt turns still running after this long').argParser(parsePositiveInt);
}

function onApprovalOption(): Option {
  return new Option('--on-approval <policy>', 'how to answer approvals of the dispatched turns (default: ask on a terminal, else decline)').choices([
    'ask',
    'accept',
    'decline',
    'cancel',
  ]);
}

/** `outcome.exitCode` lets a command report "the work failed" (1) without an error message. */
export function buildProgram(io: CliIo, outcome: { exitCode: number } = { exitCode: 0 }): Command {
  const program = new Command('cm-supervisor');
  program
    .description('Supervise many OpenAI Codex agents (codex app-server), one per workspace, from one terminal.')
    .version(packageInfo().version, '-V, --version')
    .addOption(new Option('--home <dir>', 'state and config directory').env('CM_SUPERVISOR_HOME'))
    .addOption(
      new Option('--codex-bin <path>', 'codex binary to run (default: the bundled one, then codex on PATH)').env(
        'CM_SUPERVISOR_CODEX_BIN',
      ),
    )
    .option('--no-color', 'no colours (also when NO_COLOR is set)')
    .option('--no-daemon', 'supervise in this process even when a daemon runs for this home')
    .showHelpAfterError('(run cm-supervisor --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const globals = () => resolveGlobalOptions(program.opts<{ home?: string; codexBin?: string; daemon?: boolean }>(), io);
  const color = () => program.opts<{ color: boolean }>().color && !io.env.NO_COLOR;

  // With no command: the operations view. A word that is no command is a usage error, said
  // as such (commander would call it an excess argument once the root has an action).
  program.usage('[options] [command]').argument('[command]').action(async (command?: string) => {
    if (command !== undefined) {
      const known = program.commands.map((c) => c.name());
      const near = closest(command, known);
      program.error(`error: unknown command '${command}'${near ? `\n(Did you mean ${near}?)` : ''}`, { code: 'commander.unknownCommand', exitCode: 2 });
    }
    await tuiCommand(globals(), { color: color() }, io);
  });

  program
    .command('attach')
    .description('the operations view of the running daemon (quitting leaves it running)')
    .action(async () => attachCommand(globals(), { color: color() }, io));

  const daemon = program.command('daemon').description('run the supervisor in the background; the TUI and commands attach to it');
  daemon
    .command('start')
    .description('start the daemon in the background and wait until it answers')
    .action(async () => daemonStart(globals(), io));
  daemon
    .command('run')
    .description('run the daemon in the foreground (for systemd or tmux)')
    .action(async () => daemonRun(globals(), io));
  daemon
    .command('stop')
    .description('stop the daemon gracefully: state saved, app-servers stopped')
    .action(async () => daemonStop(globals(), io));
  daemon
    .command('status')
    .description('pid, uptime, socket and workspaces of the daemon (exit 1 when none runs)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      outcome.exitCode = await daemonStatus(globals(), opts, io);
    });

  program
    .command('demo')
    .description('the offline demo: real codex app-servers, an embedded mock model, three scripted workspaces')
    .action(async () => demoCommand(globals(), { color: color() }, io));

  program
    .command('doctor')
    .description('start one codex app-server, check the handshake and report its version')
    .option('--json', 'print the report as JSON')
    .option('--cwd <dir>', 'directory to start the app-server in')
    .action(async (opts: { json?: boolean; cwd?: string }) => doctorCommand(globals(), opts, io));

  program
    .command('status')
    .description('workspaces, threads with their current task, last activity, next step and blockers, open signals')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }) => statusCommand(globals(), opts, io));

  program
    .command('feed')
    .description('the cross-workspace activity feed')
    .option('--needs-input', 'only entries that wait for you (approvals, questions)')
    .option('--workspace <name>', 'only this workspace')
    .option('--limit <n>', 'at most this many entries (the newest)', parsePositiveInt)
    .option('--json', 'print the entries as JSON')
    .action(async (opts: { json?: boolean; needsInput?: boolean; workspace?: string; limit?: string }) => feedCommand(globals(), opts, io));

  program
    .command('dispatch')
    .description('validate a plan file and dispatch its actions to their workspaces in one cycle, then wait for the turns')
    .addOption(new Option('--plan <file>', 'the plan (JSON, see `cm-supervisor schema`); - reads stdin').makeOptionMandatory())
    .option('--dry-run', 'validate and resolve the targets, start no turn')
    .option('--force', 'dispatch again actions that were already dispatched')
    .addOption(timeoutOption())
    .addOption(onApprovalOption())
    .option('--json', 'print {plan, results} (or {errors}) as JSON')
    .action(async (opts: DispatchCliOptions) => {
      outcome.exitCode = await dispatchCommand(globals(), opts, io);
    });

  program
    .command('chat')
    .description('one line of the chat with the supervisor: a command (/help) or a request the planner turns into a plan')
    .argument('<text>', 'a /command, "@<workspace> <message>", or a free-form request')
    .option('--yes', 'dispatch the proposed plan without asking')
    .addOption(timeoutOption())
    .addOption(onApprovalOption())
    .option('--json', 'print {status, messages, proposal, results} as JSON')
    .action(async (text: string, opts: ChatCliOptions) => {
      outcome.exitCode = await chatCommand(globals(), text, opts, io);
    });

  program
    .command('schema')
    .description('print the JSON Schema of plan files (for editors and planners)')
    .action(() => schemaCommand(io));

  const workspace = program.command('workspace').description('configure the workspaces (repositories) to supervise');
  workspace
    .command('add <path>')
    .description('supervise the repository at PATH')
    .option('--name <name>', 'workspace name (default: the directory name)')
    .action((path: string, opts: { name?: string }) => workspaceAdd(globals(), path, opts, io));
  workspace
    .command('list')
    .description('list the configured workspaces')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) => workspaceList(globals(), opts, io));
  workspace
    .command('remove <name>')
    .description('stop supervising a workspace')
    .action((name: string) => workspaceRemove(globals(), name, io));

  // Sub-commands inherit the output and error handling of the root.
  const inherit = (command: Command) => {
    command.configureOutput({ writeOut: io.out, writeErr: io.err }).exitOverride().showHelpAfterError();
    command.commands.forEach(inherit);
  };
  program.commands.forEach(inherit);
  return program;
}
