import type { HostRecord, RateLimits, RateLimitWindow } from './model.js';
import { formatDuration } from '../util/time.js';

/** How a host reaches its app-server, in words: `attached to Codex's daemon`, `private app-server`. */
export function transportWords(host: Pick<HostRecord, 'transport' | 'kind'>): string {
  if (host.transport === null) return '';
  return host.transport === 'attached' ? "attached to Codex's daemon" : host.kind === 'ssh' ? 'private app-server over ssh' : 'private app-server';
}

/** Codex version, ping round trip, memory and pid: what is known of a host's health. */
export function hostHealth(host: HostRecord): string {
  return [
    host.codexVersion ? `codex ${host.codexVersion}` : null,
    host.pingMs !== null ? `ping ${host.pingMs} ms` : null,
    host.rssBytes !== null ? `${Math.round(host.rssBytes / 1024 / 1024)} MB` : null,
    host.pid ? `pid ${host.pid}` : null,
  ]
    .filter((part) => part !== null)
    .join(' · ');
}

/** A window's length as people say it: `5h`, `7d`, `90m`. */
export function windowName(mins: number | null): string {
  if (mins === null) return 'limit';
  if (mins % 1440 === 0) return `${mins / 1440}d`;
  if (mins % 60 === 0) return `${mins / 60}h`;
  return `${mins}m`;
}

/** `2h 10m`, or in days for a weekly window: `3d 4h`. */
function untilWords(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  return hours >= 48 ? `${Math.floor(hours / 24)}d ${hours % 24}h` : formatDuration(ms);
}

/** `5h 42%`: a window and how much of it is used. */
export function windowUsage(w: RateLimitWindow): string {
  return `${windowName(w.windowMins)} ${Math.round(w.usedPercent)}%`;
}

function windowWords(w: RateLimitWindow, nowMs: number): string {
  const resets = w.resetsAtMs !== null && w.resetsAtMs > nowMs ? ` (resets in ${untilWords(w.resetsAtMs - nowMs)})` : '';
  return `${windowUsage(w)} used${resets}`;
}

/** The account's usage limits in words (`5h 42% used (resets in 2h 10m) · 7d 13% used`); '' when Codex reported none. */
export function rateLimitWords(limits: RateLimits | null, nowMs: number): string {
  if (!limits) return '';
  const windows = [limits.primary, limits.secondary].filter((w): w is RateLimitWindow => w !== null).map((w) => windowWords(w, nowMs));
  if (limits.reached) windows.unshift(`limit reached (${limits.reached})`);
  return windows.join(' · ');
}
