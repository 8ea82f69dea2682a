import { z } from 'zod';
import type { AskForApproval } from '../protocol/generated/v2/AskForApproval.js';
import type { SandboxMode } from '../protocol/generated/v2/SandboxMode.js';
import { assertType } from '../protocol/typeCheck.js';

/**
 * Plan file v1: the contract between a planner (a person, a file, the supervisor chat) and the
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

export const PlanSchema = z
  .strictObject({
    version: z.literal(1).describe('Plan format version; always 1.'),
    id: z.string().regex(ACTION_ID_PATTERN, 'use 1 to 64 letters, digits, ".", "_" or "-"').optional().describe('Optional plan id; part of the idempotency key.'),
    actions: z.array(PlanActionSchema).min(1, 'a plan needs at least one action').describe('The actions, dispatched in one cycle.'),
  })
  .describe('A cm-supervisor action plan (version 1).');

export type Plan = z.infer<typeof PlanSchema>;
export type PlanAction = z.infer<typeof PlanActionSchema>;

/** The largest plan read or validated: a plan is a handful of actions, not a data dump. */
export const MAX_PLAN_BYTES = 1024 * 1024;

/** One problem of a plan: where (a JSON path, `''` for the whole file) and what to do about it. */
export interface PlanProblem {
  path: string;
  message: string;
}

assertType<NonNullable<PlanAction['approvalPolicy']> extends AskForApproval ? true : false>();
assertType<NonNullable<PlanAction['sandbox']> extends SandboxMode ? true : false>();
