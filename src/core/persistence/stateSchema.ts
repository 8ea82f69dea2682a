import { z } from 'zod';
import { assertType, type Equal } from '../protocol/typeCheck.js';
import { PlanSchema, PlanV2Schema } from '../contract/plan.js';
import type { PlanRun } from '../state/planRuns.js';
import type {
  ApprovalRecord,
  ChatMessage,
  FeedEntry,
  HostRecord,
  JobRecord,
  QuestionRecord,
  SignalRecord,
  ThreadRecord,
  WorkspaceRecord,
} from '../state/model.js';

/**
 * The state file's schema: what the daemon persists, validated on load like any other
 * untrusted input. Each record schema is checked at compile time against the model's types.
 */

const nullableNumber = z.number().nullable();

const ConnectionStatusSchema = z.enum(['starting', 'ready', 'disconnected', 'restarting', 'stopped']);

const RateLimitWindowSchema = z.object({ usedPercent: z.number(), windowMins: nullableNumber, resetsAtMs: nullableNumber });

const HostSchema = z.object({
  name: z.string(),
  kind: z.enum(['local', 'ssh', 'command']),
  target: z.string(),
  status: ConnectionStatusSchema,
  transport: z.enum(['attached', 'private']).nullable(),
  codexVersion: z.string().nullable(),
  pid: nullableNumber,
  rssBytes: nullableNumber,
  pingMs: nullableNumber,
  restartCount: z.number(),
  lastError: z.object({ message: z.string(), stderrTail: z.array(z.string()), atMs: z.number() }).nullable(),
  connectedAtMs: nullableNumber,
  awaySinceMs: nullableNumber,
  rateLimits: z
    .object({
      name: z.string().nullable(),
      primary: RateLimitWindowSchema.nullable(),
      secondary: RateLimitWindowSchema.nullable(),
      reached: z.string().nullable(),
      atMs: z.number(),
    })
    .nullable()
    .default(null),
});
assertType<Equal<z.infer<typeof HostSchema>, HostRecord>>();

const WorkspaceSchema = z.object({
  name: z.string(),
  host: z.string(),
  path: z.string(),
  status: ConnectionStatusSchema,
  stallAfterMs: z.number(),
  resumeThreadIds: z.array(z.string()),
  activity: z.array(z.object({ minute: z.number(), events: z.number() })).default([]),
});
assertType<Equal<z.infer<typeof WorkspaceSchema>, WorkspaceRecord>>();

const ThreadSchema = z.object({
  id: z.string(),
  workspace: z.string(),
  title: z.string(),
  cwd: z.string().nullable(),
  status: z.string(),
  waitingOnApproval: z.boolean(),
  waitingOnUserInput: z.boolean(),
  currentTurnId: z.string().nullable(),
  lastTurn: z.object({ id: z.string(), status: z.string(), error: z.string().nullable() }).nullable(),
  lastEventAtMs: nullableNumber,
  tokenUsage: z.object({ totalTokens: z.number(), lastTokens: z.number(), contextWindow: nullableNumber }).nullable(),
  plan: z.array(z.object({ step: z.string(), status: z.string() })),
  lastError: z.object({ message: z.string(), codexErrorKind: z.string().nullable(), atMs: z.number(), willRetry: z.boolean() }).nullable(),
  stalledSinceMs: nullableNumber,
  recentItems: z.array(z.object({ id: z.string(), type: z.string(), atMs: z.number(), text: z.string(), status: z.string().nullable() })),
  pendingApprovalKeys: z.array(z.string()),
  openQuestionKeys: z.array(z.string()),
  lastAgentMessage: z.string().nullable(),
  lastFileChange: z.object({ itemId: z.string(), files: z.array(z.string()), diff: z.string() }).nullable(),
  // Added in 0.1 without a version change: a file of before (its `turnDiff` string dropped) reads as "no diff".
  diff: z.object({ turnId: z.string(), text: z.string(), atMs: z.number() }).nullable().default(null),
  // Goal mode, added in 0.1 without a version change: a file of before reads as "no goal".
  goal: z
    .object({
      objective: z.string(),
      status: z.string(),
      tokensUsed: z.number(),
      tokenBudget: z.number().nullable(),
      timeUsedSeconds: z.number(),
      turns: z.number(),
      heldCompletion: z.boolean(),
      createdAt: z.number(),
      updatedAtMs: z.number(),
    })
    .nullable()
    .default(null),
  digest: z.object({
    currentTask: z.string().nullable(),
    lastActivity: z.object({ atMs: z.number(), text: z.string() }).nullable(),
    nextStep: z.string(),
    blockers: z.array(z.object({ kind: z.enum(['approval', 'question', 'error', 'stalled', 'disconnected']), text: z.string() })),
  }),
  updatedAtMs: z.number(),
});
assertType<Equal<z.infer<typeof ThreadSchema>, ThreadRecord>>();

const JobSchema = z.object({
  key: z.string(),
  planId: z.string(),
  actionId: z.string(),
  workspace: z.string(),
  prompt: z.string(),
  threadId: z.string().nullable(),
  turnId: z.string().nullable(),
  status: z.enum(['queued', 'dispatched', 'running', 'waiting_for_user', 'completed', 'failed', 'interrupted']),
  createdAtMs: z.number(),
  dispatchedAtMs: nullableNumber,
  completedAtMs: nullableNumber,
  error: z.string().nullable(),
  finalMessage: z.string().nullable(),
});
assertType<Equal<z.infer<typeof JobSchema>, JobRecord>>();

const SignalSchema = z.object({
  id: z.string(),
  key: z.string(),
  kind: z.enum(['needs_approval', 'failed', 'completed', 'stalled', 'disconnected']),
  workspace: z.string(),
  threadId: z.string().nullable(),
  turnId: z.string().nullable(),
  message: z.string(),
  context: z.object({
    command: z.string().optional(),
    cwd: z.string().optional(),
    reason: z.string().optional(),
    errorMessage: z.string().optional(),
    codexErrorKind: z.string().optional(),
    stderrTail: z.array(z.string()).optional(),
    exit: z.string().optional(),
    stalledForMs: z.number().optional(),
    finalMessage: z.string().optional(),
    approvalKey: z.string().optional(),
  }),
  createdAtMs: z.number(),
  resolvedAtMs: nullableNumber,
  acknowledgedAtMs: nullableNumber,
});
assertType<Equal<z.infer<typeof SignalSchema>, SignalRecord>>();

const ApprovalSchema = z.object({
  key: z.string(),
  workspace: z.string(),
  requestId: z.union([z.string(), z.number()]),
  method: z.string(),
  kind: z.enum(['command', 'fileChange', 'permissions']),
  threadId: z.string(),
  turnId: z.string(),
  itemId: z.string(),
  command: z.string().nullable(),
  cwd: z.string().nullable(),
  reason: z.string().nullable(),
  diff: z.string().nullable(),
  files: z.array(z.string()),
  permissions: z.unknown(),
  availableDecisions: z.array(z.string()),
  receivedAtMs: z.number(),
});
assertType<Equal<z.infer<typeof ApprovalSchema>, ApprovalRecord>>();

const QuestionSchema = z.object({
  key: z.string(),
  workspace: z.string(),
  requestId: z.union([z.string(), z.number()]),
  method: z.string(),
  kind: z.enum(['userInput', 'elicitation']),
  threadId: z.string(),
  turnId: z.string().nullable(),
  message: z.string(),
  questions: z.array(z.object({ id: z.string(), header: z.string(), question: z.string(), options: z.array(z.string()), isSecret: z.boolean() })),
  receivedAtMs: z.number(),
});
assertType<Equal<z.infer<typeof QuestionSchema>, QuestionRecord>>();

const FeedEntrySchema = z.object({
  seq: z.number(),
  atMs: z.number(),
  workspace: z.string(),
  threadId: z.string().nullable(),
  kind: z.enum([
    'turn_started',
    'turn_completed',
    'turn_failed',
    'turn_interrupted',
    'command',
    'file_change',
    'message',
    'approval',
    'question',
    'error',
    'warning',
    'stalled',
    'connection',
    'dispatch',
  ]),
  text: z.string(),
  needsInput: z.boolean(),
  requestKey: z.string().nullable(),
});
assertType<Equal<z.infer<typeof FeedEntrySchema>, FeedEntry>>();

const PlanAttemptSchema = z.object({
  n: z.number(),
  turnId: z.string().nullable(),
  threadId: z.string().nullable(),
  startedAtMs: z.number(),
  endedAtMs: nullableNumber,
  outcome: z.enum(['running', 'completed', 'failed', 'interrupted', 'timeout']),
  error: z.string().nullable(),
  failure: z.enum(['transient', 'quota', 'permanent']).nullable(),
  // States saved before goal actions existed have no such field.
  goalSet: z.boolean().default(false),
});

const PlanRunSchema = z.object({
  planId: z.string(),
  plan: PlanV2Schema,
  startedAtMs: z.number(),
  endedAtMs: nullableNumber,
  deadlineAtMs: nullableNumber,
  actions: z.array(
    z.object({
      id: z.string(),
      workspace: z.string(),
      host: z.string(),
      after: z.array(z.string()),
      status: z.enum(['waiting', 'running', 'completed', 'failed', 'interrupted', 'paused', 'blocked', 'skipped', 'timeout']),
      attempts: z.array(PlanAttemptSchema),
      waitingOn: z.array(z.string()),
      resumesAtMs: nullableNumber,
      pauseReason: z.string().nullable(),
      stopReason: z.object({ status: z.enum(['interrupted', 'timeout']), message: z.string() }).nullable(),
      tokens: nullableNumber,
      startedAtMs: nullableNumber,
      endedAtMs: nullableNumber,
      finalMessage: z.string().nullable(),
      error: z.string().nullable(),
      worktree: z.string().nullable(),
      branch: z.string().nullable(),
      // Absent in states saved before worktree actions ran.
      worktreeCwd: z.string().nullable().default(null),
      baseCommit: z.string().nullable().default(null),
      diffstat: z.string().nullable(),
    }),
  ),
});
assertType<Equal<z.infer<typeof PlanRunSchema>, PlanRun>>();

const ChatMessageSchema = z.object({
  id: z.string(),
  atMs: z.number(),
  role: z.enum(['user', 'supervisor', 'planner', 'result', 'error']),
  text: z.string(),
  proposalId: z.string().optional(),
  plan: PlanSchema.optional(),
});
assertType<Equal<z.infer<typeof ChatMessageSchema>, ChatMessage>>();

/** What is persisted: the records, not the per-process bookkeeping (unknown methods, warnings). */
export const PersistedStateSchema = z.object({
  hosts: z.record(z.string(), HostSchema),
  workspaces: z.record(z.string(), WorkspaceSchema),
  threads: z.record(z.string(), ThreadSchema),
  jobs: z.record(z.string(), JobSchema),
  planRuns: z.record(z.string(), PlanRunSchema).default({}),
  signals: z.record(z.string(), SignalSchema),
  nextSignalNumber: z.number(),
  pendingApprovals: z.record(z.string(), ApprovalSchema),
  openQuestions: z.record(z.string(), QuestionSchema),
  activityFeed: z.array(FeedEntrySchema),
  nextFeedSeq: z.number(),
  chat: z.array(ChatMessageSchema).default([]),
});
export type PersistedState = z.infer<typeof PersistedStateSchema>;

export const STATE_SCHEMA_VERSION = 3;

export const StateFileSchema = z.object({
  schemaVersion: z.literal(STATE_SCHEMA_VERSION),
  savedAtMs: z.number(),
  state: PersistedStateSchema,
});
