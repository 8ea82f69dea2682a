import { runOnTerminal, type TerminalProgram } from '../../core/process/runOnTerminal.js';
import { ENTER_ALT_SCREEN, HIDE_CURSOR, LEAVE_ALT_SCREEN, SHOW_CURSOR } from './screen.js';

export type { TerminalProgram };

/** Ink's output, held back while another program has the terminal. */
export interface OutputGate {
  closed: boolean;
}

/**
 * Node's stdin keeps reading the terminal while nobody listens (up to its buffer), so keys
 * typed into the program would be eaten. The TTY handle is told to stop reading, as Node's own
 * `pause()` does for sockets it reads into a buffer.
 */
interface ReadingHandle {
  reading: boolean;
  readStop(): void;
  readStart(): void;
}
const handleOf = (stdin: NodeJS.ReadStream): ReadingHandle | null => {
  const handle = (stdin as unknown as { _handle?: Partial<ReadingHandle> })._handle;
  return handle && typeof handle.readStop === 'function' && typeof handle.readStart === 'function' ? (handle as ReadingHandle) : null;
};

/** Keys that would stop cm-supervisor while the program has the terminal: theirs, not ours. */
const PROGRAM_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGTSTP'];

/**
 * Runs `program` on the terminal the TUI uses — main screen, cooked mode, our keys and output
 * held — and gives the terminal back when it exits. Resolves with how it ended.
 */
export async function handOverTerminal(program: TerminalProgram, io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream; gate: OutputGate }): Promise<string> {
  const { stdin, stdout, gate } = io;
  const handle = handleOf(stdin);
  const saved = PROGRAM_SIGNALS.map((signal) => [signal, process.listeners(signal)] as const);
  const ignore = () => {};
  for (const [signal, listeners] of saved) {
    for (const l of listeners) process.off(signal, l);
    process.on(signal, ignore);
  }
  gate.closed = true;
  if (stdin.isTTY) stdin.setRawMode(false);
  if (handle?.reading) {
    handle.reading = false;
    handle.readStop();
  }
  stdout.write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
  try {
    return await runOnTerminal(program);
  } finally {
    stdout.write(ENTER_ALT_SCREEN + HIDE_CURSOR);
    gate.closed = false;
    if (handle && !handle.reading) {
      handle.reading = true;
      handle.readStart();
    }
    for (const [signal, listeners] of saved) {
      process.off(signal, ignore);
      for (const l of listeners) process.on(signal, l);
    }
  }
}
