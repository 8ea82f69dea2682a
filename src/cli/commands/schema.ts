import { planJsonSchema } from '../../core/contract/planJsonSchema.js';
import type { CliIo } from '../io.js';

export function schemaCommand(io: CliIo): void {
  io.out(`${JSON.stringify(planJsonSchema(), null, 2)}\n`);
}
