import { z } from 'zod';
import { PlanSchema } from './plan.js';

/** The plan format as JSON Schema, generated from the zod schema (the single source of truth). */
export function planJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(PlanSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: 'https://cm-supervisor.dev/schemas/plan-v1.json',
    title: 'cm-supervisor plan (version 1)',
  };
}
