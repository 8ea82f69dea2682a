import { Text, useInput, type Key } from 'ink';
import { cleanup, render } from 'ink-testing-library';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useKeys } from '../../src/tui/hooks/useKeys.js';
import { NO_KEY, splitKeys, type KeyPress } from '../../src/tui/keys.js';

afterEach(() => cleanup());

/** A short name for a key as a handler sees it. */
function name({ input, key }: KeyPress): string {
  if (key.upArrow) return '↑';
  if (key.downArrow) return '↓';
  if (key.pageUp) return 'PgUp';
  if (key.escape) return 'Esc';
  if (key.return) return 'Enter';
  if (key.ctrl) return `^${input}`;
  return input;
}

/**
 * Records every key the handler gets, with the count shown by the render before it, and
 * draws the count: each key must see the state the key before it left. `x` ends the read.
 */
function Probe({ seen }: { seen: string[] }) {
  const [count, setCount] = useState(0);
  useKeys((keys) => {
    const first = keys[0]!;
    seen.push(`${name(first)}@${count}`);
    setCount(count + 1);
    return first.input === 'x' ? keys.length : 1;
  });
  return <Text>{`count ${count}`}</Text>;
}

async function typed(chunks: string[], total: number): Promise<string[]> {
  const seen: string[] = [];
  const r = render(<Probe seen={seen} />);
  for (const chunk of chunks) r.stdin.write(chunk);
  // A key per render and immediate: 300 of them take a while on a loaded machine.
  await vi.waitFor(() => expect(r.lastFrame()).toBe(`count ${total}`), { timeout: 10_000 });
  return seen;
}

// Real Ink reads the bytes: its input parser, parse-keypress and useInput, then useKeys.
describe('useKeys: every key of a read, in order, each after the render of the one before', () => {
  it.each<[string, string[], string[]]>([
    ['key repeat', ['jjj'], ['j@0', 'j@1', 'j@2']],
    ['two pane keys', ['31'], ['3@0', '1@1']],
    ['arrows in one read', ['\u001b[B\u001b[B'], ['↓@0', '↓@1']],
    ['letters and an arrow', ['j\u001b[Aj'], ['j@0', '↑@1', 'j@2']],
    ['PgUp between letters', ['a\u001b[5~b'], ['a@0', 'PgUp@1', 'b@2']],
    ['Enter and Ctrl-C in a run', ['a\r\u0003'], ['a@0', 'Enter@1', '^c@2']],
    ['a lone Esc', ['\u001b'], ['Esc@0']],
    ['reads arriving while one is handled wait behind it', ['jj', 'kk'], ['j@0', 'j@1', 'k@2', 'k@3']],
  ])('%s', async (_name, chunks, expected) => {
    expect(await typed(chunks, expected.length)).toEqual(expected);
  });

  it('a handler that uses all the keys drops the rest of that read, not the next read', async () => {
    expect(await typed(['axbc', 'd'], 3)).toEqual(['a@0', 'x@1', 'd@2']);
  });

  it('a long read (a paste of 300 keys) is handled to the end without React complaining', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const seen = await typed(['j'.repeat(300)], 300);
      expect(seen.at(-1)).toBe('j@299');
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
  });
});

/** Ink's own useInput, untouched: what it reports for each read. */
function Raw({ seen }: { seen: KeyPress[] }) {
  useInput((input: string, key: Key) => void seen.push({ input, key: { ...NO_KEY, ...key } }));
  return <Text>raw</Text>;
}

describe('splitKeys agrees with Ink', () => {
  it('each ASCII character in a run is the key Ink reports when that character arrives alone', async () => {
    // ESC starts a sequence, never a key of a run (Ink's parser cuts there).
    const chars = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).filter((c) => c !== '\u001b');
    const seen: KeyPress[] = [];
    const r = render(<Raw seen={seen} />);
    await vi.waitFor(() => expect(r.lastFrame()).toBe('raw'));
    for (const c of chars) r.stdin.write(c);
    await vi.waitFor(() => expect(seen).toHaveLength(chars.length));
    // Ink's key has kitty-only fields (eventType) a lone legacy key leaves undefined.
    const alone = seen.map(({ input, key: { eventType: _e, ...key } }) => ({ input, key }));
    expect(chars.map((c) => splitKeys(`x${c}`, NO_KEY)[1])).toEqual(alone);
  });
});
