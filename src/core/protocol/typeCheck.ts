/**
 * Compile-time links between hand-written zod schemas and the generated protocol bindings:
 * `assertType<SchemaFitsGenerated<Parsed, Generated>>()` stops compiling when a field a schema
 * reads is missing from, or typed differently in, what the pinned Codex version declares.
 */

/** Drops the `[key: string]: unknown` index signature that loose zod objects add. */
export type KnownKeys<T> = {
  [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K];
};

/** Every field the schema parses exists in the generated type, with a type the generated one fits. */
export type SchemaFitsGenerated<Parsed, Generated> =
  Exclude<keyof KnownKeys<Parsed>, keyof Generated> extends never
    ? [Pick<Generated, keyof KnownKeys<Parsed> & keyof Generated>] extends [KnownKeys<Parsed>]
      ? true
      : false
    : false;

export type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

export function assertType<T extends true>(): T | undefined {
  return undefined;
}
