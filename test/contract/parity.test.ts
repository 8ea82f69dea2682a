// One contract, two implementations: the in-process Supervisor and the DaemonClient talking to
// a daemon over its socket must behave the same for every SupervisorApi call.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonClient } from '../../src/core/daemon/client.js';
import { startDaemon } from '../../src/core/daemon/runDaemon.js';
import { Supervisor } from '../../src/core/loop/supervisor.js';
import { startRealCodexEnv } from '../support/realCodex.js';
import { describeSupervisorApiContract } from './supervisorApi.contract.js';

// Long enough that a `[silent]` turn is still running when the test interrupts it.
const STREAM_IDLE_MS = 60_000;

describeSupervisorApiContract('in-process Supervisor', async () => {
  const env = await startRealCodexEnv({ streamIdleTimeoutMs: STREAM_IDLE_MS });
  const workspaces = [
    { name: 'api', path: await env.workspace('api') },
    { name: 'web', path: await env.workspace('web') },
  ];
  const supervisor = new Supervisor({ workspaces, codexBin: env.codexBin, env: env.home.env, pollIntervalMs: 200 });
  await supervisor.start();
  return {
    api: supervisor,
    env,
    workspaces,
    async cleanup() {
      await supervisor.stop();
      await env.cleanup();
    },
  };
});

describeSupervisorApiContract('DaemonClient over the daemon socket', async () => {
  const env = await startRealCodexEnv({ streamIdleTimeoutMs: STREAM_IDLE_MS });
  const workspaces = [
    { name: 'api', path: await env.workspace('api') },
    { name: 'web', path: await env.workspace('web') },
  ];
  const home = await mkdtemp(join(tmpdir(), 'cm-parity-home-'));
  await writeFile(join(home, 'config.json'), JSON.stringify({ workspaces }));
  const daemon = await startDaemon({ home, codexBin: env.codexBin, env: env.home.env, pollIntervalMs: 200, saveDebounceMs: 50 });
  let client: DaemonClient | null = null;
  try {
    client = await DaemonClient.connect(daemon.socketPath, { client: 'parity-test' });
  } catch (error) {
    await daemon.stop();
    await env.cleanup();
    throw error;
  }
  return {
    api: client,
    env,
    workspaces,
    async cleanup() {
      client?.close();
      await daemon.stop();
      await daemon.stopped;
      await env.cleanup();
      await rm(home, { recursive: true, force: true });
    },
  };
});
