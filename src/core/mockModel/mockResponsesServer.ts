// A stand-in for the OpenAI Responses API, so `codex app-server` can run turns with no network:
// used by the offline demo and by tests that drive the real binary. Codex POSTs
// `<base_url>/responses` with `stream: true` and reads Server-Sent Events back.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export type MockReply =
  | { kind: 'text'; text: string; delayMs?: number }
  | { kind: 'exec'; cmd: string; escalate: boolean; justification?: string }
  /** A call of one of the tools Codex offers (e.g. `update_goal`), its arguments as an object. */
  | { kind: 'tool'; name: string; arguments: Record<string, unknown> }
  | { kind: 'json'; value: unknown }
  | { kind: 'httpError'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'cut' }
  | { kind: 'silent' };

export interface MockRequest {
  /** The parsed JSON body Codex sent. */
  body: any;
  /** Text of the most recent real user message (injected `<…>` context messages are skipped). */
  lastUserText: string | null;
  /** Every `function_call_output` item in the request input, oldest first. */
  functionCallOutputs: { callId: string; output: string }[];
  /** True when the turn asked for structured output (`turn/start.outputSchema`). */
  isStructured: boolean;
  /** True when the newest input is a tool's output: the model is asked to continue after a call. */
  isToolFollowUp: boolean;
  /** Goal mode: the thread goal's objective when Codex asks to continue toward it (null otherwise). */
  goalObjective: string | null;
  /** Goal mode: how many goal turns the input holds (continuations Codex started), this one included. */
  goalTurns: number;
  /** The name of the tool whose output is the newest input (`update_goal`, `exec_command`, …). */
  lastToolName: string | null;
  receivedAtMs: number;
  /** How many requests with this same `lastUserText` came before (0 for the first): "fail twice, then succeed". */
  repeat: number;
}

export interface MockResponsesServer {
  /** `http://127.0.0.1:PORT/v1`, the `base_url` of the model provider. */
  baseUrl: string;
  /** Every `POST /v1/responses` received, in arrival order. */
  requests: MockRequest[];
  close(): Promise<void>;
}

const SLOW_REPLY_MS = 1500;

/** One usage window as the Responses API reports it in headers (`x-codex-primary-…`). */
export interface QuotaWindow {
  usedPercent: number;
  windowMinutes: number;
  resetAtSec?: number;
}

/** The quota headers Codex reads from every response and reports as `account/rateLimits/updated`. */
export function quotaHeaders(primary: QuotaWindow, secondary: QuotaWindow): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, w] of [['primary', primary], ['secondary', secondary]] as const) {
    headers[`x-codex-${name}-used-percent`] = String(w.usedPercent);
    headers[`x-codex-${name}-window-minutes`] = String(w.windowMinutes);
    if (w.resetAtSec !== undefined) headers[`x-codex-${name}-reset-at`] = String(w.resetAtSec);
  }
  return headers;
}

export async function startMockResponsesServer(opts?: {
  reply?: (req: MockRequest) => MockReply;
  /** Sent with every response, e.g. the `x-codex-primary-used-percent` quota headers Codex reads. */
  responseHeaders?: Record<string, string>;
}): Promise<MockResponsesServer> {
  const reply = opts?.reply ?? defaultReply;
  const requests: MockRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  // Upstream ids become Codex item ids (call_id → commandExecution id), so keep them unique even
  // across several mock servers feeding one CODEX_HOME.
  const tag = randomBytes(4).toString('hex');
  let ids = 0;
  const nextId = (prefix: string): string => `${prefix}_mock${tag}${(++ids).toString(36)}`;

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `mock failure: ${String(err)}` } });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(opts?.responseHeaders ?? {})) res.setHeader(name, value);
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') return sendJson(res, 200, { models: [] });
    if (req.method !== 'POST' || path !== '/v1/responses') return sendJson(res, 404, { error: { message: 'not found' } });

    const raw = await readBody(req);
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      return sendJson(res, 400, { error: { message: 'request body is not JSON' } });
    }
    const mockReq = describeRequest(body, requests);
    requests.push(mockReq);
    const r = reply(mockReq);

    switch (r.kind) {
      case 'httpError':
        res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
        res.end(r.body ?? JSON.stringify({ error: { message: `mock upstream error ${r.status}`, type: 'server_error' } }));
        return;
      case 'silent':
        // Headers only: the client must detect the stall itself (stream_idle_timeout_ms).
        startSse(res);
        return;
      case 'cut': {
        const sse = startSse(res);
        const msgId = nextId('msg');
        sse('response.created', { response: { id: nextId('resp') } });
        sse('response.output_item.added', { output_index: 0, item: messageItem(msgId, 'in_progress', '') });
        for (const delta of ['This reply ', 'is cut ']) sse('response.output_text.delta', textDelta(msgId, delta));
        // Let the bytes reach the client, then drop the connection before response.completed.
        res.write('', () => res.destroy());
        return;
      }
      case 'text':
      case 'json': {
        const text = r.kind === 'json' ? JSON.stringify(r.value) : r.text;
        const delayMs = r.kind === 'text' ? (r.delayMs ?? 0) : 0;
        if (delayMs <= 0) return streamText(res, text);
        let clientGone = false;
        res.once('close', () => (clientGone = true));
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!clientGone) streamText(res, text);
        }, delayMs);
        timers.add(timer);
        return;
      }
      case 'exec':
        return streamExec(res, r);
      case 'tool':
        return streamToolCall(res, r.name, JSON.stringify(r.arguments));
    }
  }

  function streamText(res: ServerResponse, text: string): void {
    const sse = startSse(res);
    const respId = nextId('resp');
    const msgId = nextId('msg');
    sse('response.created', { response: { id: respId } });
    sse('response.output_item.added', { output_index: 0, item: messageItem(msgId, 'in_progress', '') });
    for (const delta of chunk(text, 3)) sse('response.output_text.delta', textDelta(msgId, delta));
    sse('response.output_item.done', { output_index: 0, item: messageItem(msgId, 'completed', text) });
    sse('response.completed', { response: { id: respId, usage: usage(text) } });
    res.end();
  }

  function streamExec(res: ServerResponse, r: Extract<MockReply, { kind: 'exec' }>): void {
    const args = JSON.stringify({
      cmd: r.cmd,
      sandbox_permissions: r.escalate ? 'require_escalated' : 'use_default',
      justification: r.justification ?? (r.escalate ? `Run \`${r.cmd}\` outside the sandbox` : undefined),
    });
    streamToolCall(res, 'exec_command', args);
  }

  function streamToolCall(res: ServerResponse, name: string, args: string): void {
    const sse = startSse(res);
    const respId = nextId('resp');
    const item = { type: 'function_call', id: nextId('fc'), call_id: nextId('call'), name, arguments: args };
    sse('response.created', { response: { id: respId } });
    sse('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress' } });
    sse('response.output_item.done', { output_index: 0, item: { ...item, status: 'completed' } });
    sse('response.completed', { response: { id: respId, usage: usage(item.arguments) } });
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        // Silent streams and keep-alive sockets would otherwise keep close() pending forever.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Picks a reply from markers in the last user message, so concurrent threads stay deterministic. */
export function defaultReply(req: MockRequest): MockReply {
  const goal = goalReply(req);
  if (goal) return goal;
  if (req.isToolFollowUp) {
    const last = req.functionCallOutputs[req.functionCallOutputs.length - 1];
    // `[then-slow 5s]`: the answer after the command takes that long (a turn still running after its first usage report).
    const slowAfter = /\[then-slow (\d+)s\]/.exec(req.lastUserText ?? '');
    return { kind: 'text', text: `Command finished: ${(last?.output ?? '').slice(0, 200)}`, ...(slowAfter ? { delayMs: Number(slowAfter[1]) * 1000 } : {}) };
  }
  const text = req.lastUserText ?? '';
  if (text.includes('[fail]')) return { kind: 'httpError', status: 500 };
  // `[fail400]`: a request the API refuses (HTTP 400): wrong every time, so never worth a retry.
  if (text.includes('[fail400]')) return { kind: 'httpError', status: 400 };
  // `[fail 2x]` / `[fail429 2x]`: the first N requests of this prompt fail with HTTP 500 / 429.
  const failing = /\[fail(429)? (\d+)x\]/.exec(text);
  if (failing && req.repeat < Number(failing[2])) return { kind: 'httpError', status: failing[1] ? 429 : 500 };
  // `[usage-limit 3s]`: the first request of this prompt hits the usage limit, which resets in 3 s.
  const limit = /\[usage-limit (\d+)s\]/.exec(text);
  if (limit && req.repeat === 0) return usageLimitReply(Math.floor(Date.now() / 1000) + Number(limit[1]));
  const slow = /\[slow (\d+(?:\.\d+)?)(ms|s)\]/.exec(text);
  if (slow) return { kind: 'text', text: `Done: ${text.slice(0, 120)}`, delayMs: Number(slow[1]) * (slow[2] === 's' ? 1000 : 1) };
  if (text.includes('[cut]')) return { kind: 'cut' };
  if (text.includes('[silent]')) return { kind: 'silent' };
  // `[silent-once]`: the first request of this prompt hangs (a turn to interrupt), later ones answer.
  if (text.includes('[silent-once]') && req.repeat === 0) return { kind: 'silent' };
  if (text.includes('[slow]')) return { kind: 'text', text: `Done: ${text.slice(0, 120)}`, delayMs: SLOW_REPLY_MS };
  const exec = bracketArgument(text, '[exec ');
  if (exec !== null) return { kind: 'exec', cmd: exec, escalate: true };
  const sandboxed = bracketArgument(text, '[exec-sandboxed ');
  if (sandboxed !== null) return { kind: 'exec', cmd: sandboxed, escalate: false };
  if (req.isStructured) return { kind: 'json', value: { ok: true } };
  return { kind: 'text', text: `Done: ${text.slice(0, 120)}` };
}

/**
 * Goal mode: an objective with `[goal-turns N]` is marked complete (`update_goal`) in its Nth
 * goal turn; any other goal is answered with text, so Codex keeps continuing until it is cleared.
 */
function goalReply(req: MockRequest): MockReply | null {
  if (req.goalObjective === null) return null;
  if (req.lastToolName === 'update_goal') return { kind: 'text', text: `Goal complete: ${req.goalObjective.slice(0, 120)}` };
  const wanted = /\[goal-turns (\d+)\]/.exec(req.goalObjective);
  if (wanted && req.goalTurns >= Number(wanted[1])) return { kind: 'tool', name: 'update_goal', arguments: { status: 'complete' } };
  // The output of a command run within a goal turn: answered as any tool follow-up.
  if (req.lastToolName !== null && req.lastToolName !== 'goal_objective') return null;
  return { kind: 'text', text: `Working toward the goal (turn ${req.goalTurns})` };
}

const GOAL_CONTEXT = '<codex_internal_context source="goal">';

/**
 * What the Responses API sends when the account's usage limit is reached: HTTP 429 with
 * `error.type: "usage_limit_reached"` and `resets_at` (epoch seconds), which Codex reports as
 * `codexErrorInfo: "usageLimitExceeded"`, and the quota headers at 100 % with the reset time,
 * which it reports as `account/rateLimits/updated`.
 */
export function usageLimitReply(resetsAtSec: number): MockReply {
  return {
    kind: 'httpError',
    status: 429,
    headers: quotaHeaders({ usedPercent: 100, windowMinutes: 300, resetAtSec: resetsAtSec }, { usedPercent: 40, windowMinutes: 10_080 }),
    body: JSON.stringify({ error: { type: 'usage_limit_reached', message: 'The usage limit has been reached', plan_type: 'plus', resets_at: resetsAtSec } }),
  };
}

function describeRequest(body: any, earlier: MockRequest[]): MockRequest {
  const input: any[] = Array.isArray(body?.input) ? body.input : [];
  const functionCallOutputs = input
    .filter((it) => it?.type === 'function_call_output')
    .map((it) => ({ callId: String(it.call_id ?? ''), output: outputText(it.output) }));
  let lastUserText: string | null = null;
  for (let i = input.length - 1; i >= 0 && lastUserText === null; i--) lastUserText = userText(input[i]);
  // Codex hands the goal to the model as the output of a `goal_objective` call, and each goal
  // turn it starts by itself as a user message of internal context.
  const objectives = input.filter((it) => it?.type === 'function_call_output' && it.name === 'goal_objective');
  const goalTurns = input.filter((it) => it?.type === 'message' && it.role === 'user' && Array.isArray(it.content) && it.content.some((c: any) => typeof c?.text === 'string' && c.text.startsWith(GOAL_CONTEXT))).length;
  const newest = input.at(-1);
  const lastToolName = newest?.type === 'function_call_output' ? (typeof newest.name === 'string' ? newest.name : toolNameOf(input, newest.call_id)) : null;
  return {
    body,
    lastUserText,
    functionCallOutputs,
    isStructured: body?.text?.format?.type === 'json_schema',
    isToolFollowUp: isToolFollowUp(body),
    goalObjective: objectives.length > 0 ? outputText(objectives.at(-1).output) : null,
    goalTurns,
    lastToolName,
    receivedAtMs: Date.now(),
    repeat: lastUserText === null ? 0 : earlier.filter((r) => !r.isToolFollowUp && r.lastUserText === lastUserText).length,
  };
}

/** The name of the function call a `call_id` answers. */
function toolNameOf(input: any[], callId: unknown): string | null {
  const call = input.find((it) => it?.type === 'function_call' && it.call_id === callId);
  return typeof call?.name === 'string' ? call.name : null;
}

/** The text of a real user message, or null for anything else (including injected `<…>` context). */
function userText(item: any): string | null {
  if (item?.type !== 'message' || item.role !== 'user' || !Array.isArray(item.content)) return null;
  const text = item.content
    .filter((c: any) => c?.type === 'input_text' && typeof c.text === 'string')
    .map((c: any) => c.text as string)
    .join('\n');
  return text === '' || text.trimStart().startsWith('<') ? null : text;
}

/** A request is a tool follow-up when a function_call_output is newer than the last user message. */
function isToolFollowUp(body: any): boolean {
  const input: any[] = Array.isArray(body?.input) ? body.input : [];
  for (let i = input.length - 1; i >= 0; i--) {
    if (input[i]?.type === 'function_call_output') return true;
    if (userText(input[i]) !== null) return false;
  }
  return false;
}

// Codex sends tool output either as a string or as a list of content items.
function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) {
    return output.map((c: any) => (typeof c?.text === 'string' ? c.text : '')).join('');
  }
  return JSON.stringify(output ?? '');
}

/** The text after `open` up to its matching `]`, allowing nested brackets; null if absent. */
function bracketArgument(text: string, open: string): string | null {
  const start = text.indexOf(open);
  if (start < 0) return null;
  let depth = 1;
  for (let i = start + open.length; i < text.length; i++) {
    if (text[i] === '[') depth++;
    else if (text[i] === ']' && --depth === 0) return text.slice(start + open.length, i).trim();
  }
  return null;
}

function startSse(res: ServerResponse): (type: string, payload: Record<string, unknown>) => void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
  return (type, payload) => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`);
  };
}

function messageItem(id: string, status: 'in_progress' | 'completed', text: string): Record<string, unknown> {
  return {
    type: 'message',
    role: 'assistant',
    id,
    status,
    content: status === 'completed' ? [{ type: 'output_text', text, annotations: [] }] : [],
  };
}

function textDelta(itemId: string, delta: string): Record<string, unknown> {
  return { item_id: itemId, output_index: 0, content_index: 0, delta };
}

function usage(output: string): Record<string, unknown> {
  const outputTokens = Math.max(1, Math.ceil(output.length / 4));
  const inputTokens = 100;
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
}

/** Splits text into at most `parts` non-empty pieces (code-point safe). */
function chunk(text: string, parts: number): string[] {
  const chars = Array.from(text);
  const size = Math.max(1, Math.ceil(chars.length / parts));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}
