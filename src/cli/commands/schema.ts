import { planJsonSchema, planVersionJsonSchema, type PlanVersion } from '../../core/contract/planJsonSchema.js';
import type { CliIo } from '../io.js';

/** Both versions (newest first), or the one asked for. */
export function schemaCommand(version: PlanVersion | undefined, io: CliIo): void {
  io.out(`${JSON.stringify(version === undefined ? planJsonSchema() : planVersionJsonSchema(version), null, 2)}\n`);
}
