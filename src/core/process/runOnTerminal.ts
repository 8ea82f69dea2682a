import { spawn } from 'node:child_process';

/** A program to give the terminal to: argv, never a shell string. */
export interface TerminalProgram {
  file: string;
  args: string[];
  cwd?: string;
}

/** Runs a program on our terminal (stdin, stdout and stderr inherited); resolves with how it ended, for a person. */
export function runOnTerminal(program: TerminalProgram): Promise<string> {
  return new Promise<string>((resolve) => {
    const child = spawn(program.file, program.args, { stdio: 'inherit', ...(program.cwd ? { cwd: program.cwd } : {}) });
    child.once('error', (e) => resolve(`could not start ${program.file}: ${e.message}`));
    child.once('exit', (code, signal) => resolve(signal ? `${program.file} ended by ${signal}` : `back from ${program.file} (exit ${code ?? 0})`));
  });
}
