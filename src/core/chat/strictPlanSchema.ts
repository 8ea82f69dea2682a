import { planVersionJsonSchema } from '../contract/planJsonSchema.js';

type JsonSchema = Record<string, unknown>;

/** Keywords OpenAI's strict structured output accepts; anything else may get the request refused. */
const KEPT = new Set(['type', 'description', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'anyOf', 'pattern', 'minItems']);

/**
 * The plan JSON Schema (version 2, what the planner proposes) in the form strict structured
 * output needs: every property listed in `required` and `additionalProperties: false` on every
 * object, so optional fields become nullable instead; unsupported keywords (default, minLength,
 * $id, …) are dropped and `const` becomes a one-value `enum`. A map (`hostConcurrency`) has no
 * strict form, so the planner cannot set one. Answers are still validated with the real
 * contract afterwards, so what the strict form cannot express is checked there.
 */
export function strictPlanJsonSchema(): JsonSchema {
  return strictNode(planVersionJsonSchema(2));
}

function strictNode(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'const') out.enum = [value];
    else if (KEPT.has(key)) out[key] = value;
  }
  if (Array.isArray(out.anyOf)) out.anyOf = (out.anyOf as JsonSchema[]).map(strictNode);
  if (isSchema(out.items)) out.items = strictNode(out.items);
  if (isSchema(out.properties)) {
    const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
    const properties: JsonSchema = {};
    for (const [name, property] of Object.entries(out.properties)) {
      if (isMap(property as JsonSchema)) continue;
      const strict = strictNode(property as JsonSchema);
      properties[name] = required.has(name) ? strict : nullable(strict);
    }
    out.properties = properties;
    out.required = Object.keys(properties);
    out.additionalProperties = false;
  }
  return out;
}

function nullable(node: JsonSchema): JsonSchema {
  const { description, ...rest } = node;
  return { ...(description === undefined ? {} : { description }), anyOf: [rest, { type: 'null' }] };
}

/** An object keyed by any name (a zod record): its keys cannot all be listed in `required`. */
function isMap(node: JsonSchema): boolean {
  return node.type === 'object' && node.properties === undefined && isSchema(node.additionalProperties);
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Removes `null` object properties (the strict form's "not given") before validating with the contract. */
export function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (!isSchema(value)) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (v === null ? [] : [[k, dropNulls(v)]])));
}
