import { z } from 'zod';
import type { NotificationEvent, ServerRequestEvent } from '../connection/appServerConnection.js';
import type { ServerRequest } from '../protocol/generated/ServerRequest.js';
import {
  CommandApprovalParamsSchema,
  ConfigWarningSchema,
  DiffUpdatedSchema,
  ElicitationParamsSchema,
  ErrorNotificationSchema,
  FileChangeApprovalParamsSchema,
  ItemNotificationSchema,
  PermissionsApprovalParamsSchema,
  PlanUpdatedSchema,
  ServerRequestResolvedSchema,
  ThreadGoalClearedSchema,
  ThreadGoalUpdatedSchema,
  ThreadIdOnlySchema,
  ThreadNameUpdatedSchema,
  ThreadStartedSchema,
  ThreadStatusChangedSchema,
  TokenUsageUpdatedSchema,
  RateLimitsUpdatedSchema,
  TurnNotificationSchema,
  UserInputParamsSchema,
  WarningSchema,
  WorldWritableWarningSchema,
  type ThreadInfo,
  type ThreadStatus,
} from '../protocol/messages.js';
import { schemaCheck } from '../protocol/schemaCheck.js';
import type { SeenThread, SupervisorEvent } from './events.js';
import type { ApprovalRecord, QuestionRecord, RateLimitWindow } from './model.js';
import { HANDLED_METHODS, IGNORED_METHODS, PROGRESS_METHODS } from './protocolMethods.js';
import { UNTITLED } from './threadRecords.js';
import { boundDiff } from './turnDiff.js';

const PROGRESS = new Set<string>(PROGRESS_METHODS);
const IGNORED = new Set<string>(Object.keys(IGNORED_METHODS));
type HandledMethod = (typeof HANDLED_METHODS)[number];

/**
 * Every method we know, as written here, by length. A method parsed from a line is a fresh
 * string: each `case` it is compared with costs a string comparison, and a Map lookup costs a
 * hash of the whole name. Among the few known names of its length, a comparison mostly stops at
 * the first character; the canonical string found is then compared by identity.
 */
const KNOWN_BY_LENGTH: string[][] = [];
for (const m of [...PROGRESS, ...IGNORED, ...HANDLED_METHODS]) (KNOWN_BY_LENGTH[m.length] ??= []).push(m);

function canonicalMethod(method: string): string {
  const known = KNOWN_BY_LENGTH[method.length];
  if (known !== undefined) {
    for (let i = 0; i < known.length; i++) if (known[i] === method) return known[i]!;
  }
  return method;
}

const ProgressSchema = z.looseObject({ threadId: z.string(), turnId: z.string(), itemId: z.string() });

export function threadTitle(thread: Pick<ThreadInfo, 'name' | 'preview'>): string {
  return thread.name || thread.preview || UNTITLED;
}

export function seenThread(thread: ThreadInfo): SeenThread {
  const active = thread.turns?.findLast((t) => t.status === 'inProgress');
  return { id: thread.id, title: threadTitle(thread), cwd: thread.cwd, status: thread.status, activeTurnId: active?.id ?? null };
}

type ProtocolError = Extract<SupervisorEvent, { type: 'protocol/error' }>;

/**
 * Params that did not fit their schema, as a protocol error event. A class, so that telling it
 * from params is an `instanceof` of our own: params come in many shapes, and reading a field of
 * each (or zod's `instanceof ZodError`, which reads `_zod` on them) was a slow lookup per event.
 */
class BadParams implements ProtocolError {
  readonly type = 'protocol/error';
  readonly reason: string;
  readonly line: string;

  constructor(
    readonly host: string,
    readonly atMs: number,
    method: string,
    error: z.ZodError,
    params: unknown,
  ) {
    this.reason = `unexpected params for ${method}: ${z.prettifyError(error).replace(/\n/g, '; ')}`;
    this.line = JSON.stringify(params)?.slice(0, 500) ?? '';
  }
}

/** Zod's error for params that do not fit (see BadParams for why it is wrapped). */
class Mismatch {
  constructor(readonly error: z.ZodError) {}
}

/**
 * The params as the schema reads them, or why they do not fit. Params that fit are checked
 * without zod's copy (see schemaCheck), so a value that passes is the input itself: callers read
 * only the fields the schema declares.
 */
function readParams<S extends z.ZodType>(schema: S, params: unknown): z.infer<S> | Mismatch {
  if (schemaCheck(schema)?.(params)) return params as z.infer<S>;
  const result = schema.safeParse(params);
  return result.success ? result.data : new Mismatch(result.error);
}

/** The params as the schema reads them, or the protocol error that says why they do not fit. */
function parseParams<S extends z.ZodType>(schema: S, host: string, atMs: number, method: string, params: unknown): z.infer<S> | BadParams {
  const p = readParams(schema, params);
  return p instanceof Mismatch ? new BadParams(host, atMs, method, p.error, params) : p;
}

/** Codex gives the reset as epoch seconds. */
function rateLimitWindow(w: { usedPercent: number; windowDurationMins?: number | null; resetsAt?: number | null } | null | undefined): RateLimitWindow | null {
  if (!w) return null;
  return { usedPercent: w.usedPercent, windowMins: w.windowDurationMins ?? null, resetsAtMs: w.resetsAt == null ? null : w.resetsAt * 1000 };
}

// Module-level, like parseParams: closures made per notification cost an allocation each.
function isEvent(v: unknown): v is BadParams {
  return v instanceof BadParams;
}

/**
 * One app-server notification of `host` as a supervisor event (`null`: nothing worth reducing).
 * `workspace` is where the host's loop routed it (by thread, or by cwd for a new thread); a
 * notification about no thread carries the host's name there.
 */
export function normalizeNotification(host: string, workspace: string, n: NotificationEvent): SupervisorEvent | null {
  const atMs = n.emittedAtMs ?? n.receivedAtMs;
  const { params } = n;
  const method = canonicalMethod(n.method);

  if (PROGRESS.has(method)) {
    // Deltas are most of the traffic: check their three ids by hand, zod only words errors.
    const q = params as { threadId?: unknown; turnId?: unknown; itemId?: unknown } | null | undefined;
    if (q && typeof q.threadId === 'string' && typeof q.turnId === 'string' && typeof q.itemId === 'string') {
      return { type: 'item/progress', atMs, workspace, threadId: q.threadId, turnId: q.turnId, itemId: q.itemId };
    }
    const p = parseParams(ProgressSchema, host, atMs, method, params);
    return isEvent(p) ? p : { type: 'item/progress', atMs, workspace, threadId: p.threadId, turnId: p.turnId, itemId: p.itemId };
  }
  // Most frequent first: each case is a comparison.
  switch (method as HandledMethod) {
    case 'thread/status/changed': {
      // Sent several times per turn: the common shapes are checked by hand, zod words errors.
      const q = params as { threadId?: unknown; status?: { type?: unknown; activeFlags?: unknown } } | null | undefined;
      const type = q?.status?.type;
      if (q && typeof q.threadId === 'string' && typeof type === 'string') {
        const flags = q.status!.activeFlags;
        if (type !== 'active') return { type: 'thread/statusChanged', atMs, workspace, threadId: q.threadId, status: q.status as ThreadStatus };
        if (Array.isArray(flags) && flags.every((f) => typeof f === 'string')) {
          return { type: 'thread/statusChanged', atMs, workspace, threadId: q.threadId, status: q.status as ThreadStatus };
        }
      }
      const p = parseParams(ThreadStatusChangedSchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: 'thread/statusChanged', atMs, workspace, threadId: p.threadId, status: p.status };
    }
    case 'item/started':
    case 'item/completed': {
      const p = parseParams(ItemNotificationSchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: method as 'item/started' | 'item/completed', atMs, workspace, threadId: p.threadId, turnId: p.turnId, item: p.item };
    }
    case 'thread/tokenUsage/updated': {
      const p = parseParams(TokenUsageUpdatedSchema, host, atMs, method, params);
      return isEvent(p)
        ? p
        : {
            type: 'tokenUsage/updated',
            atMs,
            workspace,
            threadId: p.threadId,
            totalTokens: p.tokenUsage.total.totalTokens,
            lastTokens: p.tokenUsage.last.totalTokens,
            contextWindow: p.tokenUsage.modelContextWindow ?? null,
          };
    }
    case 'account/rateLimits/updated': {
      const p = parseParams(RateLimitsUpdatedSchema, host, atMs, method, params);
      if (isEvent(p)) return p;
      const { limitName, primary, secondary, rateLimitReachedType } = p.rateLimits;
      return { type: 'host/rateLimits', atMs, host, name: limitName ?? null, primary: rateLimitWindow(primary), secondary: rateLimitWindow(secondary), reached: rateLimitReachedType ?? null };
    }
    case 'warning':
    case 'guardianWarning': {
      const p = parseParams(WarningSchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: 'server/warning', atMs, workspace, threadId: p.threadId ?? null, message: p.message };
    }
    case 'configWarning': {
      const p = parseParams(ConfigWarningSchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: 'connection/warning', atMs, host, message: p.summary };
    }
    case 'windows/worldWritableWarning': {
      const p = parseParams(WorldWritableWarningSchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: 'connection/warning', atMs, host, message: worldWritableMessage(p) };
    }
    case 'turn/started': {
      const p = parseParams(TurnNotificationSchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: 'turn/started', atMs, workspace, threadId: p.threadId, turnId: p.turn.id };
    }
    case 'turn/completed': {
      const p = parseParams(TurnNotificationSchema, host, atMs, method, params);
      return isEvent(p)
        ? p
        : { type: 'turn/completed', atMs, workspace, threadId: p.threadId, turnId: p.turn.id, status: p.turn.status, error: p.turn.error ?? null };
    }
    case 'thread/started': {
      const p = parseParams(ThreadStartedSchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: 'thread/seen', atMs, workspace, thread: seenThread(p.thread) };
    }
    case 'serverRequest/resolved': {
      const p = parseParams(ServerRequestResolvedSchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: 'serverRequest/resolved', atMs, workspace, threadId: p.threadId, requestId: p.requestId };
    }
    case 'error': {
      const p = parseParams(ErrorNotificationSchema, host, atMs, method, params);
      return isEvent(p)
        ? p
        : { type: 'turn/error', atMs, workspace, threadId: p.threadId, turnId: p.turnId, error: p.error, willRetry: p.willRetry };
    }
    case 'turn/plan/updated': {
      const p = parseParams(PlanUpdatedSchema, host, atMs, method, params);
      return isEvent(p)
        ? p
        : { type: 'plan/updated', atMs, workspace, threadId: p.threadId, turnId: p.turnId, plan: p.plan.map(({ step, status }) => ({ step, status })) };
    }
    case 'turn/diff/updated': {
      const p = parseParams(DiffUpdatedSchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: 'diff/updated', atMs, workspace, threadId: p.threadId, turnId: p.turnId, diff: boundDiff(p.diff) };
    }
    case 'thread/closed': {
      const p = parseParams(ThreadIdOnlySchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: 'thread/closed', atMs, workspace, threadId: p.threadId };
    }
    case 'thread/archived': {
      const p = parseParams(ThreadIdOnlySchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: 'thread/archived', atMs, workspace, threadId: p.threadId };
    }
    case 'thread/name/updated': {
      const p = parseParams(ThreadNameUpdatedSchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: 'thread/renamed', atMs, workspace, threadId: p.threadId, name: p.threadName ?? null };
    }
    case 'thread/goal/updated': {
      const p = parseParams(ThreadGoalUpdatedSchema, host, atMs, method, params);
      if (isEvent(p)) return p;
      const { objective, status, tokensUsed, tokenBudget, timeUsedSeconds, createdAt } = p.goal;
      return { type: 'thread/goalUpdated', atMs, workspace, threadId: p.threadId, turnId: p.turnId ?? null, goal: { objective, status, tokensUsed, tokenBudget: tokenBudget ?? null, timeUsedSeconds, createdAt } };
    }
    case 'thread/goal/cleared': {
      const p = parseParams(ThreadGoalClearedSchema, host, atMs, method, params);
      return isEvent(p) ? p : { type: 'thread/goalCleared', atMs, workspace, threadId: p.threadId };
    }
    default:
      if (IGNORED.has(method)) return null;
      return { type: 'notification/unknown', atMs, workspace, method };
  }
}

/** Codex's warning about directories its Windows sandbox cannot protect, as one line. */
function worldWritableMessage(p: { samplePaths: string[]; extraCount: number; failedScan: boolean }): string {
  if (p.failedScan) return 'the Windows sandbox could not scan for world-writable directories; writes there may be unprotected';
  const more = p.extraCount > 0 ? ` and ${p.extraCount} more` : '';
  return `the Windows sandbox cannot protect world-writable directories: ${p.samplePaths.join(', ')}${more}`;
}

/** Command approvals offer what the server lists; `decline` is accepted though 0.171 omits it. */
function decisionNames(raw: unknown[] | null | undefined, fallback: string[]): string[] {
  if (!raw) return fallback;
  const names = raw.map((d) => (typeof d === 'string' ? d : typeof d === 'object' && d !== null ? Object.keys(d)[0] ?? '' : ''));
  const known = names.filter((n) => n !== '');
  if (!known.includes('decline')) known.push('decline');
  return known;
}

const ALL_DECISIONS = ['accept', 'acceptForSession', 'decline', 'cancel'];

/** One server request as a supervisor event. Requests we cannot handle become `unsupported`. */
export function normalizeServerRequest(workspace: string, r: ServerRequestEvent): SupervisorEvent {
  const atMs = r.receivedAtMs;
  const key = `${workspace}#${String(r.id)}`;
  const unsupported = (threadId: string | null): SupervisorEvent => ({
    type: 'serverRequest/unsupported',
    atMs,
    workspace,
    requestId: r.id,
    method: r.method,
    threadId,
  });
  const threadOf = (params: unknown): string | null => {
    const p = ThreadIdOnlySchema.safeParse(params);
    return p.success ? p.data.threadId : null;
  };
  /** A question: the ids every kind carries, plus its text and the questions to answer. */
  const question = (ids: { threadId: string; turnId: string | null }, own: Pick<QuestionRecord, 'kind' | 'message' | 'questions'>): SupervisorEvent => ({
    type: 'question/requested',
    atMs,
    question: { key, workspace, requestId: r.id, method: r.method, receivedAtMs: atMs, threadId: ids.threadId, turnId: ids.turnId, ...own },
  });
  /** An approval: the ids and reason every kind carries, plus what is particular to its kind. */
  const approval = (
    ids: { threadId: string; turnId: string; itemId: string; reason?: string | null },
    own: Pick<ApprovalRecord, 'kind' | 'cwd' | 'availableDecisions'> & Partial<Pick<ApprovalRecord, 'command' | 'permissions'>>,
  ): SupervisorEvent => ({
    type: 'approval/requested',
    atMs,
    // Written out field by field: spreads made this the costliest event to normalize.
    approval: {
      key,
      workspace,
      requestId: r.id,
      method: r.method,
      receivedAtMs: atMs,
      kind: own.kind,
      threadId: ids.threadId,
      turnId: ids.turnId,
      itemId: ids.itemId,
      reason: ids.reason ?? null,
      command: own.command ?? null,
      cwd: own.cwd,
      permissions: own.permissions ?? null,
      // A file change's diff arrived in the preceding item/started; the reducer fills it in.
      diff: null,
      files: [],
      availableDecisions: own.availableDecisions,
    },
  });

  switch (r.method as ServerRequest['method']) {
    case 'item/commandExecution/requestApproval': {
      const p = readParams(CommandApprovalParamsSchema, r.params);
      if (p instanceof Mismatch) return unsupported(threadOf(r.params));
      return approval(p, {
        kind: 'command',
        command: p.command ?? null,
        cwd: p.cwd ?? null,
        availableDecisions: decisionNames(p.availableDecisions, ALL_DECISIONS),
      });
    }
    case 'item/fileChange/requestApproval': {
      const p = readParams(FileChangeApprovalParamsSchema, r.params);
      if (p instanceof Mismatch) return unsupported(threadOf(r.params));
      return approval(p, { kind: 'fileChange', cwd: p.grantRoot ?? null, availableDecisions: ALL_DECISIONS });
    }
    case 'item/permissions/requestApproval': {
      const p = PermissionsApprovalParamsSchema.safeParse(r.params);
      if (!p.success) return unsupported(threadOf(r.params));
      return approval(p.data, {
        kind: 'permissions',
        cwd: p.data.cwd,
        permissions: p.data.permissions,
        availableDecisions: ['accept', 'acceptForSession', 'decline'],
      });
    }
    case 'item/tool/requestUserInput': {
      const p = UserInputParamsSchema.safeParse(r.params);
      if (!p.success) return unsupported(threadOf(r.params));
      return question(p.data, {
        kind: 'userInput',
        message: p.data.questions.map((q) => q.question).join(' / '),
        questions: p.data.questions.map((q) => ({
          id: q.id,
          header: q.header,
          question: q.question,
          options: (q.options ?? []).map((o) => o.label),
          isSecret: q.isSecret ?? false,
        })),
      });
    }
    case 'mcpServer/elicitation/request': {
      const p = ElicitationParamsSchema.safeParse(r.params);
      if (!p.success) return unsupported(threadOf(r.params));
      return question({ threadId: p.data.threadId, turnId: p.data.turnId ?? null }, {
        kind: 'elicitation',
        message: `${p.data.serverName}: ${p.data.message}${p.data.url ? ` (${p.data.url})` : ''}`,
        questions: [{ id: 'response', header: p.data.serverName, question: p.data.message, options: [], isSecret: false }],
      });
    }
    default:
      return unsupported(threadOf(r.params));
  }
}
