import { Command, InvalidArgumentError, Option } from 'commander';
import { packageInfo } from '../core/packageInfo.js';
import { dispatchCommand, type DispatchCliOptions } from './commands/dispatch.js';
import { doctorCommand } from './commands/doctor.js';
import { demoCommand, tuiCommand } from './commands/tui.js';
import { schemaCommand } from './commands/schema.js';
import { feedCommand, statusCommand } from './commands/status.js';
import { workspaceAdd, workspaceList, workspaceRemove } from './commands/workspace.js';
import { resolveGlobalOptions } from './globalOptions.js';
import type { CliIo } from './io.js';

function parsePositiveInt(value: string): string {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a positive whole number');
  return value;
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
    .showHelpAfterError('(run cm-supervisor --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const globals = () => resolveGlobalOptions(program.opts<{ home?: string; codexBin?: string }>(), io);
  const color = () => program.opts<{ color: boolean }>().color && !io.env.NO_COLOR;

  program.action(async () => tuiCommand(globals(), { color: color() }, io));

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
    .option('--timeout <seconds>', 'interrupt turns still running after this long', parsePositiveInt)
    .addOption(
      new Option('--on-approval <policy>', 'how to answer approvals of the dispatched turns (default: ask on a terminal, else decline)').choices([
        'ask',
        'accept',
        'decline',
        'cancel',
      ]),
    )
    .option('--json', 'print {plan, results} (or {errors}) as JSON')
    .action(async (opts: DispatchCliOptions) => {
      outcome.exitCode = await dispatchCommand(globals(), opts, io);
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
