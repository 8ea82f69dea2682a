import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { executableProblem, resolveCodexBinary, type ResolvedCodexBinary } from '../core/codexBinary.js';
import { hostSpecs, workspaceSpecs, type Config } from '../core/config/config.js';
import { SupervisorError } from '../core/errors.js';
import { LOCAL_HOST } from '../core/hosts/hostSpec.js';
import { checkPrivateHome } from '../core/persistence/privateHome.js';
import type { CliIo } from './io.js';

export interface GlobalOptions {
  home: string;
  codex: ResolvedCodexBinary;
  /** --no-daemon: supervise in this process even when a daemon runs. */
  noDaemon: boolean;
}

/** `--home` beats CM_SUPERVISOR_HOME beats ~/.cm-supervisor; the codex binary likewise. */
export function resolveGlobalOptions(raw: { home?: string; codexBin?: string; daemon?: boolean }, io: CliIo): GlobalOptions {
  const home = resolve(raw.home ?? io.env.CM_SUPERVISOR_HOME ?? resolve(homedir(), '.cm-supervisor'));
  // Commander fills `--codex-bin` from CM_SUPERVISOR_CODEX_BIN too; the same value means the
  // variable named it (a flag with another value beats it), so messages can name the right one.
  const flag = raw.codexBin !== undefined && raw.codexBin !== io.env.CM_SUPERVISOR_CODEX_BIN ? raw.codexBin : undefined;
  // Every command passes here, also those that only talk to a daemon: a home or config.json
  // that others can write is refused before anything is read from or sent to it.
  checkPrivateHome(home);
  return { home, codex: resolveCodexBinary(flag, io.env), noDaemon: raw.daemon === false };
}

/**
 * The codex binary to run: --codex-bin or CM_SUPERVISOR_CODEX_BIN first, then `codexBin` from
 * config.json, then the bundled binary (or `codex` on PATH). Every command decides it here.
 *
 * Every command that runs a supervisor gets it here, so this is also where a binary that
 * cannot run fails the command at once (exit 2, naming where it came from) when a host on this
 * machine serves one of `config`'s workspaces, rather than as a host that never connects.
 */
export function codexBinFor(globals: GlobalOptions, config: Config): string {
  requireLocalCodexBinary(globals, config);
  return defaultCodexBin(globals, config);
}

/** `codexBinFor` without the check: the binary of local hosts that name none of their own. */
export function defaultCodexBin(globals: GlobalOptions, config: { codexBin?: string | undefined }): string {
  return codexBinIsExplicit(globals) ? globals.codex.path : (config.codexBin ?? globals.codex.path);
}

/** The user named the codex binary for this run (flag or environment): it beats config.json. */
export function codexBinIsExplicit(globals: GlobalOptions): boolean {
  return globals.codex.source === 'flag' || globals.codex.source === 'env';
}

/** The codex binary the hosts on this machine run, with where it was set and how to change it. */
export interface LocalCodexBinary {
  path: string;
  /** Where it came from, as the user would look for it: `--codex-bin /x`, `CM_SUPERVISOR_CODEX_BIN=/x`, … */
  origin: string;
  /** How to point it elsewhere. */
  fix: string;
}

const HOST_SET_LOCAL = '`cm-supervisor host set local --codex-bin PATH`';

/**
 * In the order the hosts use them: --codex-bin, CM_SUPERVISOR_CODEX_BIN, `hosts[local].codexBin`
 * (`host set local --codex-bin`), the top-level `codexBin`, the bundled binary, `codex` on PATH.
 */
export function localCodexBinary(globals: GlobalOptions, config: Config): LocalCodexBinary {
  const configFile = join(globals.home, 'config.json');
  const { path, source } = globals.codex;
  if (source === 'flag') return { path, origin: `--codex-bin ${path}`, fix: 'give --codex-bin the path of a codex binary, or leave it out' };
  if (source === 'env') return { path, origin: `CM_SUPERVISOR_CODEX_BIN=${path}`, fix: 'point CM_SUPERVISOR_CODEX_BIN at a codex binary, or unset it' };
  const hostBin = config.hosts.find((h) => h.name === LOCAL_HOST)?.codexBin;
  if (hostBin) {
    return {
      path: hostBin,
      origin: `hosts[local].codexBin "${hostBin}" in ${configFile} (set with \`cm-supervisor host set local --codex-bin\`)`,
      fix: 'run that again with the path of a codex binary',
    };
  }
  if (config.codexBin) {
    return { path: config.codexBin, origin: `codexBin "${config.codexBin}" in ${configFile}`, fix: `correct or remove it there, or set this machine's codex with ${HOST_SET_LOCAL}` };
  }
  if (source === 'bundled') return { path, origin: `the bundled codex ${path}`, fix: 'reinstall the dependencies (npm ci), or name a codex binary with --codex-bin' };
  if (source === 'path') return { path, origin: `codex on PATH (${path})`, fix: `name another codex binary with --codex-bin, CM_SUPERVISOR_CODEX_BIN or ${HOST_SET_LOCAL}` };
  return {
    path,
    origin: path,
    fix: `the bundled @openai/codex binary is missing too: install the dependencies (npm ci), put codex on PATH, or name a codex binary with --codex-bin, CM_SUPERVISOR_CODEX_BIN or ${HOST_SET_LOCAL}`,
  };
}

/** `problem` with where the binary came from and how to fix it: the one wording of every such message. */
export function localCodexBinaryMessage(binary: LocalCodexBinary, problem: string): string {
  return `${binary.origin}: ${problem}; ${binary.fix}`;
}

/** Why the local codex binary cannot be started (named with its origin and fix), or null. Checks only the file. */
export function localCodexBinaryProblem(globals: GlobalOptions, config: Config): string | null {
  const binary = localCodexBinary(globals, config);
  const local = hostSpecs(config).find((h) => h.name === LOCAL_HOST);
  // Local app-servers run in the home directory with the host's environment over ours (connectHost).
  const problem = executableProblem(binary.path, { pathVar: local?.env.PATH ?? process.env.PATH, cwd: homedir() });
  return problem === null ? null : localCodexBinaryMessage(binary, problem);
}

/** Some workspace of `config` is served by a host on this machine that runs codex (not a workspace's own command). */
export function localCodexNeeded(config: Config): boolean {
  const runsCodex = new Set(hostSpecs(config).flatMap((h) => (h.kind === 'local' ? [h.name] : [])));
  return workspaceSpecs(config).some((w) => runsCodex.has(w.host));
}

/** Throws (exit 2) when the local codex binary is `needed` and cannot be started. */
export function requireLocalCodexBinary(globals: GlobalOptions, config: Config, needed = localCodexNeeded(config)): void {
  if (!needed) return;
  const problem = localCodexBinaryProblem(globals, config);
  if (problem !== null) throw new SupervisorError(problem, 2);
}
