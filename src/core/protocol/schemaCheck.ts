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

/**
 * The check is generated as JavaScript source, as zod does for its own objects: with a closure
 * per field, reads by computed key and calls through shared call sites cost 2-3x more (V8
 * cannot specialize them). The source holds only this module's fragments and the schema's own
 * keys and literals (from our code, never from the wire), each written as a JSON string.
 */
function compile(schema: z.ZodType): Check | null {
  const deps: unknown[] = [];
  const container = containerBody(schema, deps);
  const body = container === undefined ? returnExpression(schema, deps) : container;
  if (body === null) return null;
  const names = deps.map((_, i) => `d${i}`);
  const make = new Function(...names, `"use strict"; return function check(v) { ${body} };`) as (...d: unknown[]) => Check;
  return make(...deps);
}

function returnExpression(schema: z.ZodType, deps: unknown[]): string | null {
  const e = expression(schema, 'v', deps);
  return e && `return ${e};`;
}

const NOT_A_RECORD = 'if (typeof v !== "object" || v === null || Array.isArray(v)) return false;';

/** The statements of an object, array or record check of `v`; `null`: unsupported; `undefined`: not a container. */
function containerBody(schema: z.ZodType, deps: unknown[]): string | null | undefined {
  const def = defOf(schema);
  if (def.checks !== undefined && def.checks.length > 0) return null;
  switch (def.type) {
    case 'object': {
      // Unknown keys are stripped (no catchall) or passed (catchall unknown); a strict object
      // (catchall never) or a typed catchall would need every extra key checked: unsupported.
      if (def.catchall !== undefined && defOf(def.catchall).type !== 'unknown') return null;
      const lines = [NOT_A_RECORD, 'let x;'];
      for (const [key, field] of Object.entries(def.shape ?? {})) {
        const check = expression(field, 'x', deps);
        if (check === null) return null;
        // zod's rule for a missing key: allowed only for a field that is optional on input
        // (`optin`), and then if it is optional on output or accepts undefined. A required
        // `z.unknown()` field must be present, even as undefined.
        const { optin, optout } = (field as unknown as { _zod: { optin?: string; optout?: string } })._zod;
        const absentOk = optin !== undefined && (optout === 'optional' || compile(field)?.(undefined) === true);
        const k = JSON.stringify(key);
        lines.push(`x = v[${k}]; if (!(x !== undefined || ${k} in v ? ${check} : ${absentOk})) return false;`);
      }
      lines.push('return true;');
      return lines.join('\n');
    }
    case 'array': {
      const check = expression(def.element!, 'x', deps);
      // Indexed, as zod reads arrays (holes are undefined).
      return check && `if (!Array.isArray(v)) return false; for (let i = 0; i < v.length; i++) { const x = v[i]; if (!(${check})) return false; } return true;`;
    }
    case 'record': {
      // Keys of parsed JSON are strings; other key schemas (enums, …) are not supported.
      const key = defOf(def.keyType!);
      if (key.type !== 'string' || (key.checks?.length ?? 0) > 0) return null;
      const check = expression(def.valueType!, 'x', deps);
      return check && `${NOT_A_RECORD} for (const k of Object.keys(v)) { const x = v[k]; if (!(${check})) return false; } return true;`;
    }
    default:
      return undefined;
  }
}

/** A JavaScript expression that is true when the value in variable `x` passes; `null`: unsupported. */
function expression(schema: z.ZodType, x: string, deps: unknown[]): string | null {
  const def = defOf(schema);
  // Refinements (min, regex, refine, …) live in `checks`: not supported here.
  if (def.checks !== undefined && def.checks.length > 0) return null;
  switch (def.type) {
    case 'string':
      return `typeof ${x} === "string"`;
    case 'number':
      return `(typeof ${x} === "number" && Number.isFinite(${x}))`;
    case 'boolean':
      return `typeof ${x} === "boolean"`;
    case 'null':
      return `${x} === null`;
    case 'unknown':
    case 'any':
      return 'true';
    case 'literal':
    case 'enum': {
      const values = def.type === 'literal' ? (def.values ?? []) : Object.values(def.entries ?? {});
      return `(${values.map((value) => `${x} === ${literal(value, deps)}`).join(' || ') || 'false'})`;
    }
    case 'optional':
    case 'nullable': {
      const inner = expression(def.innerType!, x, deps);
      return inner && `(${x} === ${def.type === 'optional' ? 'undefined' : 'null'} || ${inner})`;
    }
    case 'union': {
      const options = (def.options ?? []).map((o) => expression(o, x, deps));
      return options.some((o) => o === null) ? null : `(${options.join(' || ')})`;
    }
    case 'object':
    case 'array':
    case 'record': {
      // A container is its own generated function, with its own variable and loop.
      const check = compile(schema);
      if (check === null) return null;
      deps.push(check);
      return `d${deps.length - 1}(${x})`;
    }
    default:
      return null;
  }
}

/** A literal as source: JSON for strings, finite numbers, booleans and null; others by reference. */
function literal(value: unknown, deps: unknown[]): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
    return JSON.stringify(value);
  }
  deps.push(value);
  return `d${deps.length - 1}`;
}
