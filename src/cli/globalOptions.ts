import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { resolveCodexBinary, type ResolvedCodexBinary } from '../core/codexBinary.js';
import type { CliIo } from './io.js';

export interface GlobalOptions {
  home: string;
  codex: ResolvedCodexBinary;
  /** --no-daemon: supervise in this process even when a daemon runs. */
  noDaemon: boolean;
}

/** `--home` beats CM_SUPERVISOR_HOME beats ~/.cm-supervisor; the codex binary likewise. */
export function resolveGlobalOptions(raw: { home?: string; codexBin?: string; daemon?: boolean }, io: CliIo): GlobalOptions {
  const home = raw.home ?? io.env.CM_SUPERVISOR_HOME ?? resolve(homedir(), '.cm-supervisor');
  return { home: resolve(home), codex: resolveCodexBinary(raw.codexBin, io.env), noDaemon: raw.daemon === false };
}

/**
 * The codex binary to run: --codex-bin or CM_SUPERVISOR_CODEX_BIN first, then `codexBin` from
 * config.json, then the bundled binary (or `codex` on PATH). Every command decides it here.
 */
export function codexBinFor(globals: GlobalOptions, config: { codexBin?: string | undefined }): string {
  return codexBinIsExplicit(globals) ? globals.codex.path : (config.codexBin ?? globals.codex.path);
}

/** The user named the codex binary for this run (flag or environment): it beats config.json. */
export function codexBinIsExplicit(globals: GlobalOptions): boolean {
  return globals.codex.source === 'flag' || globals.codex.source === 'env';
}
