import { z } from 'zod';
import { PlanV1Schema, PlanV2Schema } from './plan.js';

export const PLAN_VERSIONS = [2, 1] as const;
export type PlanVersion = (typeof PLAN_VERSIONS)[number];

const SCHEMAS = { 1: PlanV1Schema, 2: PlanV2Schema } as const;

/** One version of the plan format as JSON Schema, generated from the zod schema (the single source of truth). */
export function planVersionJsonSchema(version: PlanVersion): Record<string, unknown> {
  return {
    ...z.toJSONSchema(SCHEMAS[version], { io: 'input', target: 'draft-2020-12' }),
    $id: `https://cm-supervisor.dev/schemas/plan-v${version}.json`,
    title: `cm-supervisor plan (version ${version})`,
  };
}

/** Both versions, the newest first: a plan file is valid when it is valid in the version it names. */
export function planJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://cm-supervisor.dev/schemas/plan.json',
    title: 'cm-supervisor plan',
    description: 'A cm-supervisor action plan: version 2 (dependencies, concurrency, retries, worktrees, reviews) or version 1 (a flat list).',
    // `$schema` belongs at the top only.
    oneOf: PLAN_VERSIONS.map((version) => Object.fromEntries(Object.entries(planVersionJsonSchema(version)).filter(([key]) => key !== '$schema'))),
  };
}
