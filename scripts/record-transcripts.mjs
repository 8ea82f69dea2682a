#!/usr/bin/env node
// Records real `codex app-server` stdout (exactly as received, one line per line) into
// test/fixtures/transcripts/*.jsonl, so client parsing can be tested without the binary.
// Runs offline against a tiny inline mock of the Responses API. Deliberately imports nothing from
// src/ (plain Node, no build step); the real mock lives in src/core/mockModel.
// Usage: node scripts/record-transcripts.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'test/fixtures/transcripts');
const require = createRequire(import.meta.url);
const bin = join(
  dirname(require.resolve('@openai/codex-linux-x64/package.json')),
  'vendor/x86_64-unknown-linux-musl/bin/codex',
);
const WAIT_MS = 30_000;

// ---- mock Responses API: text, escalated exec, 500 --------------------------------------------
let seq = 0;
function lastUserText(input) {
  for (let i = input.length - 1; i >= 0; i--) {
    const it = input[i];
    if (it?.type === 'function_call_output') return { followUp: String(it.output ?? '') };
    if (it?.type !== 'message' || it.role !== 'user') continue;
    const text = (it.content ?? []).filter((c) => c.type === 'input_text').map((c) => c.text).join('\n');
    if (text && !text.startsWith('<')) return { text };
  }
  return { text: '' };
}
function sse(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const [type, payload] of events) res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`);
  res.end();
}
const usage = { input_tokens: 100, input_tokens_details: { cached_tokens: 0 }, output_tokens: 10, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 110 };
function textReply(res, text) {
  const id = `msg_rec${++seq}`;
  const item = (status, content) => ({ type: 'message', role: 'assistant', id, status, content });
  const mid = Math.ceil(text.length / 2);
  sse(res, [
    ['response.created', { response: { id: `resp_rec${seq}` } }],
    ['response.output_item.added', { output_index: 0, item: item('in_progress', []) }],
    ...[text.slice(0, mid), text.slice(mid)].map((delta) => ['response.output_text.delta', { item_id: id, output_index: 0, content_index: 0, delta }]),
    ['response.output_item.done', { output_index: 0, item: item('completed', [{ type: 'output_text', text, annotations: [] }]) }],
    ['response.completed', { response: { id: `resp_rec${seq}`, usage } }],
  ]);
}
function execReply(res, cmd) {
  const n = ++seq;
  const item = { type: 'function_call', id: `fc_rec${n}`, call_id: `call_rec${n}`, name: 'exec_command', arguments: JSON.stringify({ cmd, sandbox_permissions: 'require_escalated', justification: `Run \`${cmd}\` outside the sandbox` }) };
  sse(res, [
    ['response.created', { response: { id: `resp_rec${n}` } }],
    ['response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress' } }],
    ['response.output_item.done', { output_index: 0, item: { ...item, status: 'completed' } }],
    ['response.completed', { response: { id: `resp_rec${n}`, usage } }],
  ]);
}
const mock = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/v1/models') return res.end('{"models":[]}');
    if (req.method !== 'POST' || req.url !== '/v1/responses') return res.writeHead(404).end();
    const { text, followUp } = lastUserText(JSON.parse(Buffer.concat(chunks).toString()).input ?? []);
    if (followUp !== undefined) return textReply(res, `Command finished: ${followUp.slice(0, 200)}`);
    if (text.includes('[fail]')) return res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"mock upstream error 500"}}');
    const exec = /\[exec ([^\]]+)\]/.exec(text);
    if (exec) return execReply(res, exec[1]);
    textReply(res, `Done: ${text.slice(0, 120)}`);
  });
});
await new Promise((resolve) => mock.listen(0, '127.0.0.1', resolve));
const baseUrl = `http://127.0.0.1:${mock.address().port}/v1`;

// ---- offline CODEX_HOME --------------------------------------------------------------------------
function makeHome() {
  const dir = mkdtempSync(join(tmpdir(), 'cm-rec-home-'));
  writeFileSync(join(dir, 'config.toml'), [
    'model = "mock-model"', 'model_provider = "mock"', 'approval_policy = "on-request"', 'sandbox_mode = "read-only"',
    '[features]', 'plugins = false', 'apps = false', '[analytics]', 'enabled = false',
    '[model_providers.mock]', 'name = "Mock Responses API"', `base_url = ${JSON.stringify(baseUrl)}`,
    'wire_api = "responses"', 'env_key = "MOCK_API_KEY"', 'requires_openai_auth = false', 'supports_websockets = false',
    'stream_idle_timeout_ms = 5000', 'request_max_retries = 0', 'stream_max_retries = 0', '',
  ].join('\n'));
  return dir;
}

// ---- raw JSONL client ----------------------------------------------------------------------------
function spawnServer(home) {
  const child = spawn(bin, ['app-server'], { env: { ...process.env, CODEX_HOME: home, MOCK_API_KEY: 'mock-key' }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  const messages = [];
  const listeners = new Set();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stdoutDone = new Promise((resolve) => {
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      lines.push(line);
      try { messages.push(JSON.parse(line)); } catch { return; }
      for (const l of listeners) l();
    });
    rl.on('close', resolve);
  });
  let nextId = 0;
  const send = (msg) => child.stdin.write(`${JSON.stringify(msg)}\n`);
  const waitFor = (pred, from = 0) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { listeners.delete(check); reject(new Error(`timed out; last lines:\n${lines.slice(-5).join('\n')}`)); }, WAIT_MS);
    function check() {
      const m = messages.slice(from).find(pred);
      if (m) { clearTimeout(timer); listeners.delete(check); resolve(m); }
    }
    listeners.add(check);
    check();
  });
  return {
    lines, send, waitFor,
    async request(method, params) {
      const id = nextId++;
      const from = messages.length;
      send({ id, method, params });
      const reply = await waitFor((m) => m.id === id && m.method === undefined, from);
      if (reply.error) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
      return reply.result;
    },
    // stdin EOF makes the server exit cleanly; reading stdout to EOF keeps any trailing lines.
    async close() { child.stdin.end(); await Promise.all([exited, stdoutDone]); },
    messages,
  };
}

async function initialize(s) {
  await s.request('initialize', { clientInfo: { name: 'cm_supervisor', title: 'cm-supervisor', version: '0.1.0' }, capabilities: null });
  s.send({ method: 'initialized' });
}
async function runTurn(s, threadId, text, onApproval) {
  const from = s.messages.length;
  const { turn } = await s.request('turn/start', { threadId, input: [{ type: 'text', text, text_elements: [] }] });
  if (onApproval) {
    const req = await s.waitFor((m) => m.method === 'item/commandExecution/requestApproval' && m.id !== undefined, from);
    s.send({ id: req.id, result: { decision: onApproval } });
  }
  return s.waitFor((m) => m.method === 'turn/completed' && m.params.turn.id === turn.id, from);
}

// ---- scenarios -----------------------------------------------------------------------------------
const cwd = mkdtempSync(join(tmpdir(), 'cm-rec-cwd-'));
const cleanup = [cwd];

async function scenario(name, body) {
  const home = makeHome();
  cleanup.push(home);
  const s = await body(home);
  writeFileSync(join(outDir, `${name}.jsonl`), `${s.lines.join('\n')}\n`);
  console.log(`${name}.jsonl: ${s.lines.length} lines`);
}
async function simpleTurn(home, text, opts = {}) {
  const s = spawnServer(home);
  await initialize(s);
  const { thread } = await s.request('thread/start', { cwd, approvalPolicy: 'on-request' });
  await runTurn(s, thread.id, text, opts.approval);
  await s.close();
  return s;
}

try {
  mkdirSync(outDir, { recursive: true });
  await scenario('text-turn', (home) => simpleTurn(home, 'Say hello to the supervisor'));
  await scenario('approval-accept', (home) => simpleTurn(home, 'please [exec echo hi]', { approval: 'accept' }));
  await scenario('approval-decline', (home) => simpleTurn(home, 'please [exec echo hi]', { approval: 'decline' }));
  await scenario('upstream-500', (home) => simpleTurn(home, '[fail] please'));
  await scenario('resume', async (home) => {
    const first = spawnServer(home);
    await initialize(first);
    const { thread } = await first.request('thread/start', { cwd, approvalPolicy: 'on-request' });
    await runTurn(first, thread.id, 'First turn before the restart');
    await first.close();
    // A new process on the same CODEX_HOME; only its stdout is recorded.
    const second = spawnServer(home);
    await initialize(second);
    await second.request('thread/resume', { threadId: thread.id });
    await runTurn(second, thread.id, 'Second turn after resume');
    await second.close();
    return second;
  });
} finally {
  mock.close();
  mock.closeAllConnections();
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
}
