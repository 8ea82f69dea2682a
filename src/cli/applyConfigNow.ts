import { DaemonClient } from '../core/daemon/client.js';
import { daemonPaths, describeHolder, readLiveLock } from '../core/daemon/home.js';
import type { GlobalOptions } from './globalOptions.js';
import type { CliIo } from './io.js';

/**
 * After config.json changed: the home's running loop (the daemon, or a command serving it)
 * takes the change now, before this command returns, so the next command finds it applied.
 * (The loop also follows the file by itself; this makes it immediate.) Says what it did.
 */
export async function applyConfigNow(globals: GlobalOptions, io: CliIo): Promise<void> {
  const lock = readLiveLock(globals.home);
  if (!lock?.serves) return;
  let client: DaemonClient | null = null;
  try {
    client = await DaemonClient.connect(daemonPaths(globals.home).socket, { timeoutMs: 60_000, client: 'config' });
    const result = (await client.reloadConfig()) as { ok: boolean; changes?: string[]; problem?: string };
    if (result.ok) io.out(`${describeHolder(lock)} applied it${result.changes && result.changes.length > 0 ? `: ${result.changes.join('; ')}` : ''}\n`);
    else io.err(`warning: ${describeHolder(lock)} did not apply it: ${result.problem ?? 'unknown problem'}\n`);
  } catch (error) {
    io.err(`warning: ${describeHolder(lock)} did not answer (${error instanceof Error ? error.message : String(error)}); it reads config.json again when it notices the change\n`);
  } finally {
    client?.close();
  }
}
