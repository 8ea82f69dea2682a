import { describeFailure } from './exitCodes.js';
import type { CliIo } from './io.js';
import { buildProgram } from './program.js';

/** Runs the CLI and returns the exit code; every error ends up here. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const outcome = { exitCode: 0 };
  try {
    await buildProgram(io, outcome).parseAsync([...argv], { from: 'user' });
    return outcome.exitCode;
  } catch (error) {
    const { exitCode, message } = describeFailure(error);
    if (message) io.err(`cm-supervisor: ${message}\n`);
    return exitCode;
  }
}
