import { z } from 'zod';
import type { RequestId as GeneratedRequestId } from './generated/RequestId.js';
import type { InitializeResponse } from './generated/InitializeResponse.js';
import { assertType, type Equal, type SchemaFitsGenerated } from './typeCheck.js';

/**
 * Shapes of the JSON-RPC-like messages `codex app-server` writes on stdout (§1 of the
 * protocol notes): no `jsonrpc` member, ids of server requests come from their own counter.
 * Schemas are loose (unknown fields pass through) so a newer Codex does not break us.
 */
export const RequestIdSchema = z.union([z.string(), z.number()]);
export type RequestId = z.infer<typeof RequestIdSchema>;
assertType<Equal<RequestId, GeneratedRequestId>>();

export const RpcErrorSchema = z.looseObject({
  code: z.number(),
  message: z.string(),
  data: z.unknown().optional(),
});
export type RpcError = z.infer<typeof RpcErrorSchema>;

export const ResponseMessageSchema = z.union([
  z.looseObject({ id: RequestIdSchema, result: z.unknown() }).refine((m) => 'result' in m),
  z.looseObject({ id: RequestIdSchema, error: RpcErrorSchema }),
]);

export const NotificationMessageSchema = z.looseObject({
  method: z.string(),
  params: z.unknown().optional(),
  emittedAtMs: z.number().optional(),
});

export const ServerRequestMessageSchema = z.looseObject({
  id: RequestIdSchema,
  method: z.string(),
  params: z.unknown().optional(),
});

export type IncomingMessage =
  | { type: 'response'; id: RequestId; result: unknown }
  | { type: 'errorResponse'; id: RequestId; error: RpcError }
  | { type: 'notification'; method: string; params: unknown; emittedAtMs: number | undefined }
  | { type: 'serverRequest'; id: RequestId; method: string; params: unknown };

/** A line that is not a message we can read: why, in words for the log. */
export interface InvalidLine {
  type: 'invalid';
  reason: string;
}

/** The message itself (no wrapper: this runs for every stdout line), or why the line is invalid. */
export type ClassifyResult = IncomingMessage | InvalidLine;

/** Classifies one stdout line: `method`+`id` = server request, `method` = notification, `id` = response. */
export function classifyLine(line: string): ClassifyResult {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    return { type: 'invalid', reason: `not JSON (${(error as Error).message})` };
  }
  return classifyMessage(raw);
}

/** What `z.number()` accepts: a finite number. */
function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || isFiniteNumber(value);
}

function classifyMessage(raw: unknown): ClassifyResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { type: 'invalid', reason: 'not a JSON object' };
  }
  const hasMethod = 'method' in raw;
  const hasId = 'id' in raw;
  // Fast path for the envelopes of every streamed event (one per stdout line): the same checks
  // as ServerRequestMessageSchema / NotificationMessageSchema without zod's copy of the object.
  // Anything it does not accept goes through the schemas below, which also word the error.
  if (hasMethod) {
    const m = raw as { id?: unknown; method?: unknown; params?: unknown; emittedAtMs?: unknown };
    const method = m.method;
    if (typeof method === 'string') {
      if (hasId) {
        const id = m.id;
        if (isRequestId(id)) return { type: 'serverRequest', id, method, params: m.params };
      } else {
        const emittedAtMs = m.emittedAtMs;
        if (emittedAtMs === undefined || isFiniteNumber(emittedAtMs)) {
          return { type: 'notification', method, params: m.params, emittedAtMs };
        }
      }
    }
  }
  if (hasMethod && hasId) {
    const parsed = ServerRequestMessageSchema.safeParse(raw);
    if (!parsed.success) return { type: 'invalid', reason: `bad server request: ${z.prettifyError(parsed.error)}` };
    const { id, method, params } = parsed.data;
    return { type: 'serverRequest', id, method, params };
  }
  if (hasMethod) {
    const parsed = NotificationMessageSchema.safeParse(raw);
    if (!parsed.success) return { type: 'invalid', reason: `bad notification: ${z.prettifyError(parsed.error)}` };
    const { method, params, emittedAtMs } = parsed.data;
    return { type: 'notification', method, params, emittedAtMs };
  }
  if (hasId) {
    const parsed = ResponseMessageSchema.safeParse(raw);
    if (!parsed.success) return { type: 'invalid', reason: `bad response: ${z.prettifyError(parsed.error)}` };
    const data = parsed.data;
    if ('error' in data && data.error !== undefined) {
      return { type: 'errorResponse', id: data.id, error: data.error as RpcError };
    }
    return { type: 'response', id: data.id, result: (data as { result: unknown }).result };
  }
  return { type: 'invalid', reason: 'neither a request, a notification nor a response (no method, no id)' };
}

export const InitializeResponseSchema = z.looseObject({
  userAgent: z.string(),
  codexHome: z.string(),
  platformFamily: z.string(),
  platformOs: z.string(),
});
assertType<SchemaFitsGenerated<z.infer<typeof InitializeResponseSchema>, InitializeResponse>>();

/** Codex's version from a userAgent like `cm_supervisor/0.171.0 (Debian 12; x86_64) …`. */
export function codexVersionFromUserAgent(userAgent: string): string | null {
  const match = /^[^/\s]+\/(\d+\.\d+\.\d+[^\s()]*)/.exec(userAgent);
  return match?.[1] ?? null;
}
