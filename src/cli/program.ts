import { Command, Option } from 'commander';
import { packageInfo } from '../core/packageInfo.js';
import { doctorCommand } from './commands/doctor.js';
import { resolveGlobalOptions } from './globalOptions.js';
import type { CliIo } from './io.js';

export function buildProgram(io: CliIo): Command {
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
    .showHelpAfterError('(run cm-supervisor --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const globals = () => resolveGlobalOptions(program.opts<{ home?: string; codexBin?: string }>(), io);

  program
    .command('doctor')
    .description('start one codex app-server, check the handshake and report its version')
    .option('--json', 'print the report as JSON')
    .option('--cwd <dir>', 'directory to start the app-server in')
    .action(async (opts: { json?: boolean; cwd?: string }) => doctorCommand(globals(), opts, io));

  // Sub-commands inherit the output and error handling of the root.
  for (const command of program.commands) {
    command.configureOutput({ writeOut: io.out, writeErr: io.err }).exitOverride().showHelpAfterError();
  }
  return program;
}
