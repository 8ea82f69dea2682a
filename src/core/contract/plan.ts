import { z } from 'zod';
import type { AskForApproval } from '../protocol/generated/v2/AskForApproval.js';
import type { SandboxMode } from '../protocol/generated/v2/SandboxMode.js';
import { assertType } from '../protocol/typeCheck.js';

/**
 * Plan files, v1 and v2: the contract between a planner (a person, a file, the supervisor chat) and the
 * executor. This schema is the single source of truth; `cm-supervisor schema` prints it.
 */
export const ACTION_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const THREAD_ID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const PlanActionSchema = z
  .strictObject({
    id: z.string().regex(ACTION_ID_PATTERN, 'use 1 to 64 letters, digits, ".", "_" or "-"').describe('Unique id of the action within the plan.'),
    workspace: z.string().min(1, 'name a configured workspace or a directory').describe('A configured workspace name, or a directory path (relative to the plan file).'),
    prompt: z.string().trim().min(1, 'the prompt is empty').describe('What the agent should do.'),
    thread: z
      .union([z.literal('new'), z.literal('latest'), z.string().regex(THREAD_ID_PATTERN, 'use "new", "latest" or a thread id (UUID)')])
      .default('latest')
      .describe('"new", "latest" (the most recent thread of the workspace, else a new one) or a thread id.'),
    model: z.string().min(1).optional().describe('Model override for this turn.'),
    effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).optional().describe('Reasoning effort.'),
    approvalPolicy: z.enum(['untrusted', 'on-request', 'never']).optional().describe('When the agent must ask before running commands.'),
    sandbox: z.enum(['read-only', 'workspace-write', 'danger-full-access']).optional().describe('Sandbox mode for the thread.'),
  })
  .describe('One piece of work for one workspace.');

const planId = z.string().regex(ACTION_ID_PATTERN, 'use 1 to 64 letters, digits, ".", "_" or "-"');

export const PlanV1Schema = z
  .strictObject({
    version: z.literal(1).describe('Plan format version 1: a flat list dispatched in one cycle.'),
    id: planId.optional().describe('Optional plan id; part of the idempotency key.'),
    actions: z.array(PlanActionSchema).min(1, 'a plan needs at least one action').describe('The actions, dispatched in one cycle.'),
  })
  .describe('A cm-supervisor action plan (version 1).');

const positiveInt = z.number().int('use a whole number').min(1, 'use 1 or more');

export const PlanV2ActionSchema = PlanActionSchema.extend({
  after: z.array(z.string().regex(ACTION_ID_PATTERN, 'name an action id of this plan')).optional().describe('Ids of actions that must complete before this one starts.'),
  retry: z
    .strictObject({
      attempts: z.number().int('use a whole number').min(0, 'use 0 or more').max(10, 'at most 10').describe('Attempts after the first, for transient failures only.'),
      backoffSec: z.number().min(0, 'use 0 or more').max(3600, 'at most 3600').default(30).describe('Seconds before the first retry; doubled for each next one.'),
    })
    .optional()
    .describe('Retries after transient failures (HTTP 429/5xx, stream disconnects, a lost app-server); never after a turn the model ended with an error of its own.'),
  worktree: z
    .union([z.literal(true), z.literal(false), z.string().regex(/^[A-Za-z0-9._/-]{1,120}$/, 'use a git branch name (letters, digits, ".", "_", "-", "/")')])
    .optional()
    .describe('Run in a new git worktree of the workspace (true: branch cms/<plan>/<action>; a string: that branch).'),
  kind: z.enum(['turn', 'review']).default('turn').describe('"turn" (the prompt as a turn) or "review" (review/start on the workspace or an earlier action\'s worktree).'),
  target: z.strictObject({ after: z.string().regex(ACTION_ID_PATTERN) }).optional().describe('For a review: review the worktree of this earlier action.'),
  budget: z.strictObject({ tokens: positiveInt.describe('Interrupt the turn once the thread used this many tokens.') }).optional(),
  goal: z.string().trim().min(1, 'the goal is empty').optional().describe('Goal mode: the thread works until this goal is complete (the server continues on its own).'),
}).describe('One piece of work for one workspace, with its dependencies and policies.');

export const PlanV2Schema = z
  .strictObject({
    version: z.literal(2).describe('Plan format version 2: dependencies, concurrency, retries, worktrees, reviews.'),
    id: planId.optional().describe('Optional plan id; part of the idempotency key.'),
    concurrency: positiveInt.optional().describe('At most this many actions run at once (default: no limit).'),
    hostConcurrency: z.record(z.string().min(1), positiveInt).optional().describe('Per host: at most this many of its actions at once.'),
    actions: z.array(PlanV2ActionSchema).min(1, 'a plan needs at least one action').describe('The actions; each starts once those it comes `after` completed.'),
  })
  .describe('A cm-supervisor action plan (version 2).');

export const PlanSchema = z.discriminatedUnion('version', [PlanV1Schema, PlanV2Schema]).describe('A cm-supervisor action plan.');

export type Plan = z.infer<typeof PlanSchema>;
export type PlanV1 = z.infer<typeof PlanV1Schema>;
export type PlanV2 = z.infer<typeof PlanV2Schema>;
export type PlanAction = z.infer<typeof PlanActionSchema>;
export type PlanV2Action = z.infer<typeof PlanV2ActionSchema>;

/** A plan of either version as the executor reads it: a v1 plan is a v2 plan without dependencies or policies. */
export function asPlanV2(plan: Plan): PlanV2 {
  if (plan.version === 2) return plan;
  return { ...plan, version: 2, actions: plan.actions.map((a) => ({ ...a, kind: 'turn' as const })) };
}

/** The largest plan read or validated: a plan is a handful of actions, not a data dump. */
export const MAX_PLAN_BYTES = 1024 * 1024;

/** One problem of a plan: where (a JSON path, `''` for the whole file) and what to do about it. */
export interface PlanProblem {
  path: string;
  message: string;
}

assertType<NonNullable<PlanAction['approvalPolicy']> extends AskForApproval ? true : false>();
assertType<NonNullable<PlanAction['sandbox']> extends SandboxMode ? true : false>();
