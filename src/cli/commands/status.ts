import { ConfigStore, type Config } from '../../core/config/config.js';
import { SupervisorError } from '../../core/errors.js';
import { SUPERVISOR_WORKSPACE, type SupervisorState } from '../../core/state/model.js';
import { oneLine } from '../../core/util/text.js';
import { openApi } from '../apiHandle.js';
import { statusDocument, statusText } from '../format/statusText.js';
import { feedText } from '../format/feedText.js';
import type { GlobalOptions } from '../globalOptions.js';
import type { CliIo } from '../io.js';
import { shutdownSignal } from '../shutdown.js';
import { followFeed } from './feedFollow.js';
import { DaemonClient } from '../../core/daemon/client.js';

export async function statusCommand(globals: GlobalOptions, opts: { json?: boolean }, io: CliIo): Promise<void> {
  const handle = await openApi(globals, { holder: 'status', serve: false });
  let state: SupervisorState;
  try {
    state = await handle.api.snapshot();
    io.out(opts.json ? `${JSON.stringify(statusDocument(state, handle.mode, Date.now()), null, 2)}\n` : statusText(state, Date.now(), handle.mode));
  } finally {
    await handle.close();
  }
  // In this process the hosts were connected just for this answer: one that could not be is a
  // failure, not a state to report (a daemon's host may be between reconnects).
  if (handle.mode === 'in-process') {
    const failed = unconnectedHosts(state);
    if (failed.length > 0) throw new SupervisorError(failed.join('\n'), 1);
  }
}

/** A line per host that serves workspaces but is not connected, with its error. */
function unconnectedHosts(state: SupervisorState): string[] {
  const workspaces = Object.values(state.workspaces);
  return Object.values(state.hosts).flatMap((h) => {
    const served = workspaces.filter((w) => w.host === h.name).map((w) => w.name);
    if (served.length === 0 || h.status === 'ready') return [];
    const error = h.lastError ? `: ${oneLine(h.lastError.message, 300)}` : '';
    return [`host ${h.name} (serving ${served.join(', ')}) could not connect${error}`];
  });
}

export async function feedCommand(
  globals: GlobalOptions,
  opts: { json?: boolean; needsInput?: boolean; workspace?: string; limit?: string; follow?: boolean },
  io: CliIo,
): Promise<void> {
  // A name that is not configured can only be a typo: say so before anything is started or asked.
  if (opts.workspace !== undefined) requireKnownWorkspace(new ConfigStore(globals.home).read(), opts.workspace);
  // Following lasts: this loop then serves other commands meanwhile, and a daemon is followed across restarts.
  const handle = await openApi(globals, { holder: 'feed', serve: opts.follow === true, reconnect: opts.follow === true });
  const filter = {
    ...(opts.needsInput ? { needsInput: true } : {}),
    ...(opts.workspace ? { workspace: opts.workspace } : {}),
    ...(opts.limit ? { limit: Number(opts.limit) } : {}),
  };
  try {
    if (opts.follow) {
      const { api } = handle;
      const link = api instanceof DaemonClient ? (listener: (problem: string | null) => void) => api.onLink((status) => listener(status.reason)) : undefined;
      return await followFeed(api, filter, opts.json ?? false, io, shutdownSignal(), link);
    }
    const entries = await handle.api.feed(filter);
    io.out(opts.json ? `${JSON.stringify({ mode: handle.mode, entries }, null, 2)}\n` : feedText(entries, opts.needsInput ?? false));
  } finally {
    await handle.close();
  }
}

/** Throws (exit 2) unless `name` is a configured workspace, or the supervisor's own pseudo-workspace. */
export function requireKnownWorkspace(config: Config, name: string): void {
  if (name === SUPERVISOR_WORKSPACE || config.workspaces.some((w) => w.name === name)) return;
  const known = config.workspaces.map((w) => w.name);
  throw new SupervisorError(
    `unknown workspace "${name}"; known: ${known.length > 0 ? known.join(', ') : '(none: add one with `cm-supervisor workspace add [HOST:]PATH`)'}`,
    2,
  );
}
