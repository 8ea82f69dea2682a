import chalk from 'chalk';
import { render } from 'ink';
import type { SupervisorApi } from '../core/api/supervisorApi.js';
import type { SignalKind, SignalRecord } from '../core/state/model.js';
import { App } from './App.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';
import { keepStyledLinesAcrossFrames } from './styledLineCache.js';
import { signalNotice } from './notice.js';
import { handOverTerminal, type OutputGate, type TerminalProgram } from './terminal/handOver.js';
import { notificationSequence } from './terminal/notifications.js';
import { ENTER_ALT_SCREEN, HIDE_CURSOR, LEAVE_ALT_SCREEN, SHOW_CURSOR } from './terminal/screen.js';
import { ColorContext } from './theme.js';

export interface TuiOptions {
  api: SupervisorApi;
  mode: string;
  color: boolean;
  notifyKinds?: SignalKind[];
  notificationsEnabled?: boolean;
  muted?: string[];
  confirmQuitWhenRunning?: boolean;
  /** config.json's `allowUnsafePlans`: confirming a chat proposal carries this opt-in. */
  allowUnsafePlans?: boolean;
  dispatchFile?: (path: string) => Promise<string>;
  /** `!`: the shell to run for a thread's workspace (a local shell in its directory, or ssh -t to its host). */
  shellFor?: (threadId: string) => Promise<TerminalProgram>;
  /** Attached: tells why the link to the daemon is down (null: it is up again). */
  link?: (listener: (problem: string | null) => void) => () => void;
  /** Quits the TUI when aborted (the CLI aborts it on SIGTERM, SIGINT and SIGHUP). */
  abort?: AbortSignal;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

type RootProps = Omit<TuiOptions, 'color' | 'stdout' | 'stdin' | 'abort' | 'shellFor'> & {
  color: boolean;
  onQuit: () => void;
  notify: (s: SignalRecord) => void;
  shell?: (threadId: string) => Promise<string>;
};

function Root(props: RootProps) {
  const { width, height } = useTerminalSize();
  return (
    <ColorContext.Provider value={props.color}>
      <App {...props} width={width} height={height} />
    </ColorContext.Provider>
  );
}

const NOTIFY_INTERVAL_MS = 3_000;

/**
 * Desktop notifications at most one per few seconds: a burst of signals becomes one
 * notification naming the first and counting the rest, not a storm of bells.
 */
function notifier(send: (title: string, body: string) => void): (signal: SignalRecord) => void {
  let lastAt = 0;
  let held: SignalRecord[] = [];
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    timer = null;
    const [first, ...rest] = held;
    held = [];
    if (!first) return;
    lastAt = Date.now();
    const notice = signalNotice(first);
    send(notice.title, `${notice.body}${rest.length ? ` (+${rest.length} more)` : ''}`);
  };
  return (signal) => {
    held.push(signal);
    if (timer) return;
    timer = setTimeout(flush, Math.max(0, lastAt + NOTIFY_INTERVAL_MS - Date.now()));
    timer.unref();
  };
}

/** The terminal as Ink sees it: its frames are dropped while another program has the terminal. */
function gated(stdout: NodeJS.WriteStream, gate: OutputGate): NodeJS.WriteStream {
  const write = (...args: Parameters<NodeJS.WriteStream['write']>) => gate.closed || stdout.write(...args);
  return new Proxy(stdout, {
    get(target, property) {
      if (property === 'write') return write;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Runs the full-screen TUI until the user quits or `abort` fires. The terminal is always
 * restored — on quit, abort, exit or an uncaught error — by unmounting Ink first and then
 * leaving the alternate screen (the other order leaves Ink's last frame or a raw terminal).
 */
export async function runTui(options: TuiOptions): Promise<void> {
  const stdout = options.stdout ?? process.stdout;
  const stdin = options.stdin ?? process.stdin;
  const tmux = Boolean(process.env.TMUX);
  // Colours are the app's choice (ColorContext); chalk must still draw inverse and bold for the
  // selection, which it drops when it sees --no-color on the command line.
  if (stdout.isTTY && chalk.level === 0) chalk.level = 1;
  await keepStyledLinesAcrossFrames();
  stdout.write(ENTER_ALT_SCREEN + HIDE_CURSOR);

  let quit: () => void = () => {};
  const quitRequested = new Promise<void>((resolve) => (quit = resolve));
  options.abort?.addEventListener('abort', () => quit(), { once: true });
  if (options.abort?.aborted) quit();
  const { abort: _abort, stdout: _stdout, stdin: _stdin, shellFor, ...appOptions } = options;
  const gate: OutputGate = { closed: false };
  const instance = render(
    <Root
      {...appOptions}
      onQuit={() => quit()}
      notify={notifier((title, body) => gate.closed || stdout.write(notificationSequence(title, body, { tmux, bell: true })))}
      {...(shellFor ? { shell: async (threadId: string) => handOverTerminal(await shellFor(threadId), { stdin, stdout, gate }) } : {})}
    />,
    { stdout: gated(stdout, gate), stdin, exitOnCtrlC: false, patchConsole: true, maxFps: 20 },
  );

  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    instance.unmount();
    stdout.write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
  };
  const onFatal = (error: unknown) => {
    restore();
    process.stderr.write(`cm-supervisor: the TUI crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  process.on('exit', restore);
  try {
    await Promise.race([quitRequested, instance.waitUntilExit()]);
  } finally {
    restore();
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
    process.off('exit', restore);
  }
}
