// Property-based: whatever a local process sends the daemon, its request parser either accepts
// it or answers with a clear error naming where it went wrong; it never throws, and nothing
// invalid reaches the supervisor (the only part that starts processes).
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonClient } from '../../src/core/daemon/client.js';
import { DAEMON_PROTOCOL_VERSION, ERROR_CODES, MAX_REQUEST_BYTES, METHOD_PARAMS, parseRequest } from '../../src/core/daemon/protocol.js';
import { DaemonServer } from '../../src/core/daemon/server.js';
import { SupervisorError } from '../../src/core/errors.js';
import { LineDecoder } from '../../src/core/protocol/lineDecoder.js';
import { FakeApi } from '../support/fakeApi.js';
import { childPids } from '../support/processes.js';

const METHODS = Object.keys(METHOD_PARAMS);

/** Params shaped like the real ones, with values that are sometimes right and often not. */
const paramsArb = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue(),
  fc.record({ protocolVersion: fc.oneof(fc.constant(DAEMON_PROTOCOL_VERSION), fc.integer(), fc.string()), client: fc.string({ maxLength: 300 }) }, { requiredKeys: [] }),
  fc.record({ filter: fc.record({ limit: fc.oneof(fc.integer(), fc.double()), workspace: fc.string(), kinds: fc.array(fc.string()), text: fc.jsonValue() }, { requiredKeys: [] }) }, { requiredKeys: [] }),
  fc.record({ signalId: fc.oneof(fc.string(), fc.integer()), graceMs: fc.oneof(fc.nat(4_000_000), fc.integer()) }, { requiredKeys: [] }),
  fc.record({ key: fc.string(), decision: fc.oneof(fc.constantFrom('accept', 'decline', 'cancel', 'acceptForSession'), fc.string()), answers: fc.dictionary(fc.string(), fc.array(fc.string())) }, { requiredKeys: [] }),
  fc.record({ plan: fc.jsonValue(), options: fc.record({ baseDir: fc.oneof(fc.string(), fc.integer()), force: fc.boolean(), dryRun: fc.jsonValue() }, { requiredKeys: [] }) }, { requiredKeys: [] }),
  fc.record({ line: fc.string(), proposalId: fc.string(), decision: fc.constantFrom('confirm', 'reject', 'maybe'), threadId: fc.string(), turnId: fc.oneof(fc.string(), fc.constant(null)) }, { requiredKeys: [] }),
);

const envelopeArb = fc.record(
  {
    id: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string(), fc.constant(null)),
    method: fc.oneof(fc.constantFrom(...METHODS), fc.constantFrom('toString', '__proto__', 'constructor', 'hasOwnProperty'), fc.string(), fc.integer()),
    params: paramsArb,
  },
  { requiredKeys: [] },
);

/** One line as it would arrive: arbitrary text, arbitrary JSON, or a request-shaped object. */
const lineArb = fc
  .oneof(fc.string(), fc.string({ unit: 'binary' }), fc.jsonValue().map((v) => JSON.stringify(v)), envelopeArb.map((e) => JSON.stringify(e)), envelopeArb.map((e) => JSON.stringify(e)))
  .filter((line) => !/[\n\r]/.test(line) && line.trim() !== '');

const CODES = new Set<number>(Object.values(ERROR_CODES));

/** What a correct answer to `line` looks like, checked against the schemas directly. */
function expectWellAnswered(line: string): void {
  const parsed = parseRequest(line);
  if (parsed.ok) {
    expect(Number.isInteger(parsed.id) && parsed.id >= 0).toBe(true);
    expect(METHOD_PARAMS[parsed.method].safeParse(parsed.params).success).toBe(true);
    return;
  }
  expect(CODES.has(parsed.error.code)).toBe(true);
  const { message } = parsed.error;
  if (parsed.error.code === ERROR_CODES.parse) expect(message).toMatch(/^not JSON \(.+\): send one JSON object per line$/);
  // Each problem with the path of its field: `id: …`, `method: …`, or the request as a whole.
  else if (parsed.error.code === ERROR_CODES.invalidRequest) expect(message).toMatch(/^a request needs a numeric "id" and a "method": (id|method|the request): .+/);
  else if (parsed.error.code === ERROR_CODES.unknownMethod) expect(message).toMatch(/^unknown method ".*"$/s);
  else {
    expect(parsed.error.code).toBe(ERROR_CODES.invalidParams);
    expect(message).toMatch(/^invalid params for [a-zA-Z.]+: params(\.[^:]+)?: .+/s);
  }
}

describe('the daemon request parser (property-based)', () => {
  it('any line: accepted with params its schema validates, or an error with its code and the path of the problem; never a throw', () => {
    fc.assert(
      fc.property(lineArb, (line) => {
        expectWellAnswered(line);
      }),
      { numRuns: 3_000 },
    );
  });

  it('the error names the field: params.filter.limit, id, the request', () => {
    expect(parseRequest('{"id":1,"method":"supervisor.feed","params":{"filter":{"limit":-1}}}')).toEqual({
      ok: false,
      id: 1,
      error: { code: ERROR_CODES.invalidParams, message: 'invalid params for supervisor.feed: params.filter.limit: Too small: expected number to be >0' },
    });
    expect(parseRequest('{"id":-1,"method":"hello"}')).toMatchObject({ ok: false, id: null, error: { message: 'a request needs a numeric "id" and a "method": id: Too small: expected number to be >=0' } });
    expect(parseRequest('[1]')).toMatchObject({ ok: false, error: { code: ERROR_CODES.invalidRequest, message: expect.stringMatching(/^a request needs a numeric "id" and a "method": the request: /) } });
    expect(parseRequest('{"id":2,"method":"supervisor.snapshot","params":"x"}')).toMatchObject({ error: { message: expect.stringMatching(/^invalid params for supervisor.snapshot: params: /) } });
  });
});

describe('the daemon answering arbitrary lines over its socket (property-based)', () => {
  let dir: string;
  let server: DaemonServer;
  const api = new FakeApi();
  const logged: string[] = [];
  let stops = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-daemon-prop-'));
    server = new DaemonServer(api, {
      status: () => ({ pid: process.pid, holder: 'daemon', startedAtMs: 0, version: 'test', home: dir, socket: join(dir, 'daemon.sock'), hosts: [], workspaces: [] }),
      stop: () => void stops++,
      reloadConfig: () => Promise.resolve({ ok: true, changes: [] }),
      version: 'test',
      log: (line) => logged.push(line),
    });
    await server.listen(join(dir, 'daemon.sock'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('every line gets exactly one answer, the one the parser decides; only valid requests reach the supervisor; no process starts; the connection stays up', async () => {
    const socket: Socket = connect(join(dir, 'daemon.sock'));
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    type Reply = { id: number | null; result?: unknown; error?: { code: number; message: string } };
    const replies: Reply[] = [];
    let onReply = () => {};
    const decoder = new LineDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk).lines) replies.push(JSON.parse(line));
      onReply();
    });
    const ask = async (line: string): Promise<Reply> => {
      const before = replies.length;
      const answered = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to ${line}`)), 5_000);
        onReply = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      socket.write(`${line}\n`);
      await answered;
      // Anything more would arrive with it: one request, one line.
      await new Promise((resolve) => setImmediate(resolve));
      expect(replies).toHaveLength(before + 1);
      return replies[before]!;
    };
    expect(await ask(JSON.stringify({ id: 0, method: 'hello', params: { protocolVersion: DAEMON_PROTOCOL_VERSION, client: 'property' } }))).toMatchObject({ id: 0, result: {} });
    const childrenBefore = childPids(process.pid);

    await fc.assert(
      fc.asyncProperty(lineArb, async (line) => {
        const parsed = parseRequest(line);
        // Subscribing makes the connection a subscriber; its answer is still the one reply.
        const callsBefore = api.calls.length;
        const reply = await ask(line);
        if (!parsed.ok) {
          expect(reply).toEqual({ id: parsed.id, error: parsed.error });
          expect(api.calls.length).toBe(callsBefore);
        } else expect(reply.id).toBe(parsed.id);
      }),
      { numRuns: 400 },
    );
    expect(childPids(process.pid)).toEqual(childrenBefore);
    expect(socket.destroyed).toBe(false);
    expect(logged).toEqual([]);
    socket.destroy();
  });

  it('a client that reads is never cut off: 300 requests at once (the TUI acknowledging every open signal) are all answered', async () => {
    const client = await DaemonClient.connect(join(dir, 'daemon.sock'), { client: 'burst' });
    try {
      const settled = await Promise.allSettled([...Array.from({ length: 300 }, (_, i) => client.ackSignal(`none-${i}`)), ...Array.from({ length: 100 }, () => client.status())]);
      const reasons = settled.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
      // Each ack is refused by the supervisor (no such signal), none by the connection.
      expect(reasons).toHaveLength(300);
      for (const reason of reasons) expect(reason).toMatch(/^no signal with id "none-\d+"/);
      expect(settled.slice(300).every((r) => r.status === 'fulfilled')).toBe(true);
      expect(client.isClosed).toBe(false);
      expect(logged).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('a request over the size limit is refused by the client itself (exit 2), before the daemon would drop the connection', async () => {
    const client = await DaemonClient.connect(join(dir, 'daemon.sock'), { client: 'big' });
    try {
      const plan = { version: 1, id: 'big', actions: [{ id: 'a', workspace: 'api', prompt: 'x'.repeat(MAX_REQUEST_BYTES), thread: 'new' }] };
      const refused = await client.dispatch(plan).then(
        () => null,
        (error: unknown) => error as SupervisorError,
      );
      expect(refused).toBeInstanceOf(SupervisorError);
      expect(refused!.exitCode).toBe(2);
      expect(refused!.message).toMatch(new RegExp(`^the supervisor.dispatch request is \\d+ bytes, over the daemon's limit of ${MAX_REQUEST_BYTES}; send less at once$`));
      expect((await client.status()).pid).toBe(process.pid);
      expect(logged).toEqual([]);
    } finally {
      client.close();
    }
  });
});
