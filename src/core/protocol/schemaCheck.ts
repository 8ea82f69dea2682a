import type { z } from 'zod';

/**
 * A check that accepts exactly what a zod schema accepts, without building zod's output copy.
 *
 * Every app-server line is validated, and for the common notifications zod's copy (with its
 * allocations) cost more than all the other work on the event. The schema stays the single
 * definition: this reads its definition and supports the kinds the protocol schemas use
 * (objects that strip or pass unknown keys, strings, finite numbers, booleans, null, literals,
 * enums, arrays, records, unions, optional, nullable, unknown). A schema with anything else —
 * refinements, transforms, defaults, strict objects — gets no check (`null`), and its callers
 * use zod.
 *
 * A value that passes is the input itself: unknown keys are not stripped, so a caller reads
 * only the fields the schema declares (as its inferred type already makes it do).
 */
export type SchemaCheck<S extends z.ZodType> = (value: unknown) => value is z.output<S>;

type Check = (value: unknown) => boolean;

/** zod's definition fields this reads (its internals are not in the public types). */
interface Def {
  type: string;
  checks?: unknown[];
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  innerType?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, unknown>;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
}

const cache = new WeakMap<z.ZodType, Check | null>();

export function schemaCheck<S extends z.ZodType>(schema: S): SchemaCheck<S> | null {
  let check = cache.get(schema);
  if (check === undefined) {
    check = compile(schema);
    cache.set(schema, check);
  }
  return check as SchemaCheck<S> | null;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function isRecordObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compile(schema: z.ZodType): Check | null {
  const def = defOf(schema);
  // Refinements (min, regex, refine, …) live in `checks`: not supported here.
  if (def.checks !== undefined && def.checks.length > 0) return null;
  switch (def.type) {
    case 'string':
      return (v) => typeof v === 'string';
    case 'number':
      return (v) => typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'null':
      return (v) => v === null;
    case 'unknown':
    case 'any':
      return () => true;
    case 'literal': {
      const values = def.values ?? [];
      return (v) => values.includes(v);
    }
    case 'enum': {
      const values = Object.values(def.entries ?? {});
      return (v) => values.includes(v);
    }
    case 'optional': {
      const inner = compile(def.innerType!);
      return inner && ((v) => v === undefined || inner(v));
    }
    case 'nullable': {
      const inner = compile(def.innerType!);
      return inner && ((v) => v === null || inner(v));
    }
    case 'array': {
      const element = compile(def.element!);
      // Indexed, as zod reads arrays: `every` would skip holes.
      return (
        element &&
        ((v) => {
          if (!Array.isArray(v)) return false;
          for (let i = 0; i < v.length; i++) if (!element(v[i])) return false;
          return true;
        })
      );
    }
    case 'union': {
      const options = (def.options ?? []).map(compile);
      if (options.some((o) => o === null)) return null;
      const checks = options as Check[];
      return (v) => checks.some((c) => c(v));
    }
    case 'record': {
      // Keys of parsed JSON are strings; other key schemas (enums, …) are not supported.
      if (defOf(def.keyType!).type !== 'string' || defOf(def.keyType!).checks?.length) return null;
      const value = compile(def.valueType!);
      return value && ((v) => isRecordObject(v) && Object.values(v).every(value));
    }
    case 'object':
      return compileObject(def);
    default:
      return null;
  }
}

function compileObject(def: Def): Check | null {
  // Unknown keys are stripped (no catchall) or passed (catchall unknown); a strict object
  // (catchall never) or a typed catchall would need every extra key checked: not supported.
  if (def.catchall !== undefined && defOf(def.catchall).type !== 'unknown') return null;
  const keys: string[] = [];
  const checks: Check[] = [];
  const absentOk: boolean[] = [];
  for (const [key, field] of Object.entries(def.shape ?? {})) {
    const check = compile(field);
    if (check === null) return null;
    keys.push(key);
    checks.push(check);
    // zod's rule for a missing key: allowed only for a field that is optional on input
    // (`optin`), and then if it is optional on output or accepts undefined. A required
    // `z.unknown()` field must be present, even as undefined.
    const { optin, optout } = (field as unknown as { _zod: { optin?: string; optout?: string } })._zod;
    absentOk.push(optin !== undefined && (optout === 'optional' || check(undefined)));
  }
  return (v) => {
    if (!isRecordObject(v)) return false;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (!(key in v ? checks[i]!(v[key]) : absentOk[i])) return false;
    }
    return true;
  };
}
