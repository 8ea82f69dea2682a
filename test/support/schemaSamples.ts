/**
 * Values built from a JSON Schema (draft-07, as `codex app-server generate-json-schema` writes
 * it): what the schema allows, so a reader can be held to accept everything Codex may send.
 *
 * - `minimal`: required properties only, empty arrays, `null` first wherever a value may be null.
 * - `maximal`: every property, one element per array and map, non-null values first.
 * - `variant` k picks option k (modulo their count) at every `oneOf`/`anyOf`/`enum`/type list,
 *   so variants 0..width-1 between them meet every option of every union at least once.
 *
 * Supports `$ref` (to `#/definitions/…`), `oneOf`/`anyOf` (beside properties of their own, which
 * every option shares), `allOf`, `enum`, `const`, type lists (`["string", "null"]`), objects with
 * `additionalProperties`, arrays, `minimum`, `minLength` and boolean schemas. Anything else
 * throws, so that a schema using a new keyword is noticed rather than sampled wrongly.
 */

export type JsonSchema = boolean | SchemaObject;

export interface SchemaObject {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  minLength?: number;
  definitions?: Record<string, JsonSchema>;
}

export interface SampleOptions {
  mode: 'minimal' | 'maximal';
  variant: number;
}

/** Keywords that only describe: they change no value. */
const ANNOTATIONS = new Set(['title', 'description', 'default', 'format', '$schema', 'definitions', 'examples']);
const UNDERSTOOD = new Set([...ANNOTATIONS, '$ref', 'type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const', 'oneOf', 'anyOf', 'allOf', 'minimum', 'minLength']);

/** Below this depth optional parts are left out and unions take their smallest option, so recursive types end. */
const SHALLOW_DEPTH = 6;
const MAX_DEPTH = 40;

export class SchemaSampler {
  constructor(private readonly definitions: Record<string, JsonSchema>) {}

  sample(schema: JsonSchema, options: SampleOptions): unknown {
    return this.value(schema, options, 0);
  }

  /** How many variants meet every option of every union reachable from `schema`. */
  width(schema: JsonSchema): number {
    let widest = 1;
    const seen = new Set<string>();
    const visit = (s: JsonSchema): void => {
      if (typeof s === 'boolean') return;
      if (s.$ref !== undefined) {
        if (seen.has(s.$ref)) return;
        seen.add(s.$ref);
        visit(this.resolve(s.$ref));
      }
      const options = s.oneOf ?? s.anyOf;
      widest = Math.max(widest, options?.length ?? 1, s.enum?.length ?? 1, Array.isArray(s.type) ? s.type.length : 1);
      for (const child of [...(options ?? []), ...(s.allOf ?? []), ...Object.values(s.properties ?? {})]) visit(child);
      if (s.items !== undefined) visit(s.items);
      if (typeof s.additionalProperties === 'object') visit(s.additionalProperties);
    };
    visit(schema);
    return widest;
  }

  private resolve(ref: string): JsonSchema {
    const name = /^#\/definitions\/(.+)$/.exec(ref)?.[1];
    const target = name === undefined ? undefined : this.definitions[name];
    if (target === undefined) throw new Error(`unresolvable $ref ${ref}`);
    return target;
  }

  private value(schema: JsonSchema, options: SampleOptions, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new Error('schema recursion does not end');
    if (schema === true) return options.mode === 'minimal' ? null : { any: 'value' };
    if (schema === false) throw new Error('a schema that allows nothing');
    for (const key of Object.keys(schema)) if (!UNDERSTOOD.has(key)) throw new Error(`unsupported JSON Schema keyword ${key}`);
    const flat = this.flatten(schema, options, depth);
    if ('const' in flat) return flat.const;
    if (flat.enum !== undefined) return pick(flat.enum, options.variant);
    const types = typeList(flat);
    if (types.length > 1) {
      const ordered = nullOrdered(types, options, depth);
      return this.value({ ...flat, type: pick(ordered, options.variant) }, options, depth);
    }
    const shallow = depth >= SHALLOW_DEPTH;
    switch (types[0]) {
      case 'null':
        return null;
      case 'boolean':
        return options.mode === 'maximal';
      case 'integer':
        return Math.max(flat.minimum ?? 0, 1);
      case 'number':
        return Math.max(flat.minimum ?? 0, 1.5);
      case 'string':
        return 's'.repeat(Math.max(flat.minLength ?? 0, 1));
      case 'array': {
        if (options.mode === 'minimal' || shallow || flat.items === undefined) return [];
        return [this.value(flat.items, options, depth + 1)];
      }
      case 'object': {
        const out: Record<string, unknown> = {};
        const required = new Set(flat.required ?? []);
        for (const [key, property] of Object.entries(flat.properties ?? {})) {
          if (required.has(key) || (options.mode === 'maximal' && !shallow)) out[key] = this.value(property, options, depth + 1);
        }
        const extra = flat.additionalProperties;
        if (options.mode === 'maximal' && !shallow && extra !== undefined && extra !== false) out.extraKey = this.value(extra, options, depth + 1);
        return out;
      }
      default:
        throw new Error(`unsupported type ${String(types[0])}`);
    }
  }

  /**
   * One schema without `$ref`, `allOf` and unions: the referenced schema, the parts merged, the
   * option of this variant merged with the properties every option shares.
   */
  private flatten(schema: SchemaObject, options: SampleOptions, depth: number): SchemaObject {
    const { $ref, allOf, oneOf, anyOf, ...own } = schema;
    const parts: JsonSchema[] = [];
    if ($ref !== undefined) parts.push(this.resolve($ref));
    if (allOf !== undefined) parts.push(...allOf);
    const union = oneOf ?? anyOf;
    if (union !== undefined) parts.push(pick(nullOrderedSchemas(union, options, depth), options.variant));
    let merged: SchemaObject = own;
    for (const part of parts) {
      if (part === false) throw new Error('a schema that allows nothing');
      if (part !== true) merged = mergeSchemas(merged, this.flatten(part, options, depth));
    }
    return merged;
  }
}

function mergeSchemas(a: SchemaObject, b: SchemaObject): SchemaObject {
  const merged: SchemaObject = { ...a, ...b };
  if (a.properties !== undefined || b.properties !== undefined) merged.properties = { ...a.properties, ...b.properties };
  if (a.required !== undefined || b.required !== undefined) merged.required = [...(a.required ?? []), ...(b.required ?? [])];
  if (a.type !== undefined && b.type !== undefined) {
    const allowed = typeList(b);
    merged.type = typeList(a).filter((t) => allowed.includes(t));
  }
  return merged;
}

/** The schema's types; none given means what its keywords imply (properties: an object). */
function typeList(schema: SchemaObject): string[] {
  if (schema.type !== undefined) return Array.isArray(schema.type) ? schema.type : [schema.type];
  if (schema.properties !== undefined || schema.additionalProperties !== undefined) return ['object'];
  if (schema.items !== undefined) return ['array'];
  // No constraint at all: any value.
  return ['null', 'object'];
}

/** Minimal samples (and deep ones) take null first; maximal ones take it last. */
function nullOrdered(types: string[], options: SampleOptions, depth: number): string[] {
  const nullFirst = options.mode === 'minimal' || depth >= SHALLOW_DEPTH;
  const rest = types.filter((t) => t !== 'null');
  if (rest.length === types.length) return types;
  return nullFirst ? ['null', ...rest] : [...rest, 'null'];
}

function nullOrderedSchemas(options: JsonSchema[], sampleOptions: SampleOptions, depth: number): JsonSchema[] {
  const isNull = (s: JsonSchema) => typeof s === 'object' && s.type === 'null';
  const nulls = options.filter(isNull);
  const rest = options.filter((s) => !isNull(s));
  return sampleOptions.mode === 'minimal' || depth >= SHALLOW_DEPTH ? [...nulls, ...rest] : [...rest, ...nulls];
}

function pick<T>(values: readonly T[], variant: number): T {
  if (values.length === 0) throw new Error('an empty enum or union');
  return values[variant % values.length]!;
}
