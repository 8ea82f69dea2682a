/**
 * Exponential backoff with jitter: base·2^attempt capped at `maxMs`, then scaled by a random
 * factor in [0.5, 1) so that many clients retrying together spread out.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(exponential * (0.5 + random() * 0.5));
}
