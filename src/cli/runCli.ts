import { describeFailure } from './exitCodes.js';
import type { CliIo } from './io.js';
import { buildProgram } from './program.js';

/** Runs the CLI and returns the exit code; every error ends up here. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    const { exitCode, message } = describeFailure(error);
    if (message) io.err(`cm-supervisor: ${message}\n`);
    return exitCode;
  }
}
