import { render } from 'ink-testing-library';
import stringWidth from 'string-width';
import { expect, vi } from 'vitest';
import { App, type AppProps } from '../../src/tui/App.js';
import { ColorContext } from '../../src/tui/theme.js';
import type { FakeApi } from './fakeApi.js';
import { T0 } from './replay.js';

/** The UI's clock in tests: one minute after the start state, so relative times are fixed. */
export const NOW = T0 + 60_000;

export type AppOverrides = Partial<Omit<AppProps, 'api'>>;

/**
 * Renders the whole TUI at a pinned size, colours off, against a FakeApi. `onQuit` and
 * `notify` are spies. Helpers poll the frame; none sleeps.
 */
export function renderApp(api: FakeApi, overrides: AppOverrides = {}) {
  const onQuit = vi.fn();
  const notify = vi.fn();
  let props: AppProps = { api, mode: 'test', width: 80, height: 24, onQuit, notify, now: () => NOW, ...overrides };
  const tree = () => (
    <ColorContext.Provider value={false}>
      <App {...props} />
    </ColorContext.Provider>
  );
  const instance = render(tree());
  // ink-testing-library's stdout is 100 columns, and Ink lays a wider screen out in that: the
  // terminal is as wide as the App is told.
  Object.defineProperty(instance.stdout, 'columns', { get: () => props.width });
  instance.rerender(tree());
  const frame = () => instance.lastFrame() ?? '';
  const lines = () => frame().split('\n');

  /** Polls until the frame shows every text. */
  const waitFor = async (...texts: (string | RegExp)[]) => {
    await vi.waitFor(() => {
      for (const text of texts) {
        if (typeof text === 'string') expect(frame()).toContain(text);
        else expect(frame()).toMatch(text);
      }
    });
    await inputSettled();
  };
  /** Polls until the frame no longer shows the text. */
  const waitForGone = async (text: string) => {
    await vi.waitFor(() => expect(frame()).not.toContain(text));
    await inputSettled();
  };
  /** Types keys, then waits for the frame to show every expected text. */
  const press = async (keys: string, ...expected: (string | RegExp)[]) => {
    instance.stdin.write(keys);
    await waitFor(...expected);
  };
  /**
   * Types keys whose effect may not show without colour (moving the highlight), then waits
   * for Ink to write the next frame.
   */
  const tap = async (keys: string) => {
    const before = instance.frames.length;
    instance.stdin.write(keys);
    await vi.waitFor(() => expect(instance.frames.length).toBeGreaterThan(before));
    await inputSettled();
  };
  /** The terminal was resized: the root passes the new size down as props. */
  const resize = (width: number, height: number) => {
    props = { ...props, width, height };
    instance.rerender(tree());
  };
  /** The first line containing `text` (for asserting what sits on one row). */
  const lineWith = (text: string) => lines().find((l) => l.includes(text)) ?? '';

  return { ...instance, onQuit, notify, frame, lines, lineWith, waitFor, waitForGone, press, tap, resize };
}

/**
 * Ink attaches each render's `useInput` handler in a passive effect, which React runs from a
 * setImmediate after the commit that wrote the frame. A key written in between reaches the
 * previous render's handler (with its stale state), so once the frame shows what we waited
 * for, let that effect run before the next key. This is not a wait for the frame.
 */
function inputSettled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** ESC-free lines measured as Ink measures them; used for "nothing is wider than the terminal". */
export function displayWidths(frame: string): number[] {
  // eslint-disable-next-line no-control-regex
  return frame.split('\n').map((line) => stringWidth(line.replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '')));
}
