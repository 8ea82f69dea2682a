import { z } from 'zod';
import { APPROVAL_DECISIONS } from '../state/events.js';

/**
 * The daemon socket protocol: JSONL, one JSON-RPC-like message a line. It exposes exactly the
 * SupervisorApi (`supervisor.*`) plus `hello` (version handshake, required first) and
 * `daemon.status` / `daemon.stop`. Every request is validated here before it reaches the
 * supervisor: any local process of the same user can connect.
 */
// 4: `allowUnsafe` in dispatch options and chatDecide (a daemon of 3 would dispatch any plan).
export const DAEMON_PROTOCOL_VERSION = 4;
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

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
      })
      .optional(),
  }),
  'supervisor.ackSignal': z.strictObject({ signalId: z.string() }),
  'supervisor.answerApproval': z.strictObject({ key: z.string(), decision: z.enum(APPROVAL_DECISIONS as [string, ...string[]]) }),
  'supervisor.answerQuestion': z.strictObject({ key: z.string(), answers: z.record(z.string(), z.array(z.string())) }),
  'supervisor.interruptTurn': z.strictObject({ threadId: z.string(), turnId: z.string() }),
  'supervisor.subscribe': z.strictObject({}),
  'supervisor.chatSend': z.strictObject({
    line: z.string().max(100_000),
    options: z.strictObject({ approvalKey: z.string().optional(), baseDir: z.string().optional() }).optional(),
  }),
  'supervisor.chatDecide': z.strictObject({
    proposalId: z.string(),
    decision: z.enum(['confirm', 'reject']),
    editedPlan: z.unknown().optional(),
    options: z.strictObject({ allowUnsafe: z.boolean().optional() }).optional(),
  }),
  'daemon.status': z.strictObject({}),
  'daemon.stop': z.strictObject({ graceMs: z.number().int().nonnegative().max(3_600_000).optional() }),
  'daemon.reloadConfig': z.strictObject({}),
} as const;

export type DaemonMethod = keyof typeof METHOD_PARAMS;

export const ERROR_CODES = {
  parse: -32700,
  invalidRequest: -32600,
  unknownMethod: -32601,
  invalidParams: -32602,
  supervisor: -32000,
  notHello: -32002,
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

/** A reduced event, for the client's copy of the state (the reducer checks what it reads). */
export const EventNotificationSchema = z.object({
  method: z.literal('supervisor.event'),
  params: z.object({ seq: z.number().int(), event: z.looseObject({ type: z.string(), atMs: z.number() }) }),
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
