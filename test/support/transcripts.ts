import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../fixtures/transcripts/', import.meta.url));

/** Recorded stdout lines of the real app-server (scripts/record-transcripts.mjs), by scenario. */
export function loadTranscripts(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    out[name.replace(/\.jsonl$/, '')] = readFileSync(dir + name, 'utf8').split('\n').filter((l) => l !== '');
  }
  return out;
}

/** Deterministic PRNG (mulberry32) so a failing split can be reproduced from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
