import type { HostRecord } from './model.js';

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
