import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Ink (6.8) turns every line it writes into styled characters on every frame: an ANSI
 * tokenizer walks each line grapheme by grapheme, and its cache of the result lives for one
 * frame. Most lines of a frame are lines of the frame before (a state change touches a row or
 * two), and that tokenizing was over half the cost of a 200×60 frame. This keeps the
 * characters of the lines the last frame wrote for the next frame.
 *
 * It wraps a method of Ink's per-frame cache object, which Ink does not export: the price of
 * not forking Ink. Characters are never changed once made (Ink already shares them between
 * equal lines of one frame), so frames are byte for byte what Ink draws without it. Ink is
 * pinned in package.json; should its internals differ, nothing is changed and frames cost
 * what they did (styledLineCache.test.tsx fails first).
 */

/** The prototype of Ink's per-frame cache (OutputCaches in ink/build/output.js). */
export interface LineCaches {
  getStyledChars(line: string): unknown;
}

let installing: Promise<boolean> | null = null;

/** Installs the cache in the loaded Ink, once; resolves whether it could. */
export function keepStyledLinesAcrossFrames(): Promise<boolean> {
  installing ??= findLineCaches().then(
    (caches) => {
      if (caches) cacheStyledLines(caches);
      return caches !== null;
    },
    () => false,
  );
  return installing;
}

/**
 * Wraps `getStyledChars` so a line the previous frame wrote is not tokenized again. Ink makes
 * a new cache object for each frame, so a call on a new object starts a frame; the lines of
 * the frame before it are kept until then and no longer, which bounds the memory to two
 * frames' lines.
 */
export function cacheStyledLines(caches: LineCaches): void {
  const tokenize = caches.getStyledChars;
  let frame: unknown = null;
  let current = new Map<string, unknown>();
  let previous = current;
  caches.getStyledChars = function (this: LineCaches, line: string): unknown {
    if (this !== frame) {
      frame = this;
      previous = current;
      current = new Map();
    }
    let chars = current.get(line);
    if (chars === undefined) {
      chars = previous.get(line) ?? tokenize.call(this, line);
      current.set(line, chars);
    }
    return chars;
  };
}

async function findLineCaches(): Promise<LineCaches | null> {
  // Not in Ink's exports map: found next to its entry point, the very module Ink renders with.
  const entry = pathToFileURL(createRequire(import.meta.url).resolve('ink'));
  const { default: Output } = (await import(new URL('output.js', entry).href)) as { default?: unknown };
  if (typeof Output !== 'function') return null;
  const output: unknown = new (Output as new (size: { width: number; height: number }) => unknown)({ width: 0, height: 0 });
  const caches: unknown = typeof output === 'object' && output !== null && 'caches' in output ? Object.getPrototypeOf(output.caches) : null;
  return isLineCaches(caches) ? caches : null;
}

function isLineCaches(value: unknown): value is LineCaches {
  return typeof value === 'object' && value !== null && typeof (value as { getStyledChars?: unknown }).getStyledChars === 'function';
}
