// A deliberately minimal JSONL client for tests of the real `codex app-server`.
// It is not the product client: no schema validation, no reconnects, just enough to drive turns.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { requireBundledCodexBinary } from '../../src/core/codexBinary.js';

export type RawMessage = { id?: number | string; method?: string; params?: any; result?: any; error?: any; [k: string]: unknown };

export interface RawAppServer {
  child: ChildProcessWithoutNullStreams;
  /** Every stdout line, exactly as received. */
  lines: string[];
  /** Every stdout line that parsed as JSON, in order. */
  messages: RawMessage[];
  stderr: string[];
  exited: Promise<number | null>;
  send(msg: object): void;
  request(method: string, params?: unknown, timeoutMs?: number): Promise<any>;
  notify(method: string, params?: unknown): void;
  respond(id: number | string, result: unknown): void;
  /** Resolves with the first message (from index `from`) matching `predicate`. */
  waitFor(predicate: (m: RawMessage) => boolean, timeoutMs?: number, from?: number): Promise<RawMessage>;
  kill(): Promise<void>;
}

export function spawnRawAppServer(opts: { env: Record<string, string>; bin?: string; args?: string[] }): RawAppServer {
  const child = spawn(opts.bin ?? requireBundledCodexBinary(), ['app-server', ...(opts.args ?? [])], {
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const messages: RawMessage[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
      for (const w of waiters) w();
    });
  });
  child.stdin.on('error', () => {}); // EPIPE after the child died; the exit is reported elsewhere

  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    try {
      messages.push(JSON.parse(line) as RawMessage);
    } catch {
      return;
    }
    for (const w of waiters) w();
  });
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));

  const send = (msg: object): void => {
    child.stdin.write(`${JSON.stringify(msg)}\n`);
  };

  const waitFor: RawAppServer['waitFor'] = (predicate, timeoutMs = 30_000, from = 0) =>
    new Promise((resolve, reject) => {
      let scanned = from;
      const check = (): void => {
        for (; scanned < messages.length; scanned++) {
          const m = messages[scanned]!;
          if (predicate(m)) return done(() => resolve(m));
        }
        if (exitCode !== undefined) done(() => reject(new Error(`app-server exited (${exitCode}) while waiting\n${tail()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`waitFor timed out after ${timeoutMs} ms\n${tail()}`))), timeoutMs);
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  const tail = (): string =>
    `last stdout:\n${lines.slice(-8).join('\n')}\nlast stderr:\n${stderr.slice(-5).join('\n')}`;

  let nextId = 1;
  return {
    child,
    lines,
    messages,
    stderr,
    exited,
    send,
    async request(method, params, timeoutMs = 30_000) {
      const id = nextId++;
      const from = messages.length;
      send(params === undefined ? { id, method } : { id, method, params });
      // Server requests reuse small ids, so a response is an `id` match *without* a method.
      const reply = await waitFor((m) => m.id === id && m.method === undefined, timeoutMs, from);
      if (reply.error) throw new Error(`${method} failed: ${JSON.stringify(reply.error)}`);
      return reply.result;
    },
    notify(method, params) {
      send(params === undefined ? { method } : { method, params });
    },
    respond(id, result) {
      send({ id, result });
    },
    waitFor,
    async kill() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(forced);
    },
  };
}

/** `initialize` + `initialized`; returns the initialize result. */
export async function initializeRaw(server: RawAppServer): Promise<any> {
  const result = await server.request('initialize', {
    clientInfo: { name: 'cm_supervisor_test', title: 'cm-supervisor tests', version: '0.0.0' },
    capabilities: null,
  });
  server.notify('initialized');
  return result;
}
