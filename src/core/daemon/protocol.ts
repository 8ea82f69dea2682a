import { z } from 'zod';
import { MAX_PLAN_BYTES } from '../contract/plan.js';
import { APPROVAL_DECISIONS } from '../state/events.js';

/**
 * The daemon socket protocol: JSONL, one JSON-RPC-like message a line. It exposes exactly the
 * SupervisorApi (`supervisor.*`) plus `hello` (version handshake, required first) and
 * `daemon.status` / `daemon.stop`. Every request is validated here before it reaches the
 * supervisor: any local process of the same user can connect.
 */
// 4: `allowUnsafe` in dispatch options and chatDecide (a daemon of 3 would dispatch any plan);
// events sent in batches (`supervisor.events`). 5: the thread actions (reply, retryTurn,
// transcript, threadDiff, archiveThread) and their events. 6: v2 plans run in the daemon
// (`state.planRuns`, `timeoutSec` in dispatch options and chatDecide).
export const DAEMON_PROTOCOL_VERSION = 6;
/** The longest request (and partial line held for one): a plan is at most MAX_PLAN_BYTES; twice that leaves room for the envelope and JSON escapes. */
export const MAX_REQUEST_BYTES = 2 * MAX_PLAN_BYTES;

export const RequestEnvelopeSchema = z.object({ id: z.number().int().nonnegative(), method: z.string(), params: z.unknown().optional() });

const FeedFilterSchema = z.strictObject({
  needsInput: z.boolean().optional(),
  workspace: z.string().optional(),
  kinds: z.array(z.string()).optional(),
  faults: z.boolean().optional(),
  text: z.string().optional(),
  limit: z.number().int().positive().optional(),
});

export const METHOD_PARAMS = {
  hello: z.strictObject({ protocolVersion: z.number().int(), client: z.string().max(200) }),
  'supervisor.snapshot': z.strictObject({}),
  'supervisor.feed': z.strictObject({ filter: FeedFilterSchema.optional() }),
  'supervisor.dispatch': z.strictObject({
    plan: z.unknown(),
    options: z
      .strictObject({
        baseDir: z.string().optional(),
        force: z.boolean().optional(),
        dryRun: z.boolean().optional(),
        retryFailed: z.boolean().optional(),
        allowUnsafe: z.boolean().optional(),
        timeoutSec: z.number().positive().optional(),
      })
      .optional(),
  }),
  'supervisor.ackSignal': z.strictObject({ signalId: z.string() }),
  'supervisor.answerApproval': z.strictObject({ key: z.string(), decision: z.enum(APPROVAL_DECISIONS as [string, ...string[]]) }),
  'supervisor.answerQuestion': z.strictObject({ key: z.string(), answers: z.record(z.string(), z.array(z.string())) }),
  'supervisor.interruptTurn': z.strictObject({ threadId: z.string(), turnId: z.string() }),
  // A reply is a prompt: as long as a chat line.
  'supervisor.reply': z.strictObject({ threadId: z.string(), text: z.string().max(100_000) }),
  'supervisor.retryTurn': z.strictObject({ threadId: z.string() }),
  'supervisor.transcript': z.strictObject({ threadId: z.string() }),
  'supervisor.threadDiff': z.strictObject({ threadId: z.string() }),
  'supervisor.archiveThread': z.strictObject({ threadId: z.string() }),
  'supervisor.subscribe': z.strictObject({}),
  'supervisor.chatSend': z.strictObject({
    line: z.string().max(100_000),
    options: z.strictObject({ approvalKey: z.string().optional(), baseDir: z.string().optional() }).optional(),
  }),
  'supervisor.chatDecide': z.strictObject({
    proposalId: z.string(),
    decision: z.enum(['confirm', 'reject']),
    editedPlan: z.unknown().optional(),
    options: z.strictObject({ allowUnsafe: z.boolean().optional(), timeoutSec: z.number().positive().optional() }).optional(),
  }),
  'daemon.status': z.strictObject({}),
  'daemon.stop': z.strictObject({ graceMs: z.number().int().nonnegative().max(3_600_000).optional() }),
  'daemon.reloadConfig': z.strictObject({}),
} as const;

export type DaemonMethod = keyof typeof METHOD_PARAMS;

export type ParsedRequest =
  | { ok: true; id: number; method: DaemonMethod; params: Record<string, unknown> }
  | { ok: false; id: number | null; error: { code: number; message: string } };

/**
 * Reads one request line: valid, or an error reply naming where it went wrong (a position in the
 * line, or the path of the field). Never throws: the line is whatever a local process sent.
 */
export function parseRequest(line: string): ParsedRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    return { ok: false, id: null, error: { code: ERROR_CODES.parse, message: `not JSON (${(error as Error).message}): send one JSON object per line` } };
  }
  const envelope = RequestEnvelopeSchema.safeParse(raw);
  if (!envelope.success) {
    return { ok: false, id: null, error: { code: ERROR_CODES.invalidRequest, message: `a request needs a numeric "id" and a "method": ${describeIssues(envelope.error, [])}` } };
  }
  const { id, method } = envelope.data;
  // Own keys only: "toString" or "__proto__" must be unknown methods, not a crash.
  const schema = Object.hasOwn(METHOD_PARAMS, method) ? (METHOD_PARAMS as Record<string, z.ZodType>)[method] : undefined;
  if (!schema) return { ok: false, id, error: { code: ERROR_CODES.unknownMethod, message: `unknown method "${method}"` } };
  const params = schema.safeParse(envelope.data.params ?? {});
  if (!params.success) {
    return { ok: false, id, error: { code: ERROR_CODES.invalidParams, message: `invalid params for ${method}: ${describeIssues(params.error, ['params'])}` } };
  }
  return { ok: true, id, method: method as DaemonMethod, params: params.data as Record<string, unknown> };
}

/** Each problem with the path of its field: `params.filter.limit: Too small: expected number to be >0`. */
function describeIssues(error: z.ZodError, root: string[]): string {
  return error.issues.map((issue) => `${[...root, ...issue.path.map(String)].join('.') || 'the request'}: ${issue.message}`).join('; ');
}

export const ERROR_CODES = {
  parse: -32700,
  invalidRequest: -32600,
  unknownMethod: -32601,
  invalidParams: -32602,
  supervisor: -32000,
  notHello: -32002,
  /** Past one of the daemon's bounds (connections, request size): the connection is closed after this. */
  limit: -32003,
} as const;

/** `data` of an error reply: enough for the client to rethrow the same error kind. */
export const ErrorDataSchema = z.object({
  exitCode: z.union([z.literal(1), z.literal(2)]).optional(),
  problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const ResponseSchema = z.union([
  z.object({ id: z.number(), result: z.unknown() }),
  z.object({ id: z.number(), error: z.object({ code: z.number(), message: z.string(), data: ErrorDataSchema.optional() }) }),
]);

/**
 * Reduced events, for the client's copy of the state (the reducer checks what it reads): those
 * of one turn of the daemon's event loop in one message, numbered from `seq` on. One parse of a
 * batch costs a client far less than one per event.
 */
export const EventsNotificationSchema = z.object({
  method: z.literal('supervisor.events'),
  params: z.object({ seq: z.number().int(), events: z.array(z.looseObject({ type: z.string(), atMs: z.number() })).min(1) }),
});
export const ResyncNotificationSchema = z.object({ method: z.literal('supervisor.resync') });
/** Sent to every client before the daemon closes on purpose: why (an attached TUI shows it while it waits). */
export const StoppingNotificationSchema = z.object({ method: z.literal('daemon.stopping'), params: z.object({ reason: z.string() }) });

export const DaemonStatusSchema = z.object({
  pid: z.number(),
  /** `daemon`, or the command running the home's loop in-process. */
  holder: z.string(),
  startedAtMs: z.number(),
  version: z.string(),
  home: z.string(),
  socket: z.string(),
  hosts: z.array(z.object({ name: z.string(), status: z.string(), transport: z.string().nullable(), pid: z.number().nullable() })),
  workspaces: z.array(z.object({ name: z.string(), host: z.string(), status: z.string() })),
});
export type DaemonStatus = z.infer<typeof DaemonStatusSchema>;

export const HelloResultSchema = z.object({ protocolVersion: z.number(), version: z.string(), pid: z.number() });
