// A real terminal for tests: the program runs on a pseudo-terminal (so isTTY, raw mode,
// SIGWINCH and the line discipline all behave as for a person), and its output is fed
// into a headless xterm so tests read the screen a person would see, not escape codes.
import { spawn, type IPty } from '@lydell/node-pty';
// @xterm/headless is CommonJS without named exports Node can detect: only a default import works.
import xtermHeadless from '@xterm/headless';

const { Terminal } = xtermHeadless;
type XTerm = InstanceType<typeof Terminal>;

export interface TerminalSession {
  /** The visible rows, each trimmed right, joined by \n. */
  screen(): string;
  /** Visible row `n`, 0-based from the top, trimmed right ('' past the last row). */
  row(n: number): string;
  /** The visible rows with a cell drawn in inverse video (a selection, an active tab), trimmed right. */
  inverseRows(): string[];
  /** Resolves once the screen shows `text`; rejects with the screen on timeout or if the program exits first. */
  waitForText(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves once the program exited and all its output is on the screen. */
  waitForExit(timeoutMs?: number): Promise<{ exitCode: number; signal?: number }>;
  /** Raw keys: 'a', '\r' (Enter), '\x1b' (Esc), '\x03' (Ctrl-C). */
  write(data: string): void;
  resize(cols: number, rows: number): void;
  isAlternateScreen(): boolean;
  everEnteredAlternateScreen(): boolean;
  /** From DECTCEM (?25l / ?25h); null while the program has not set it. */
  cursorHidden(): boolean | null;
  /** Everything the program wrote, escape codes included. */
  rawOutput(): string;
  readonly pid: number;
  kill(signal?: string): void;
  /** Kills the program if still running (SIGKILL) and frees the emulator. Safe to call twice. */
  dispose(): void;
}

export interface SpawnInTerminalOptions {
  cols?: number;
  rows?: number;
  /** Merged over process.env; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

// Generous: CI shares 2 cores with real codex app-servers, and node alone takes ~100 ms to start.
const DEFAULT_TIMEOUT_MS = 10_000;
const POLL_MS = 20;

export function spawnInTerminal(file: string, args: string[], opts: SpawnInTerminalOptions = {}): TerminalSession {
  const cols = opts.cols ?? 80;
  const rows = opts.rows ?? 24;

  // allowProposedApi: `buffer` and `parser` are proposed API in xterm and throw without it.
  const term: XTerm = new Terminal({ cols, rows, allowProposedApi: true });

  let cursorHidden: boolean | null = null;
  let everAlternate = false;
  // The parser hooks see DECTCEM even when split across chunks or combined (`?1049;25h`);
  // returning false lets xterm apply the mode as usual.
  const trackCursor = (hidden: boolean) => (params: (number | number[])[]) => {
    if (params.includes(25)) cursorHidden = hidden;
    return false;
  };
  term.parser.registerCsiHandler({ prefix: '?', final: 'h' }, trackCursor(false));
  term.parser.registerCsiHandler({ prefix: '?', final: 'l' }, trackCursor(true));
  // An event, not polling: a program may enter and leave within one chunk of output.
  term.buffer.onBufferChange((buffer) => {
    if (buffer.type === 'alternate') everAlternate = true;
  });

  const pty: IPty = spawn(file, args, {
    name: 'xterm-256color',
    cols,
    rows,
    cwd: opts.cwd ?? process.cwd(),
    env: buildEnv(opts.env),
  });

  let disposed = false;
  let raw = '';
  // xterm parses writes asynchronously; count them so "exited" can wait for the last one.
  let pendingWrites = 0;
  let onDrained: (() => void) | undefined;
  pty.onData((data) => {
    if (disposed) return;
    raw += data;
    pendingWrites++;
    term.write(data, () => {
      pendingWrites--;
      if (pendingWrites === 0) onDrained?.();
    });
  });
  // Answer the program's queries (cursor position, device attributes) as a real terminal
  // would; without this a program that asks would wait forever.
  term.onData((reply) => {
    if (exit === undefined) pty.write(reply);
  });

  let exit: { exitCode: number; signal?: number } | undefined;
  const exited = new Promise<{ exitCode: number; signal?: number }>((resolve) => {
    // node-pty reports exit only after the pty closed, so no output arrives later.
    pty.onExit((e) => {
      const result = e.signal ? { exitCode: e.exitCode, signal: e.signal } : { exitCode: e.exitCode };
      const done = () => {
        exit = result;
        resolve(result);
      };
      if (pendingWrites === 0) done();
      else onDrained = done;
    });
  });

  const visibleRow = (n: number): string => {
    const buffer = term.buffer.active;
    return buffer.getLine(buffer.viewportY + n)?.translateToString(true) ?? '';
  };
  const screen = (): string => {
    const lines: string[] = [];
    for (let y = 0; y < term.rows; y++) lines.push(visibleRow(y).trimEnd());
    return lines.join('\n');
  };
  // Every failure shows what a person would have seen: the usual cause is a layout change.
  const describe = (): string =>
    `screen (${term.cols}x${term.rows}, ${term.buffer.active.type} buffer, ` +
    `${exit ? `exited ${JSON.stringify(exit)}` : `pid ${pty.pid} running`}):\n` +
    screen()
      .split('\n')
      .map((line, y) => `${String(y).padStart(2)}|${line}`)
      .join('\n');

  const inverseRows = (): string[] => {
    const buffer = term.buffer.active;
    const rows: string[] = [];
    for (let y = 0; y < term.rows; y++) {
      const line = buffer.getLine(buffer.viewportY + y);
      if (!line) continue;
      let inverse = false;
      for (let x = 0; x < term.cols && !inverse; x++) inverse = Boolean(line.getCell(x)?.isInverse());
      if (inverse) rows.push(line.translateToString(true).trimEnd());
    }
    return rows;
  };

  return {
    pid: pty.pid,
    screen,
    row: (n) => visibleRow(n).trimEnd(),
    inverseRows,
    async waitForText(text, timeoutMs = DEFAULT_TIMEOUT_MS) {
      const matches = () => {
        const s = screen();
        return typeof text === 'string' ? s.includes(text) : text.test(s);
      };
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (matches()) return;
        // `exit` is set only once all output is parsed, so this screen is final.
        if (exit) throw new Error(`program exited before ${String(text)} appeared; ${describe()}`);
        if (Date.now() >= deadline) {
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(text)}; ${describe()}`);
        }
        await delay(POLL_MS);
      }
    },
    async waitForExit(timeoutMs = DEFAULT_TIMEOUT_MS) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${timeoutMs} ms waiting for exit; ${describe()}`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    write: (data) => pty.write(data),
    resize(newCols, newRows) {
      // Emulator first, so the redraw the program does on SIGWINCH lands on the new size.
      term.resize(newCols, newRows);
      pty.resize(newCols, newRows);
    },
    isAlternateScreen: () => term.buffer.active.type === 'alternate',
    everEnteredAlternateScreen: () => everAlternate,
    cursorHidden: () => cursorHidden,
    rawOutput: () => raw,
    kill(signal) {
      if (exit === undefined) killQuietly(pty, signal);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (exit === undefined) killQuietly(pty, 'SIGKILL');
      term.dispose();
    },
  };
}

function buildEnv(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color' };
  // Inherited COLUMNS/LINES would override the pty's size in some programs.
  delete env['COLUMNS'];
  delete env['LINES'];
  Object.assign(env, overrides);
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) result[key] = value;
  return result;
}

function killQuietly(pty: IPty, signal?: string): void {
  try {
    pty.kill(signal);
  } catch {
    // ESRCH: it exited between our check and the kill, before node-pty reported it.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
