/**
 * The render bench's terminal: a fake 200×60 TTY and stdin for Ink, and the TUI loaded and
 * mounted as `cm-supervisor tui` does it (Ink's maxFps 20, colours on, styled lines kept across
 * frames, React's production build unless NODE_ENV is set). Shared by the bench itself
 * (renderBench.ts) and the attached TUI it runs in a child process (attachedTui.ts).
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Instance } from 'ink';
import type { AppProps } from '../src/tui/App.js';

export const WIDTH = 200;
export const HEIGHT = 60;
/** What the operations view shows once it is on screen. */
export const OPERATIONS_VIEW = 'WORKSPACE / THREAD';

/** A TTY as Ink sees it: 200 columns, 60 rows unless told; remembers the last full frame. */
export class FakeStdout extends EventEmitter {
  readonly isTTY = true;
  constructor(
    readonly columns = WIDTH,
    readonly rows = HEIGHT,
  ) {
    super();
  }
  writes = 0;
  frames = 0;
  bytes = 0;
  lastFrame = '';
  lastWriteAt = 0;
  /** Called after each frame write. */
  onFrame: (() => void) | null = null;
  write(data: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
    this.writes++;
    this.bytes += text.length;
    this.lastWriteAt = performance.now();
    // Frames are whole screens (the App fills the terminal); small writes are control sequences.
    if (text.includes('cm-supervisor')) {
      this.frames++;
      this.lastFrame = text;
      this.onFrame?.();
    }
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') (done as () => void)();
    return true;
  }
}

/** Enough of a TTY stdin for Ink's useInput (as ink-testing-library does it). */
export class FakeStdin extends EventEmitter {
  readonly isTTY = true;
  private data: string | null = null;
  type(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read(): string | null {
    const data = this.data;
    this.data = null;
    return data;
  }
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

// eslint-disable-next-line no-control-regex
export const plain = (frame: string): string => frame.replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g, '');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export type Tui = Awaited<ReturnType<typeof loadTui>>;

/** Ink, React, chalk and the App, loaded as src/cli/main.ts loads them. */
export async function loadTui() {
  // Ink decides when it is loaded whether it runs "in CI" and would then skip writing frames:
  // hide those variables while it loads, as src/cli/main.ts does.
  const ciVariables = ['CI', 'CONTINUOUS_INTEGRATION'] as const;
  const saved = ciVariables.map((name) => [name, process.env[name]] as const);
  for (const name of ciVariables) delete process.env[name];
  // React picks its build when it is loaded: production unless NODE_ENV says otherwise, as
  // src/cli/main.ts loads it (NODE_ENV=development node … measures the development build).
  const nodeEnvUnset = process.env.NODE_ENV === undefined;
  if (nodeEnvUnset) process.env.NODE_ENV = 'production';
  const reactBuild = process.env.NODE_ENV === 'production' ? 'production' : `development (NODE_ENV=${process.env.NODE_ENV})`;
  const [{ render }, { createElement }, { default: chalk }, { App }, { ColorContext }, { keepStyledLinesAcrossFrames }] = await Promise.all([
    import('ink'),
    import('react'),
    import('chalk'),
    import('../src/tui/App.js'),
    import('../src/tui/theme.js'),
    import('../src/tui/styledLineCache.js'),
  ]);
  if (nodeEnvUnset) delete process.env.NODE_ENV;
  for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  // As runTui does for a TTY: chalk draws colours, bold and inverse even when our own stdout is a pipe.
  if (chalk.level === 0) chalk.level = 1;
  const lineCache = (await keepStyledLinesAcrossFrames()) ? 'styled lines kept across frames' : 'NO styled line cache (Ink internals changed?)';
  return { render, createElement, App, ColorContext, reactBuild, chalkLevel: chalk.level, lineCache };
}

/** Mounts the App with colours on into the fake terminal (at its size), with Ink's options as runTui sets them. */
export function mountApp(tui: Tui, props: Omit<AppProps, 'width' | 'height'>, io: { stdout: FakeStdout; stdin: FakeStdin; onRender?: (metrics: { renderTime: number }) => void }): Instance {
  const { createElement, ColorContext, App } = tui;
  return tui.render(createElement(ColorContext.Provider, { value: true }, createElement(App, { ...props, width: io.stdout.columns, height: io.stdout.rows })), {
    stdout: io.stdout as unknown as NodeJS.WriteStream,
    stdin: io.stdin as unknown as NodeJS.ReadStream,
    stderr: new FakeStdout() as unknown as NodeJS.WriteStream,
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: 20,
    ...(io.onRender ? { onRender: io.onRender } : {}),
  });
}
