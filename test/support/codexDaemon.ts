// Codex's own daemon (`codex app-server daemon start`) on a throwaway CODEX_HOME, for tests.
//
// `daemon start` installs a managed copy of codex under $CODEX_HOME/packages/app-server-daemon/,
// starts it detached (re-parented to pid 1) and prints JSON. `daemon stop` leaves a
// `codex app-server daemon pid-update-loop` process running, so stop() also kills every process
// whose command line names the CODEX_HOME directory (all of them run from the managed copy).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { isAlive } from './processes.js';

export interface CodexDaemonHandle {
  socketPath: string;
  pid: number;
  /** `daemon stop`, then SIGKILL of anything left that mentions CODEX_HOME; waits until all are gone. Idempotent. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const SOCKET_READY_TIMEOUT_MS = 15_000;
const LEFTOVERS_TIMEOUT_MS = 10_000;

/** `env` is the offline CODEX_HOME env (createOfflineCodexHome): CODEX_HOME and the mock's key. */
export async function startCodexDaemon(env: Record<string, string>, codexBin: string): Promise<CodexDaemonHandle> {
  const codexHome = env.CODEX_HOME;
  if (!codexHome) throw new Error('startCodexDaemon needs CODEX_HOME in env: never start the daemon on the real ~/.codex');
  const run = (args: string[]) => runCodex(codexBin, args, { ...process.env, ...env });
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      // Fails when the daemon is already gone: the leftovers are killed either way.
      await run(['app-server', 'daemon', 'stop']).catch(() => undefined);
      await killProcessesMentioning(codexHome);
    })());
  try {
    const out = await run(['app-server', 'daemon', 'start']);
    const started = parseLastJsonLine(out.stdout) as { status?: unknown; pid?: unknown; socketPath?: unknown } | null;
    if (started?.status !== 'started' || typeof started.socketPath !== 'string' || typeof started.pid !== 'number') {
      throw new Error(`codex app-server daemon start printed no start record:\n${out.stdout}\n${out.stderr}`);
    }
    await waitForWebSocket(started.socketPath);
    return { socketPath: started.socketPath, pid: started.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Pids of running processes whose command line contains `text` (Linux: /proc). Zombies have none. */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // Gone between readdir and read.
    }
    if (cmdline.split('\0').join(' ').includes(text)) pids.push(Number(entry));
  }
  return pids;
}

async function killProcessesMentioning(text: string): Promise<void> {
  const deadline = Date.now() + LEFTOVERS_TIMEOUT_MS;
  for (;;) {
    const alive = processesMentioning(text).filter(isAlive);
    if (alive.length === 0) return;
    if (Date.now() > deadline) throw new Error(`processes mentioning ${text} survive SIGKILL: ${alive.join(', ')}`);
    for (const pid of alive) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await pause(20);
  }
}

function runCodex(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env, timeout: START_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`codex ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`, { cause: error }));
      else resolve({ stdout, stderr });
    });
  });
}

function parseLastJsonLine(text: string): unknown {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'))
    .at(-1);
  if (line === undefined) return null;
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return null;
  }
}

/** Polls until the socket completes a WebSocket upgrade (`daemon start` may return before it listens). */
async function waitForWebSocket(socketPath: string): Promise<void> {
  const deadline = Date.now() + SOCKET_READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await probe(socketPath);
      return;
    } catch (error) {
      last = error;
      await pause(50);
    }
  }
  throw new Error(`Codex's daemon socket ${socketPath} did not answer within ${SOCKET_READY_TIMEOUT_MS} ms`, { cause: last });
}

function probe(socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${socketPath}:/`);
    ws.once('open', () => {
      ws.terminate();
      resolve();
    });
    ws.on('error', reject);
  });
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
