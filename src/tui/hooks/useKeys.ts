import { useInput } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';
import { splitKeys, type KeyPress } from '../keys.js';

/**
 * Given the keys still waiting from one read (at least one), handles some from the start and
 * says how many it used; returning them all drops the rest of that read.
 */
export type KeysHandler = (keys: readonly KeyPress[]) => number;

/**
 * Ink's `useInput`, one key at a time: the keys of one read (see splitKeys) are handled in
 * order, each after the render of the one before, so "3a" accepts in the view "3" opened.
 * The handler is refreshed on every render and read through a ref: Ink re-subscribes input
 * handlers in an effect, after the frame is on screen, so a key pressed right after a view
 * change would otherwise reach the previous view's handler.
 */
export function useKeys(handler: KeysHandler, options: { active?: boolean } = {}): void {
  const current = useRef(handler);
  current.current = handler;
  // Reads not yet handled, oldest first. Ink may call useInput several times from one read
  // (it cuts at escape sequences) before React renders, so a key is handled only once the
  // render of the key before it is committed: `busy` until then.
  const waiting = useRef<KeyPress[][]>([]);
  const busy = useRef(false);
  const [turn, setTurn] = useState(0);

  const step = useCallback(() => {
    const keys = waiting.current[0];
    busy.current = keys !== undefined;
    if (!keys) return;
    keys.splice(0, Math.max(1, current.current(keys)));
    if (keys.length === 0) waiting.current.shift();
    // A new turn forces a render even when the key changed nothing.
    setTurn((t) => t + 1);
  }, []);

  useInput(
    useCallback(
      (input, key) => {
        waiting.current.push(splitKeys(input, key));
        if (!busy.current) step();
      },
      [step],
    ),
    // Inactive (a shell has the terminal), Ink stops reading and leaves raw mode.
    { isActive: options.active ?? true },
  );
  // From an immediate, not the effect itself: React counts updates made by effects in a row
  // and reports a long paste as an update loop.
  useEffect(() => {
    if (turn === 0) return;
    const next = setImmediate(step);
    return () => clearImmediate(next);
  }, [turn, step]);
}
