import { CommanderError } from 'commander';
import { SupervisorError } from '../core/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * The one place that turns an error into a message and an exit code:
 * 0 ok, 1 the work failed, 2 usage or invalid input.
 */
export function describeFailure(error: unknown): { exitCode: number; message: string | null } {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return { exitCode: EXIT_OK, message: null };
    }
    // Commander has already printed its own message (with the usage hint).
    return { exitCode: EXIT_USAGE, message: null };
  }
  if (error instanceof SupervisorError) return { exitCode: error.exitCode, message: error.message };
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { exitCode: EXIT_FAILED, message: `unexpected error: ${message}` };
}
