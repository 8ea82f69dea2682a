import { ConnectionClosedError } from '../errors.js';
import { spawnChild, type ChildSpec, type ManagedChild } from '../process/spawnChild.js';
import { LineDecoder } from '../protocol/lineDecoder.js';
import { callEach } from '../util/listeners.js';
import { RingBuffer } from '../util/ringBuffer.js';
import { within } from '../util/timeout.js';
import type { Transport, TransportClosed, TransportEvent } from './transport.js';

export interface StdioTransportOptions {
  stderrTailLines?: number;
  /** A line longer than this is dropped unread (reported as `oversized`). */
  maxLineBytes?: number;
  /** How long the child may take to exit after its stdout closed before it is stopped. */
  graceMs?: number;
  now?: () => number;
  description?: string;
}

const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Newline-delimited JSON on a child's stdio: `codex app-server` itself, or anything speaking
 * its protocol (`ssh -T host codex app-server`, a workspace's own command). Spawning never
 * rejects: a binary that is missing is reported as `closed` with `spawnError`.
 */
export function openStdioTransport(spec: ChildSpec, options: StdioTransportOptions = {}): Promise<Transport> {
  return Promise.resolve(new StdioTransport(spec, options));
}

class StdioTransport implements Transport {
  readonly framing = 'jsonl';
  readonly description: string;
  private readonly child: ManagedChild;
  private readonly listeners = new Set<(event: TransportEvent) => void>();
  private readonly stderr: RingBuffer<string>;
  private readonly now: () => number;
  private readonly graceMs: number;
  private closedInfo: TransportClosed | null = null;
  private stopping = false;
  private readonly done: Promise<TransportClosed>;

  constructor(spec: ChildSpec, options: StdioTransportOptions) {
    this.now = options.now ?? Date.now;
    this.graceMs = options.graceMs ?? 2_000;
    this.description = options.description ?? `"${spec.argv.join(' ')}"`;
    this.stderr = new RingBuffer(options.stderrTailLines ?? 50);
    this.child = spawnChild(spec);
    const stderrDone = this.pipeStderr();
    const stdoutDone = this.pipeStdout(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.done = this.watchExit(stdoutDone, stderrDone);
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  get isClosed(): boolean {
    return this.closedInfo !== null;
  }

  get closed(): TransportClosed | null {
    return this.closedInfo;
  }

  send(text: string): void {
    const stdin = this.child.stdin;
    if (this.closedInfo || !stdin.writable) throw new ConnectionClosedError(`${this.description} is not running`);
    stdin.write(`${text}\n`);
  }

  on(listener: (event: TransportEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stderrTail(): string[] {
    return this.stderr.toArray();
  }

  close(graceMs: number): Promise<TransportClosed> {
    if (!this.closedInfo) {
      this.stopping = true;
      void this.child.stop(graceMs);
    }
    return this.done;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  private pipeStdout(maxLineBytes: number): Promise<void> {
    const decoder = new LineDecoder(maxLineBytes);
    const stdout = this.child.stdout;
    return new Promise((resolve) => {
      stdout.on('data', (chunk: Buffer) => {
        const { lines, oversized } = decoder.push(chunk);
        for (const text of lines) this.emit({ type: 'message', text });
        if (oversized > 0) this.emit({ type: 'oversized', limitBytes: maxLineBytes });
      });
      stdout.once('close', () => {
        const rest = decoder.flush();
        if (rest !== null) this.emit({ type: 'message', text: rest });
        resolve();
      });
    });
  }

  private pipeStderr(): Promise<void> {
    const decoder = new LineDecoder(1024 * 1024);
    const stderr = this.child.stderr;
    return new Promise((resolve) => {
      stderr.on('data', (chunk: Buffer) => {
        for (const line of decoder.push(chunk).lines) this.stderr.push(line);
      });
      stderr.once('close', () => {
        const rest = decoder.flush();
        if (rest !== null) this.stderr.push(rest);
        resolve();
      });
    });
  }

  /** The child is gone when it exits or closes stdout, whichever comes first. */
  private async watchExit(stdoutDone: Promise<void>, stderrDone: Promise<void>): Promise<TransportClosed> {
    const child = this.child;
    const first = await Promise.race([child.exited.then(() => 'exit' as const), stdoutDone.then(() => 'stdoutClosed' as const)]);
    let reason: TransportClosed['reason'] = 'exit';
    // stdout usually closes a moment before the exit is reported; a peer that closed stdout and
    // lives on can no longer answer anything, so it is stopped.
    if (first === 'stdoutClosed' && (await within(child.exited, this.graceMs)) === null) {
      reason = 'stdoutClosed';
      await child.stop(this.graceMs);
    }
    const exit = await child.exited;
    // stderr may still hold the crash message; give it a moment to drain.
    await within(stderrDone, 200);
    const closed: TransportClosed = {
      reason: this.stopping ? 'stopped' : reason,
      code: exit.code,
      signal: exit.signal,
      spawnError: exit.spawnError,
      stderrTail: this.stderrTail(),
      atMs: this.now(),
    };
    this.closedInfo = closed;
    this.emit({ type: 'closed', closed });
    return closed;
  }

  private emit(event: TransportEvent): void {
    callEach(this.listeners, event);
  }
}
