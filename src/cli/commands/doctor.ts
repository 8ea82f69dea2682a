import { ConfigStore, hostSpecs, withNamedCodexBin } from '../../core/config/config.js';
import { CodexClient } from '../../core/connection/codexClient.js';
import { CodexNotFoundError, HandshakeError, SupervisorError } from '../../core/errors.js';
import { connectHost } from '../../core/hosts/connectHost.js';
import type { HostSpec } from '../../core/hosts/hostSpec.js';
import { GENERATED_FROM_CODEX_VERSION } from '../../core/protocol/generated/version.js';
import { transportWords } from '../../core/state/hostText.js';
import type { HostTransport } from '../../core/state/model.js';
import {
  codexBinIsExplicit,
  defaultCodexBin,
  localCodexBinary,
  localCodexBinaryMessage,
  localCodexBinaryProblem,
  localCodexNeeded,
  type GlobalOptions,
  type LocalCodexBinary,
} from '../globalOptions.js';
import type { CliIo } from '../io.js';

interface HostReport {
  name: string;
  kind: HostSpec['kind'];
  ok: boolean;
  transport: HostTransport | null;
  codexVersion: string | null;
  codexHome: string | null;
  pingMs: number | null;
  notes: string[];
  warnings: string[];
  error: string | null;
  /** The error is this machine's codex binary (missing, or no app-server answered): a setting to fix. */
  binaryFault?: boolean;
}

/**
 * Connects to every configured host as the supervisor would (Codex's daemon, or a private
 * app-server, over ssh for remote hosts), performs the handshake and a ping, and reports what
 * it found: the quickest way to see whether cm-supervisor can supervise these machines.
 */
export async function doctorCommand(globals: GlobalOptions, opts: { json?: boolean }, io: CliIo): Promise<void> {
  const config = new ConfigStore(globals.home).read();
  const codexBin = defaultCodexBin(globals, config);
  const hosts = codexBinIsExplicit(globals) ? withNamedCodexBin(hostSpecs(config)) : hostSpecs(config);
  // This machine's binary is checked as a file first: a missing one needs no connection attempt.
  const binary = { ...localCodexBinary(globals, config), problem: localCodexBinaryProblem(globals, config) };
  const reports = await Promise.all(hosts.map((spec) => checkHost(spec, codexBin, spec.kind === 'local' ? binary : null)));
  const local = reports[0]!;
  // A codex binary that cannot serve this machine is a setting to fix (exit 2) when this machine
  // is needed: it serves a workspace, or it is all there is to check.
  const binaryFault = reports.find((r) => r.binaryFault && (localCodexNeeded(config) || reports.length === 1));
  // With nothing but this machine to check, its failure is the whole answer.
  if (reports.length === 1 && local.error !== null && !opts.json) throw new SupervisorError(local.error, binaryFault ? 2 : 1);
  const ok = reports.every((r) => r.ok);
  const report = {
    ok,
    codexBinarySource: globals.codex.source,
    codexVersion: local.codexVersion,
    protocolTypesVersion: GENERATED_FROM_CODEX_VERSION,
    codexHome: local.codexHome,
    home: globals.home,
    warnings: local.warnings,
    hosts: reports,
  };
  if (opts.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
  else io.out(`${reports.map((r) => hostLines(r)).join('\n')}  supervisor home ${globals.home}\n`);
  if (binaryFault?.error) throw new SupervisorError(binaryFault.error, 2);
  if (!ok) throw new SupervisorError(`${reports.filter((r) => !r.ok).length} of ${reports.length} hosts did not answer; see above`, 1);
}

/** `binary`: for hosts on this machine that run codex, the binary they run and what is wrong with the file, if anything. */
async function checkHost(spec: HostSpec, codexBin: string, binary: (LocalCodexBinary & { problem: string | null }) | null): Promise<HostReport> {
  const report: HostReport = { name: spec.name, kind: spec.kind, ok: false, transport: null, codexVersion: null, codexHome: null, pingMs: null, notes: [], warnings: [], error: null };
  if (binary?.problem) return { ...report, error: binary.problem, binaryFault: true };
  try {
    const { connection, transport, notes } = await connectHost(spec, { codexBin, env: {} });
    connection.on((event) => {
      if (event.type === 'warning') report.warnings.push(event.message);
    });
    try {
      const started = Date.now();
      await new CodexClient(connection).threadLoadedList({ timeoutMs: 5_000 });
      Object.assign(report, {
        ok: true,
        transport,
        notes,
        pingMs: Date.now() - started,
        codexVersion: connection.serverInfo?.codexVersion ?? null,
        codexHome: connection.serverInfo?.codexHome ?? null,
      });
    } finally {
      await connection.stop();
    }
  } catch (error) {
    report.error = error instanceof Error ? error.message : String(error);
    // The binary could not be started, or what it started did not answer the handshake: it is
    // not a working codex app-server, whatever the file is.
    if (binary && (error instanceof CodexNotFoundError || error instanceof HandshakeError)) {
      const problem = error instanceof CodexNotFoundError ? 'could not be started' : 'does not speak the app-server protocol';
      Object.assign(report, { error: `${localCodexBinaryMessage(binary, problem)}\n  ${report.error!.split('\n').join('\n  ')}`, binaryFault: true });
    }
  }
  return report;
}

function hostLines(r: HostReport): string {
  if (!r.ok) return `host ${r.name}: FAILED\n  ${r.error}\n`;
  return [
    `host ${r.name}: ok (${transportWords(r)})`,
    `  codex version   ${r.codexVersion ?? 'unknown'} (protocol types from ${GENERATED_FROM_CODEX_VERSION})`,
    `  codex home      ${r.codexHome}`,
    `  ping            ${r.pingMs} ms`,
    ...r.notes.map((n) => `  note: ${n}`),
    ...r.warnings.map((w) => `  warning: ${w}`),
    '',
  ].join('\n');
}
