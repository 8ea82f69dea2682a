// A throwaway CODEX_HOME whose config points Codex at a local mock Responses API, so the real
// binary runs fully offline and never touches the user's ~/.codex.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OfflineCodexHomeOptions {
  /** The mock's base URL, e.g. `http://127.0.0.1:PORT/v1` (Codex POSTs `<baseUrl>/responses`). */
  baseUrl: string;
  /** Where to create the temp dir; defaults to the OS temp dir. */
  parentDir?: string;
  /**
   * How long Codex waits on a silent SSE stream before failing the turn. Codex's own default is
   * 5 minutes, far too long for supervision or tests.
   */
  streamIdleTimeoutMs?: number;
  /** Appended verbatim after the generated config, so start it with a `[table]` header. */
  extraToml?: string;
}

export interface OfflineCodexHome {
  dir: string;
  /** Environment to add to the child: `CODEX_HOME` and the provider's `env_key` variable. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export const MOCK_API_KEY_ENV = 'MOCK_API_KEY';

export async function createOfflineCodexHome(opts: OfflineCodexHomeOptions): Promise<OfflineCodexHome> {
  const dir = await mkdtemp(join(opts.parentDir ?? tmpdir(), 'cm-codex-home-'));
  await writeFile(join(dir, 'config.toml'), offlineConfigToml(opts), 'utf8');
  return {
    dir,
    env: { CODEX_HOME: dir, [MOCK_API_KEY_ENV]: 'mock-key' },
    // Retries cover files the just-killed child may still be closing.
    cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }),
  };
}

export function offlineConfigToml(opts: Omit<OfflineCodexHomeOptions, 'parentDir'>): string {
  // JSON string escapes are a subset of TOML basic-string escapes.
  const str = (s: string): string => JSON.stringify(s);
  const idleMs = opts.streamIdleTimeoutMs ?? 5000;
  if (!Number.isInteger(idleMs) || idleMs <= 0) throw new Error(`streamIdleTimeoutMs must be a positive integer, got ${idleMs}`);
  const lines = [
    `model = ${str('mock-model')}`,
    `model_provider = ${str('mock')}`,
    // "untrusted" here is fatal at startup; stricter policies are passed per thread instead.
    `approval_policy = ${str('on-request')}`,
    `sandbox_mode = ${str('read-only')}`,
    '',
    '[features]',
    // Both would try to reach the network at startup.
    'plugins = false',
    'apps = false',
    // Otherwise every new thread runs the user's login shell to snapshot its environment: with a
    // heavy profile that is a hundred programs per thread, which swamps a small machine's tests.
    'shell_snapshot = false',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[model_providers.mock]',
    `name = ${str('Mock Responses API')}`,
    `base_url = ${str(opts.baseUrl)}`,
    `wire_api = ${str('responses')}`,
    `env_key = ${str(MOCK_API_KEY_ENV)}`,
    'requires_openai_auth = false',
    'supports_websockets = false',
    `stream_idle_timeout_ms = ${idleMs}`,
    // Fail fast: a supervisor reacts to failures itself instead of waiting out silent retries.
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
  ];
  if (opts.extraToml) lines.push(opts.extraToml, '');
  return lines.join('\n');
}
