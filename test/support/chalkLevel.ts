import chalk from 'chalk';
import { afterAll, beforeAll } from 'vitest';

/**
 * Gives chalk a colour level for the tests of this file: it finds no colour support under
 * vitest and drops colour codes and attributes (inverse, bold), which some tests look at.
 */
export function useChalkLevel(level: typeof chalk.level): void {
  let saved: typeof chalk.level;
  beforeAll(() => {
    saved = chalk.level;
    chalk.level = level;
  });
  afterAll(() => {
    chalk.level = saved;
  });
}
