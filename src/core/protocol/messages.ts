import { z } from 'zod';
import type { ErrorNotification } from './generated/v2/ErrorNotification.js';
import type { ThreadStatus as GeneratedThreadStatus } from './generated/v2/ThreadStatus.js';
import type { TurnError as GeneratedTurnError } from './generated/v2/TurnError.js';
import type { TurnPlanUpdatedNotification } from './generated/v2/TurnPlanUpdatedNotification.js';
import type { ThreadTokenUsage } from './generated/v2/ThreadTokenUsage.js';
import type { CommandExecutionRequestApprovalParams } from './generated/v2/CommandExecutionRequestApprovalParams.js';
import type { FileChangeRequestApprovalParams } from './generated/v2/FileChangeRequestApprovalParams.js';
import type { PermissionsRequestApprovalParams } from './generated/v2/PermissionsRequestApprovalParams.js';
import type { ToolRequestUserInputParams } from './generated/v2/ToolRequestUserInputParams.js';
import type { ServerRequestResolvedNotification } from './generated/v2/ServerRequestResolvedNotification.js';
import type { Turn as GeneratedTurn } from './generated/v2/Turn.js';
import type { Thread as GeneratedThread } from './generated/v2/Thread.js';
import type { ItemCompletedNotification } from './generated/v2/ItemCompletedNotification.js';
import type { AgentMessageDeltaNotification } from './generated/v2/AgentMessageDeltaNotification.js';
import type { WarningNotification } from './generated/v2/WarningNotification.js';
import type { GuardianWarningNotification } from './generated/v2/GuardianWarningNotification.js';
import type { WindowsWorldWritableWarningNotification } from './generated/v2/WindowsWorldWritableWarningNotification.js';
import type { AccountRateLimitsUpdatedNotification } from './generated/v2/AccountRateLimitsUpdatedNotification.js';
import type { ThreadGoal as GeneratedThreadGoal } from './generated/v2/ThreadGoal.js';
import type { ThreadGoalStatus } from './generated/v2/ThreadGoalStatus.js';
import type { ThreadGoalUpdatedNotification } from './generated/v2/ThreadGoalUpdatedNotification.js';
import type { ThreadGoalClearedNotification } from './generated/v2/ThreadGoalClearedNotification.js';
import type { ReviewStartResponse } from './generated/v2/ReviewStartResponse.js';
import { RequestIdSchema } from './wire.js';
import { assertType, type SchemaFitsGenerated } from './typeCheck.js';

/**
 * Schemas of the notification and server-request params the supervisor reads. Each reads only
 * the fields we use and drops the others (a newer Codex may add fields; copying them through, as
 * loose objects do, made parsing several times slower), and is checked at compile time against
 * the bindings generated from the pinned Codex (`assertType<SchemaFitsGenerated<…>>`).
 */

const nullableString = z.string().nullable().optional();

export const ThreadStatusSchema = z.union([
  z.object({ type: z.literal('active'), activeFlags: z.array(z.string()) }),
  z.object({ type: z.enum(['notLoaded', 'idle', 'systemError']) }),
  // A status type added by a newer Codex must not make the whole notification unreadable.
  z.object({ type: z.string() }),
]);
export type ThreadStatus = z.infer<typeof ThreadStatusSchema>;
assertType<GeneratedThreadStatus extends ThreadStatus ? true : false>();

export const TurnErrorSchema = z.object({
  message: z.string(),
  codexErrorInfo: z.unknown().optional(),
  additionalDetails: nullableString,
});
export type TurnError = z.infer<typeof TurnErrorSchema>;
assertType<SchemaFitsGenerated<TurnError, GeneratedTurnError>>();

export const TurnSchema = z.object({
  id: z.string(),
  status: z.string(),
  error: TurnErrorSchema.nullable().optional(),
  startedAt: z.number().nullable().optional(),
  completedAt: z.number().nullable().optional(),
  durationMs: z.number().nullable().optional(),
});
assertType<SchemaFitsGenerated<z.infer<typeof TurnSchema>, GeneratedTurn>>();

export const ThreadSchema = z.object({
  id: z.string(),
  preview: z.string(),
  name: nullableString,
  cwd: z.string(),
  status: ThreadStatusSchema,
  createdAt: z.number(),
  updatedAt: z.number(),
  turns: z.array(TurnSchema).optional(),
});
export type ThreadInfo = z.infer<typeof ThreadSchema>;
assertType<SchemaFitsGenerated<ThreadInfo, GeneratedThread>>();

/** The item fields the digest reads. */
export const ThreadItemSchema = z.object({
  type: z.string(),
  id: z.string(),
  text: z.string().optional(),
  // A user message's inputs are objects; a reasoning item's raw content is plain strings.
  content: z.array(z.union([z.object({ type: z.string(), text: z.string().optional() }), z.string()])).optional(),
  command: z.string().optional(),
  cwd: z.string().optional(),
  status: z.string().optional(),
  exitCode: z.number().nullable().optional(),
  aggregatedOutput: z.string().nullable().optional(),
  changes: z.array(z.object({ path: z.string(), diff: z.string().optional() })).optional(),
  tool: z.string().optional(),
  server: z.string().optional(),
});
export type ThreadItem = z.infer<typeof ThreadItemSchema>;

export const ItemNotificationSchema = z.object({
  item: ThreadItemSchema,
  threadId: z.string(),
  turnId: z.string(),
});
assertType<
  SchemaFitsGenerated<Omit<z.infer<typeof ItemNotificationSchema>, 'item'>, Omit<ItemCompletedNotification, 'item'>>
>();

export const DeltaSchema = z.object({ threadId: z.string(), turnId: z.string(), itemId: z.string(), delta: z.string() });
assertType<SchemaFitsGenerated<z.infer<typeof DeltaSchema>, AgentMessageDeltaNotification>>();

export const ThreadStartedSchema = z.object({ thread: ThreadSchema });
export const ThreadStatusChangedSchema = z.object({ threadId: z.string(), status: ThreadStatusSchema });
export const ThreadIdOnlySchema = z.object({ threadId: z.string() });
export const ThreadNameUpdatedSchema = z.object({ threadId: z.string(), threadName: z.string().nullable().optional() });
export const TurnNotificationSchema = z.object({ threadId: z.string(), turn: TurnSchema });

export const PlanUpdatedSchema = z.object({
  threadId: z.string(),
  turnId: z.string(),
  explanation: nullableString,
  plan: z.array(z.object({ step: z.string(), status: z.string() })),
});
assertType<SchemaFitsGenerated<z.infer<typeof PlanUpdatedSchema>, TurnPlanUpdatedNotification>>();

export const DiffUpdatedSchema = z.object({ threadId: z.string(), turnId: z.string(), diff: z.string() });

const TokenBreakdownSchema = z.object({ totalTokens: z.number(), inputTokens: z.number(), outputTokens: z.number() });
export const TokenUsageUpdatedSchema = z.object({
  threadId: z.string(),
  turnId: z.string(),
  tokenUsage: z.object({
    total: TokenBreakdownSchema,
    last: TokenBreakdownSchema,
    modelContextWindow: z.number().nullable().optional(),
  }),
});
assertType<SchemaFitsGenerated<z.infer<typeof TokenUsageUpdatedSchema>['tokenUsage'], ThreadTokenUsage>>();

const RateLimitWindowSchema = z.object({
  usedPercent: z.number(),
  windowDurationMins: z.number().nullable().optional(),
  resetsAt: z.number().nullable().optional(),
});
/** Sparse: a null or absent value leaves what was known (Codex's own advice to clients). */
export const RateLimitsUpdatedSchema = z.object({
  rateLimits: z.object({
    limitName: z.string().nullable().optional(),
    primary: RateLimitWindowSchema.nullable().optional(),
    secondary: RateLimitWindowSchema.nullable().optional(),
    rateLimitReachedType: z.string().nullable().optional(),
  }),
});
assertType<SchemaFitsGenerated<z.infer<typeof RateLimitsUpdatedSchema>, AccountRateLimitsUpdatedNotification>>();

export const THREAD_GOAL_STATUSES = ['active', 'paused', 'blocked', 'usageLimited', 'budgetLimited', 'complete'] as const satisfies readonly ThreadGoalStatus[];
assertType<ThreadGoalStatus extends (typeof THREAD_GOAL_STATUSES)[number] ? true : false>();

/** Goal mode: the thread's objective, which Codex keeps working toward in turns it starts itself. */
export const ThreadGoalSchema = z.object({
  threadId: z.string(),
  objective: z.string(),
  // A status added by a newer Codex is kept as a string rather than losing the goal.
  status: z.union([z.enum(THREAD_GOAL_STATUSES), z.string()]),
  // Required in the TypeScript bindings, optional in the JSON Schema: the schema is what Codex allows.
  tokenBudget: z.number().nullable().optional(),
  tokensUsed: z.number(),
  timeUsedSeconds: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type ThreadGoalInfo = z.infer<typeof ThreadGoalSchema>;
assertType<SchemaFitsGenerated<ThreadGoalInfo, GeneratedThreadGoal>>();

/** `thread/goal/updated`: `turnId` is null when set between turns, the turn's id when a goal turn reports. */
export const ThreadGoalUpdatedSchema = z.object({ threadId: z.string(), turnId: nullableString, goal: ThreadGoalSchema });
assertType<SchemaFitsGenerated<Omit<z.infer<typeof ThreadGoalUpdatedSchema>, 'goal'>, Omit<ThreadGoalUpdatedNotification, 'goal'>>>();
export const ThreadGoalClearedSchema = z.object({ threadId: z.string() });
assertType<SchemaFitsGenerated<z.infer<typeof ThreadGoalClearedSchema>, ThreadGoalClearedNotification>>();

export const ErrorNotificationSchema = z.object({
  error: TurnErrorSchema,
  willRetry: z.boolean(),
  threadId: z.string(),
  turnId: z.string(),
});
assertType<SchemaFitsGenerated<z.infer<typeof ErrorNotificationSchema>, ErrorNotification>>();

export const ServerRequestResolvedSchema = z.object({ threadId: z.string(), requestId: RequestIdSchema });
assertType<SchemaFitsGenerated<z.infer<typeof ServerRequestResolvedSchema>, ServerRequestResolvedNotification>>();

/** `warning`, and `guardianWarning` (from Codex's auto-reviewer), which always names its thread. */
export const WarningSchema = z.object({ threadId: z.string().nullable().optional(), message: z.string() });
assertType<SchemaFitsGenerated<z.infer<typeof WarningSchema>, WarningNotification>>();
assertType<SchemaFitsGenerated<z.infer<typeof WarningSchema>, GuardianWarningNotification>>();

export const ConfigWarningSchema = z.object({ summary: z.string(), details: nullableString });

export const WorldWritableWarningSchema = z.object({ samplePaths: z.array(z.string()), extraCount: z.number(), failedScan: z.boolean() });
assertType<SchemaFitsGenerated<z.infer<typeof WorldWritableWarningSchema>, WindowsWorldWritableWarningNotification>>();

// ---- server requests ----

export const CommandApprovalParamsSchema = z.object({
  threadId: z.string(),
  turnId: z.string(),
  itemId: z.string(),
  reason: nullableString,
  command: nullableString,
  cwd: nullableString,
  // Present in the 0.171 binary although the stable bindings omit it.
  availableDecisions: z.array(z.unknown()).nullable().optional(),
});
assertType<
  SchemaFitsGenerated<Omit<z.infer<typeof CommandApprovalParamsSchema>, 'availableDecisions'>, CommandExecutionRequestApprovalParams>
>();

export const FileChangeApprovalParamsSchema = z.object({
  threadId: z.string(),
  turnId: z.string(),
  itemId: z.string(),
  reason: nullableString,
  grantRoot: nullableString,
});
assertType<SchemaFitsGenerated<z.infer<typeof FileChangeApprovalParamsSchema>, FileChangeRequestApprovalParams>>();

export const PermissionsApprovalParamsSchema = z.object({
  threadId: z.string(),
  turnId: z.string(),
  itemId: z.string(),
  cwd: z.string(),
  // Required in the TypeScript bindings, optional in the JSON Schema: the schema is what Codex allows.
  reason: nullableString,
  permissions: z.unknown(),
});
assertType<SchemaFitsGenerated<z.infer<typeof PermissionsApprovalParamsSchema>, PermissionsRequestApprovalParams>>();

export const UserInputParamsSchema = z.object({
  threadId: z.string(),
  turnId: z.string(),
  itemId: z.string(),
  questions: z.array(
    z.object({
      id: z.string(),
      header: z.string(),
      question: z.string(),
      isSecret: z.boolean().optional(),
      options: z.array(z.object({ label: z.string() })).nullable().optional(),
    }),
  ),
});
assertType<SchemaFitsGenerated<Omit<z.infer<typeof UserInputParamsSchema>, 'questions'>, ToolRequestUserInputParams>>();

export const ElicitationParamsSchema = z.object({
  threadId: z.string(),
  // Absent or null when Codex could not tie the MCP server's request to a turn.
  turnId: nullableString,
  serverName: z.string(),
  mode: z.string(),
  message: z.string(),
  url: z.string().optional(),
});

export const ThreadStartResponseSchema = z.object({ thread: ThreadSchema });
export const TurnStartResponseSchema = z.object({ turn: TurnSchema });
export const ThreadListResponseSchema = z.object({ data: z.array(ThreadSchema), nextCursor: z.string().nullable().optional() });
export const ThreadLoadedListResponseSchema = z.object({ data: z.array(z.string()), nextCursor: z.string().nullable().optional() });
/** A page of turns; their items (a summary: the final agent message) give the turn's answer. */
export const ThreadTurnsListResponseSchema = z.object({
  data: z.array(TurnSchema.extend({ items: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })).optional() })),
  nextCursor: z.string().nullable().optional(),
});
/**
 * A page of turns with their full items, for a transcript. Items stay unparsed here: each is
 * read on its own (TranscriptItemSchema), so one item of a newer shape does not lose the page.
 */
export const TranscriptPageSchema = z.object({
  data: z.array(TurnSchema.extend({ items: z.array(z.unknown()).optional() })),
  nextCursor: z.string().nullable().optional(),
});
/** An item of a transcript: the digest's fields and a reasoning item's summary. */
export const TranscriptItemSchema = ThreadItemSchema.extend({ summary: z.array(z.string()).optional() });
export const TurnSteerResponseSchema = z.object({ turnId: z.string() });
export const ThreadGoalSetResponseSchema = z.object({ goal: ThreadGoalSchema });
export const ThreadGoalGetResponseSchema = z.object({ goal: ThreadGoalSchema.nullable() });
export const ThreadGoalClearResponseSchema = z.object({ cleared: z.boolean() });
/** `review/start`: the review runs as a turn of the thread given (0.171 knows only `inline` delivery). */
export const ReviewStartResponseSchema = z.object({ turn: TurnSchema, reviewThreadId: z.string() });
assertType<SchemaFitsGenerated<Omit<z.infer<typeof ReviewStartResponseSchema>, 'turn'>, Omit<ReviewStartResponse, 'turn'>>>();
export const EmptyResponseSchema = z.object({});

/** thread/read with turns: the user messages' `clientId` finds a turn by our idempotency key. */
export const ThreadReadWithItemsResponseSchema = z.object({
  thread: ThreadSchema.extend({
    turns: z.array(TurnSchema.extend({ items: z.array(z.looseObject({ type: z.string(), clientId: z.string().nullable().optional() })) })),
  }),
});
