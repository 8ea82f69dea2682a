import { ConfigStore, workspaceSpecs } from '../core/config/config.js';
import { Supervisor } from '../core/loop/supervisor.js';
import { codexBinFor, type GlobalOptions } from './globalOptions.js';

/** Starts a supervisor in this process for the configured workspaces. */
export async function startInProcessSupervisor(globals: GlobalOptions): Promise<Supervisor> {
  const config = new ConfigStore(globals.home).read();
  const supervisor = new Supervisor({
    workspaces: workspaceSpecs(config),
    codexBin: codexBinFor(globals, config),
    ...(config.pollIntervalSec ? { pollIntervalMs: config.pollIntervalSec * 1000 } : {}),
  });
  await supervisor.start();
  return supervisor;
}
