/**
 * The attached TUI of the render bench (see attachedStorm.ts), in a process of its own as
 * `cm-supervisor attach` runs it: a DaemonClient on the bench's socket, whose copy of the state
 * is one snapshot and then every event reduced here, and with `app` the App mounted on that
 * client in the bench's fake terminal. With `bare`, the client and one subscriber only: what
 * the client's copy costs without the App. Driven over the IPC channel; exits when it closes.
 *
 *   started by renderBench.js as: node dist/bench/attachedTui.js SOCKET app|bare
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DaemonClient } from '../src/core/daemon/client.js';
import { FakeStdin, FakeStdout, loadTui, mountApp, OPERATIONS_VIEW, plain, until } from './tuiHarness.js';

export type AttachedMode = 'app' | 'bare';

/** What the child measured since `start` (the bytes before it are the handshake and the snapshots). */
export interface ClientStats {
  /** The last event (by the daemon's sequence number) this client has reduced. */
  seq: number;
  userMs: number;
  systemMs: number;
  wallMs: number;
  /** Bytes read from the daemon's socket: what the server wrote to this client. */
  bytesRead: number;
  /** Reads from the socket (its 'data' events): each one a wake-up of this process's loop. */
  reads: number;
  /** Read while attaching (until `connected`): hello, the subscription's snapshot, the App's first snapshot read. */
  bytesAttaching: number;
  frames: number;
  inkRenders: number;
  /** `resync` changes: the client missed events or the daemon found it behind. */
  resyncs: number;
  /** Resyncs before `start` (attaching, warming up). */
  resyncsBefore: number;
  /** When the frame that showed `text` was written (epoch ms, performance.timeOrigin based). */
  frameAtMs: number;
}

export type ToChild =
  /** Reply `reached` once events up to `seq` are reduced here (and with `text`, a frame shows it). */
  | { type: 'await'; id: number; seq: number; text?: string; timeoutMs: number }
  /** Start counting CPU, bytes and frames from here. */
  | { type: 'start' }
  | { type: 'quit' };

export type FromChild =
  | { type: 'connected' }
  | { type: 'started' }
  | { type: 'reached'; id: number; stats: ClientStats }
  | { type: 'failed'; id?: number; message: string };

const send = (message: FromChild) => process.send?.(message);

/**
 * The client's socket, to count what arrives on it. DaemonClient keeps it private (and replaces
 * it on a reconnect, which this client does not do); its byte count is all the bench reads.
 */
function socketOf(client: DaemonClient): Socket {
  const socket = (client as unknown as { socket?: Socket }).socket;
  if (typeof socket?.bytesRead !== 'number') throw new Error('DaemonClient has no `socket` any more: update attachedTui.ts');
  return socket;
}

async function main(): Promise<void> {
  const [socketPath, mode] = process.argv.slice(2) as [string | undefined, AttachedMode | undefined];
  if (!process.send || !socketPath || (mode !== 'app' && mode !== 'bare')) throw new Error('usage: run by renderBench.js with an IPC channel: attachedTui.js SOCKET app|bare');
  // Loaded before connecting: the bench measures the storm, not start-up.
  const tui = mode === 'app' ? await loadTui() : null;
  const client = await DaemonClient.connect(socketPath, { client: 'render bench', timeoutMs: 30_000 });
  const socket = socketOf(client);
  let reads = 0;
  socket.on('data', () => reads++);
  let seq = 0;
  let resyncs = 0;
  client.subscribe((change) => {
    if (change.eventType === 'resync') resyncs++;
    else seq = change.seq;
  });

  const stdout = new FakeStdout();
  const stdin = new FakeStdin();
  let inkRenders = 0;
  // Mounted at once, as attachedTui in src/cli/commands/tui.ts does (notifications go nowhere
  // here): its first snapshot may be read before the client's copy is ready.
  const instance = tui
    ? mountApp(
        tui,
        { api: client, mode: 'daemon', onQuit: () => {}, notify: () => {}, link: (listener) => client.onLink((status) => listener(status.reason)) },
        { stdout, stdin, onRender: () => inkRenders++ },
      )
    : null;
  // One round trip after `supervisor.subscribe`: the daemon has taken this client's snapshot and
  // streams every later event to it.
  await client.status();
  if (instance) await until(() => plain(stdout.lastFrame).includes(OPERATIONS_VIEW), 30_000, 'the operations view');

  const bytesAttaching = socket.bytesRead;

  /** Where the counts stand: `start` takes one, the measures are taken from it. */
  const mark = () => ({ cpu: process.cpuUsage(), atMs: performance.now(), bytes: socket.bytesRead, reads, frames: stdout.frames, inkRenders, resyncs });
  let base = mark();
  const stats = (): ClientStats => {
    const cpu = process.cpuUsage(base.cpu);
    return {
      seq,
      userMs: cpu.user / 1000,
      systemMs: cpu.system / 1000,
      wallMs: performance.now() - base.atMs,
      bytesRead: socket.bytesRead - base.bytes,
      reads: reads - base.reads,
      bytesAttaching,
      frames: stdout.frames - base.frames,
      inkRenders: inkRenders - base.inkRenders,
      resyncs: resyncs - base.resyncs,
      resyncsBefore: base.resyncs,
      frameAtMs: performance.timeOrigin + stdout.lastWriteAt,
    };
  };

  /** Until this client has reduced the daemon's event `target` (and a frame shows `text`). */
  const reach = (target: number, text: string | undefined, timeoutMs: number) =>
    until(() => seq >= target && (text === undefined || plain(stdout.lastFrame).includes(text)), timeoutMs, text === undefined ? `event ${target}` : `event ${target} and "${text}" on screen`);

  const quit = () => {
    instance?.unmount();
    client.close();
    process.exit(0);
  };
  process.on('disconnect', quit);
  client.onClose(quit);
  process.on('message', (message: ToChild) => {
    switch (message.type) {
      case 'start':
        base = mark();
        send({ type: 'started' });
        return;
      case 'await': {
        const { id, text } = message;
        reach(message.seq, text, message.timeoutMs).then(
          () => send({ type: 'reached', id, stats: stats() }),
          (error: unknown) => {
            const screen = plain(stdout.lastFrame).replace(/\s+/g, ' ').trim().slice(0, 160);
            const why = `${error instanceof Error ? error.message : String(error)} (reduced up to event ${seq}; ${resyncs} resyncs; ${stdout.frames} frames, the last: "${screen}")`;
            send({ type: 'failed', id, message: why });
          },
        );
        return;
      }
      case 'quit':
        quit();
    }
  });
  send({ type: 'connected' });
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error(`attachedTui: ${message}`);
  if (!process.send) process.exit(1);
  process.send({ type: 'failed', message } satisfies FromChild, () => process.exit(1));
});
