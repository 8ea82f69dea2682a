import type { SupervisorApi } from '../../core/api/supervisorApi.js';
import { ConfigStore, type Config } from '../../core/config/config.js';
import type { DaemonClient } from '../../core/daemon/client.js';
import { connectToDaemon, openApi } from '../apiHandle.js';
import { readPlanFile } from '../../core/contract/readPlan.js';
import { validatePlanText } from '../../core/contract/validatePlan.js';
import { createDemoEnvironment } from '../../core/demo/demoEnvironment.js';
import { SupervisorError } from '../../core/errors.js';
import { planWorkspaces } from '../../core/state/selectors.js';
import { Supervisor } from '../../core/loop/supervisor.js';
import { runTui } from '../../tui/runTui.js';
import type { GlobalOptions } from '../globalOptions.js';
import type { CliIo } from '../io.js';
import { shellFor } from '../shellFor.js';
import { shutdownSignal } from '../shutdown.js';
import { dirname, resolve } from 'node:path';

function requireTerminal(io: CliIo, what: string): void {
  if (!io.isTTY || !process.stdin.isTTY) {
    throw new SupervisorError(`${what} needs an interactive terminal; use \`cm-supervisor status\` or \`feed\` for plain output`, 2);
  }
}

/**
 * `:dispatch FILE` from the TUI: the file is read here, in the CLI layer, not in the TUI.
 * `allowUnsafe`: config.json's `allowUnsafePlans` (the TUI has no --allow-unsafe).
 */
function planDispatcher(api: SupervisorApi, allowUnsafe: boolean) {
  return async (file: string): Promise<string> => {
    const path = resolve(file);
    const read = await readPlanFile(path);
    if (!read.ok) throw new SupervisorError(read.problems.map((p) => p.message).join('; '), 2);
    const state = await api.snapshot();
    const validation = validatePlanText(read.text, { workspaces: planWorkspaces(state), hosts: Object.keys(state.hosts), baseDir: dirname(path), allowUnsafe });
    if (!validation.ok) throw new SupervisorError(`${file}: ${validation.problems.map((p) => `${p.path || '(file)'}: ${p.message}`).join('; ')}`, 2);
    const result = await api.dispatch(validation.plan, { baseDir: dirname(path), allowUnsafe });
    const counts = result.results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
    return `plan ${result.planId}: ${Object.entries(counts)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ')}`;
  };
}

/** What the TUI takes from config.json. */
function configOptions(config: Config) {
  return {
    allowUnsafePlans: config.allowUnsafePlans === true,
    ...(config.notifications?.kinds ? { notifyKinds: config.notifications.kinds } : {}),
    ...(config.notifications ? { notificationsEnabled: config.notifications.enabled, muted: config.notifications.muted } : {}),
  };
}

/**
 * The TUI attached to the daemon: quitting leaves the daemon and its agents running. When the
 * daemon goes away it says so and waits for it to come back.
 */
async function attachedTui(client: DaemonClient, home: string, opts: { color: boolean }, abort: AbortSignal): Promise<void> {
  const link = (listener: (problem: string | null) => void) => client.onLink((status) => listener(status.reason));
  const config = new ConfigStore(home).read();
  try {
    await runTui({
      api: client,
      mode: 'daemon',
      color: opts.color,
      abort,
      link,
      dispatchFile: planDispatcher(client, config.allowUnsafePlans === true),
      shellFor: shellFor(client, () => new ConfigStore(home).read()),
      ...configOptions(config),
    });
  } finally {
    client.close();
  }
}

/** `cm-supervisor` with no command: the operations view, on the home's loop (the daemon's, or run here). */
export async function tuiCommand(globals: GlobalOptions, opts: { color: boolean }, io: CliIo): Promise<void> {
  requireTerminal(io, 'the operations view');
  const abort = shutdownSignal();
  const config = new ConfigStore(globals.home).read();
  const client = globals.noDaemon ? null : await connectToDaemon(globals, { reconnect: true });
  if (client) return attachedTui(client, globals.home, opts, abort);
  // Serving the home's socket: `status`, `chat` or another TUI use this loop while it runs.
  const handle = await openApi(globals, { holder: 'tui', serve: true, awaitStart: false });
  try {
    await runTui({
      api: handle.api,
      mode: 'in-process',
      color: opts.color,
      abort,
      confirmQuitWhenRunning: true,
      dispatchFile: planDispatcher(handle.api, config.allowUnsafePlans === true),
      shellFor: shellFor(handle.api, () => new ConfigStore(globals.home).read()),
      ...configOptions(config),
    });
  } finally {
    await handle.close({ reason: 'stopped by quitting the TUI' });
  }
}

/** `cm-supervisor attach`: the operations view of the running daemon; an error when none runs. */
export async function attachCommand(globals: GlobalOptions, opts: { color: boolean }, io: CliIo): Promise<void> {
  const client = await connectToDaemon(globals, { reconnect: true });
  if (!client) throw new SupervisorError(`no cm-supervisor daemon is running for ${globals.home}; start one with \`cm-supervisor daemon start\``, 1);
  try {
    requireTerminal(io, 'attach');
  } catch (error) {
    client.close();
    throw error;
  }
  return attachedTui(client, globals.home, opts, shutdownSignal());
}

/** `cm-supervisor demo`: real codex app-servers against an embedded mock model, nothing left behind. */
export async function demoCommand(globals: GlobalOptions, opts: { color: boolean }, io: CliIo): Promise<void> {
  requireTerminal(io, 'the demo');
  const abort = shutdownSignal();
  const demo = await createDemoEnvironment();
  const supervisor = new Supervisor({ workspaces: demo.workspaces, codexBin: globals.codex.path, env: demo.env, stallAfterMs: 60_000, plannerDir: demo.plannerDir });
  try {
    const starting = supervisor.start().then(() => supervisor.dispatch(demo.plan));
    await runTui({
      api: supervisor,
      mode: 'demo',
      color: opts.color,
      abort,
      confirmQuitWhenRunning: false,
      dispatchFile: planDispatcher(supervisor, false),
      shellFor: shellFor(supervisor, () => null),
      notifyKinds: ['needs_approval', 'failed', 'completed'],
    });
    await starting.catch(() => {});
  } finally {
    await supervisor.stop();
    await demo.cleanup();
  }
}
