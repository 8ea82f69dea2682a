#!/usr/bin/env node
// A scripted stand-in for `codex app-server`, for unit tests of the connection only.
// Usage: node fakeAppServer.mjs [--version V] [--die-at-once] [--ignore-stop] [--no-init-reply] [--no-ping-reply]
// Requests it understands after initialize:
//   echo {..}            → result = params
//   overload {times:N}   → -32001 the first N times (per process), then {ok:true}
//   never                → no answer
//   crash {code}         → writes to stderr and exits with `code`
//   garbage              → writes junk lines, a response to an unknown id, then {ok:true}
//   bigNotify {bytes}    → a notification `fake/big` with a string of `bytes` characters
//   ask {method}         → sends a server request and reports the client's reply as `fake/reply`
//   crlf                 → answers with a CRLF line ending
//   closeStdout          → closes stdout but keeps running
import { createInterface } from 'node:readline';

const args = process.argv.slice(2);
const version = args.includes('--version') ? args[args.indexOf('--version') + 1] : '0.171.0';
if (args.includes('--die-at-once')) {
  process.stderr.write('fatal: could not read config.toml: invalid key\n');
  process.exit(3);
}
if (args.includes('--ignore-stop')) {
  process.on('SIGTERM', () => {});
  setInterval(() => {}, 1000);
}

const send = (msg, ending = '\n') => process.stdout.write(JSON.stringify(msg) + ending);
let overloads = 0;
let serverRequestId = 0;
const waitingReplies = new Map();

createInterface({ input: process.stdin }).on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return; // like the real server: malformed input is dropped silently
  }
  if (msg.id !== undefined && msg.method === undefined) {
    const method = waitingReplies.get(msg.id);
    waitingReplies.delete(msg.id);
    send({ method: 'fake/reply', params: { method, reply: msg }, emittedAtMs: Date.now() });
    return;
  }
  const { id, method, params } = msg;
  switch (method) {
    case 'initialize':
      if (args.includes('--no-init-reply')) return;
      send({ id, result: { userAgent: `cm_supervisor/${version} (fake)`, codexHome: '/tmp/fake-home', platformFamily: 'unix', platformOs: 'linux' } });
      send({ method: 'configWarning', params: { summary: 'fake warning', details: null }, emittedAtMs: Date.now() });
      return;
    case 'initialized':
      return;
    case 'thread/loaded/list':
      // --no-ping-reply: a server that hangs (still alive, never answers).
      if (!args.includes('--no-ping-reply')) send({ id, result: { data: [], nextCursor: null } });
      return;
    case 'echo':
      send({ id, result: params ?? null });
      return;
    case 'overload':
      if (overloads < (params?.times ?? 1)) {
        overloads++;
        send({ id, error: { code: -32001, message: 'Server overloaded; retry later.' } });
      } else send({ id, result: { ok: true, overloads } });
      return;
    case 'never':
      return;
    case 'crash':
      process.stderr.write('thread main panicked at fake.rs:1\n');
      process.exit(params?.code ?? 101);
      return;
    case 'garbage':
      process.stdout.write('this is not json\n{"half":\n[1,2,3]\n\n');
      send({ id: 987654, result: {} });
      send({ id, result: { ok: true } });
      return;
    case 'bigNotify':
      send({ method: 'fake/big', params: { text: 'x'.repeat(params.bytes) }, emittedAtMs: Date.now() });
      send({ id, result: { ok: true } });
      return;
    case 'ask': {
      const rid = serverRequestId++;
      waitingReplies.set(rid, params.method);
      send({ id: rid, method: params.method, params: { threadId: 't1', turnId: 'u1', itemId: 'i1' } });
      send({ id, result: { asked: rid } });
      return;
    }
    case 'crlf':
      send({ id, result: { ok: true } }, '\r\n');
      return;
    case 'closeStdout':
      send({ id, result: { ok: true } });
      process.stdout.end();
      setInterval(() => {}, 1000);
      return;
    default:
      send({ id, error: { code: -32600, message: `Invalid request: unknown variant \`${method}\`` } });
  }
});
process.stdin.on('end', () => {
  if (!args.includes('--ignore-stop')) process.exit(0);
});
