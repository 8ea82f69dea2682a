import { escapeControl } from '../core/util/text.js';

/** Where the CLI writes; tests pass their own to read what a user would see. */
export interface CliIo {
  /** Text for a person or a program. Names, paths and messages come from outside: see processIo. */
  out: (text: string) => void;
  err: (text: string) => void;
  /** Text we styled ourselves (colour codes), everything from outside in it already escaped: written to stdout as it is. */
  outStyled: (text: string) => void;
  /** A terminal control sequence of our own (cursor moves), written to stderr as it is. */
  errControl: (sequence: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
}

// Every line the CLI prints passes here, so this is where control characters in directory
// names, plan fields and error messages are escaped: a name must not drive the terminal
// (OSC 52 writes the clipboard). JSON stays valid: JSON.stringify escapes C0 itself, and the
// C1 characters it leaves raw become `\u009b`, which JSON reads back as the same character.
export const processIo: CliIo = {
  out: (text) => process.stdout.write(escapeControl(text)),
  err: (text) => process.stderr.write(escapeControl(text)),
  outStyled: (text) => process.stdout.write(text),
  errControl: (sequence) => process.stderr.write(sequence),
  env: process.env,
  isTTY: Boolean(process.stdout.isTTY),
};
