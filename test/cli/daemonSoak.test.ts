// A socket soak of the BUILT CLI's daemon (`daemon run`, its Unix socket only): clients that never
// read, pipeline snapshots, send random bytes, a huge partial line, or too many connections,
// beside a well-behaved one. The daemon's memory stays bounded, the good client is answered
// throughout, and each client cut off is named in daemon.log with why.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../../src/core/daemon/client.js';
import { daemonPaths } from '../../src/core/daemon/home.js';
import { DAEMON_PROTOCOL_VERSION } from '../../src/core/daemon/protocol.js';
import { CLI } from '../support/runBuiltCli.js';

const SOAK_MS = 10_000;
/**
 * How much the daemon may grow under the attack. Its bounds hold a few tens of MB; the garbage the
 * attack makes adds about 150 MB more before it is collected. Without the bounds, the pipelining
 * client alone grew it by 750 MB in these 10 s here (by 2.3 GB on a faster machine).
 */
const RSS_GROWTH_LIMIT = 350 * 1024 * 1024;
/** The longest a request of the good client may wait (a busy 2-core machine included). */
const ANSWER_LIMIT_MS = 5_000;

let home: string | null = null;
let daemon: ChildProcess | null = null;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
    const exited = new Promise((resolve) => daemon!.once('exit', resolve));
    daemon.kill('SIGKILL');
    await exited;
  }
});
afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
}

function open(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    sockets.push(socket);
    socket.on('error', () => {});
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

const hello = (client: string) => `${JSON.stringify({ id: 0, method: 'hello', params: { protocolVersion: DAEMON_PROTOCOL_VERSION, client } })}\n`;

/** Writes what `next` gives for as long as the soak runs, waiting only for the socket to take it; reconnects when dropped. */
async function flood(socketPath: string, first: string, next: () => string | Buffer, until: () => boolean, counters: { drops: number }): Promise<void> {
  while (!until()) {
    let socket: Socket;
    try {
      socket = await open(socketPath);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    // Never reads: what the daemon sends it stays in the daemon's buffers.
    socket.pause();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let open_ = true;
    void closed.then(() => (open_ = false));
    if (first) socket.write(first);
    while (open_ && !until()) {
      if (!socket.write(next())) await drainedOrClosed(socket);
    }
    if (!open_) counters.drops++;
    socket.destroy();
  }
}

/** Until the socket takes more, is closed, or 200 ms passed (the soak may be over). */
function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, 200);
    socket.once('drain', done);
    socket.once('close', done);
  });
}

describe('daemon socket soak (built CLI)', () => {
  it('slow, pipelining and garbage clients beside a good one: RSS stays bounded, the good client is answered throughout, the bad ones are cut off with a logged reason', async () => {
    home = await mkdtemp(join(tmpdir(), 'cm-soak-'));
    await writeFile(join(home, 'config.json'), JSON.stringify({ workspaces: [] }));
    const socketPath = daemonPaths(home).socket;
    // As `daemon run` runs in the foreground, with Node's own young generation: RSS then shows what
    // the daemon holds, not how much garbage V8 lets pile up between scavenges (DAEMON_NODE_FLAGS).
    daemon = spawn(process.execPath, [CLI, '--home', home, 'daemon', 'run'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    daemon.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const pid = daemon.pid!;

    // The good client: subscribed (an attached TUI), and asking all along.
    let good: DaemonClient | null = null;
    await expect
      .poll(async () => (good = await DaemonClient.connect(socketPath, { timeoutMs: ANSWER_LIMIT_MS, client: 'good' }).catch(() => null)) !== null, { timeout: 20_000 })
      .toBe(true);
    const goodClient = good!;
    let changes = 0;
    goodClient.subscribe(() => changes++);
    const asker = await DaemonClient.connect(socketPath, { timeoutMs: ANSWER_LIMIT_MS, client: 'good-asker' });
    await asker.snapshot();
    const baseline = rssBytes(pid);

    const deadline = Date.now() + SOAK_MS;
    let overLimit = false;
    const done = () => Date.now() > deadline || overLimit;
    let peak = baseline;
    const sampling = (async () => {
      while (!done()) {
        peak = Math.max(peak, rssBytes(pid));
        // Stop early rather than let an unbounded daemon take the machine.
        if (peak - baseline > RSS_GROWTH_LIMIT) overLimit = true;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    // The good client's round trips, throughout.
    const latencies: number[] = [];
    const failures: string[] = [];
    const asking = (async () => {
      while (!done()) {
        const started = Date.now();
        try {
          await asker.snapshot();
          await goodClient.status();
          latencies.push(Date.now() - started);
        } catch (error) {
          failures.push(String(error));
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    // Slow: subscribed, never reads.
    const slow = await open(socketPath);
    slow.pause();
    slow.write(hello('slow') + '{"id":1,"method":"supervisor.subscribe"}\n');

    const pipelined = { drops: 0 };
    const garbage = { drops: 0 };
    const huge = { drops: 0 };
    let nextId = 1;
    const snapshots = () => {
      let batch = '';
      for (let i = 0; i < 500; i++) batch += `{"id":${nextId++},"method":"supervisor.snapshot"}\n`;
      return batch;
    };
    const attackers = [
      // Pipelining: snapshot requests without reading a reply.
      flood(socketPath, hello('pipelining'), snapshots, done, pipelined),
      // Random bytes (newlines among them: many bad lines), never reading the error replies.
      flood(socketPath, '', () => randomBytes(64 * 1024), done, garbage),
      // One huge line that never ends, after a hello.
      flood(socketPath, hello('huge'), () => 'x'.repeat(256 * 1024), done, huge),
    ];
    // Connections each sending a partial line of 1.5 MB before any hello: cut off past 64 KB.
    const partial = await Promise.all(Array.from({ length: 20 }, () => open(socketPath).catch(() => null)));
    for (const socket of partial) socket?.write('{"id":1,"method":"hello","params":{"client":"' + 'y'.repeat(1_500_000));
    // More connections than the daemon serves, holding still (the partial ones may be gone by
    // now, these are not): those past the limit are refused.
    await Promise.all(Array.from({ length: 80 }, () => open(socketPath).catch(() => null)));

    await Promise.all([sampling, asking, ...attackers]);
    const ended = Date.now();
    console.log(
      `soak: RSS ${Math.round(baseline / 1e6)} → peak ${Math.round(peak / 1e6)} MB; good client ${latencies.length} round trips, slowest ${Math.max(...latencies)} ms; ` +
        `pipelining dropped ${pipelined.drops}×, huge line ${huge.drops}×, random bytes ${garbage.drops}×; ${changes} changes seen`,
    );

    // Memory stayed bounded.
    expect(overLimit, `RSS grew from ${baseline} to ${peak} bytes`).toBe(false);
    expect(peak - baseline).toBeLessThan(RSS_GROWTH_LIMIT);
    // The good clients are still connected and answer at once.
    expect(failures).toEqual([]);
    expect(goodClient.isClosed).toBe(false);
    expect((await asker.snapshot()).seq).toBeGreaterThanOrEqual(0);
    expect(Date.now() - ended).toBeLessThan(ANSWER_LIMIT_MS);
    expect(latencies.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...latencies)).toBeLessThan(ANSWER_LIMIT_MS);
    // The bad clients were cut off, and the log says why.
    expect(pipelined.drops).toBeGreaterThan(0);
    expect(huge.drops).toBeGreaterThan(0);
    expect(log).toMatch(/client #\d+ \(pipelining\) disconnected: did not read its replies \(\d+ bytes waiting, over the limit of 8388608\)/);
    expect(log).toMatch(/client #\d+ \(huge\) disconnected: sent a request over 2097152 bytes/);
    expect(log).toMatch(/client #\d+ disconnected: sent more than 65536 bytes of a line before its hello/);
    expect(log).toContain('refusing connections: 64 are open, the most the daemon serves');

    goodClient.close();
    asker.close();
    const exited = new Promise<number | null>((resolve) => daemon!.once('exit', resolve));
    // Even with a subscriber that never reads still connected, SIGTERM ends it.
    daemon.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
