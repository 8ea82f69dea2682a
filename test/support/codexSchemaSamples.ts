import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBundledCodexBinary } from '../../src/core/codexBinary.js';
import { runCommand } from '../../src/core/process/runCommand.js';
import { SchemaSampler, type JsonSchema, type SchemaObject } from './schemaSamples.js';

/** One method of the protocol with stdout lines the pinned Codex's JSON Schema allows for it. */
export interface MethodSamples {
  method: string;
  /** Minimal and maximal samples, one of each per variant (see SchemaSampler). */
  lines: { label: string; line: string }[];
}

export interface CodexProtocolSamples {
  notifications: MethodSamples[];
  requests: MethodSamples[];
}

/**
 * Samples of every server notification and server request, built from what the pinned binary
 * prints with `codex app-server generate-json-schema` (the same version the bindings came from).
 */
export async function codexProtocolSamples(): Promise<CodexProtocolSamples> {
  const dir = await mkdtemp(join(tmpdir(), 'cm-schema-'));
  try {
    const run = await runCommand({ argv: [requireBundledCodexBinary(), 'app-server', 'generate-json-schema', '--out', dir], timeoutMs: 30_000 });
    if (run.code !== 0) throw new Error(`codex app-server generate-json-schema failed (${run.code ?? run.signal}): ${run.stderr}`);
    const read = async (name: string) => JSON.parse(await readFile(join(dir, name), 'utf8')) as SchemaObject;
    return { notifications: samplesOf(await read('ServerNotification.json')), requests: samplesOf(await read('ServerRequest.json')) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The root is `{properties?: shared envelope fields, oneOf: one object per method}`. */
function samplesOf(root: SchemaObject): MethodSamples[] {
  const sampler = new SchemaSampler(root.definitions ?? {});
  return (root.oneOf ?? []).map((entry) => {
    const method = methodOf(entry);
    const schema: JsonSchema = { type: 'object', properties: root.properties ?? {}, oneOf: [entry] };
    // Variants past the method's own unions repeat earlier samples: each line is kept once.
    const lines = new Map<string, string>();
    for (let variant = 0; variant < sampler.width(schema); variant++) {
      for (const mode of ['minimal', 'maximal'] as const) {
        const line = JSON.stringify(sampler.sample(schema, { mode, variant }));
        if (!lines.has(line)) lines.set(line, `${method} ${mode} #${variant}`);
      }
    }
    return { method, lines: [...lines].map(([line, label]) => ({ label, line })) };
  });
}

function methodOf(entry: JsonSchema): string {
  const method = typeof entry === 'object' ? entry.properties?.method : undefined;
  const values = typeof method === 'object' ? method.enum : undefined;
  if (values?.length !== 1 || typeof values[0] !== 'string') throw new Error(`no single method name in ${JSON.stringify(entry).slice(0, 200)}`);
  return values[0];
}
