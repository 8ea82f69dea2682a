import { ConfigStore, hostSpecs, withNamedCodexBin, workspaceSpecs, type Config } from '../core/config/config.js';
import { Supervisor, type SupervisorOptions } from '../core/loop/supervisor.js';
import { codexBinFor, codexBinIsExplicit, type GlobalOptions } from './globalOptions.js';

/** A supervisor for the configured hosts and workspaces (not started), with `extra` options. */
export function configuredSupervisor(globals: GlobalOptions, config: Config, extra: Partial<SupervisorOptions> = {}): Supervisor {
  const codexBin = codexBinFor(globals, config);
  const hosts = hostSpecs(config);
  return new Supervisor({
    hosts: codexBinIsExplicit(globals) ? withNamedCodexBin(hosts) : hosts,
    workspaces: workspaceSpecs(config),
    codexBin,
    ...(config.pollIntervalSec ? { pollIntervalMs: config.pollIntervalSec * 1000 } : {}),
    ...(config.stallAfterSec ? { stallAfterMs: config.stallAfterSec * 1000 } : {}),
    ...extra,
  });
}

/** Starts a supervisor in this process for the configured hosts and workspaces. */
export async function startInProcessSupervisor(globals: GlobalOptions): Promise<Supervisor> {
  const supervisor = configuredSupervisor(globals, new ConfigStore(globals.home).read());
  await supervisor.start();
  return supervisor;
}
