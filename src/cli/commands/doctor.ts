import { ConfigStore, hostSpecs, withNamedCodexBin } from '../../core/config/config.js';
import { CodexClient } from '../../core/connection/codexClient.js';
import { SupervisorError } from '../../core/errors.js';
import { connectHost } from '../../core/hosts/connectHost.js';
import type { HostSpec } from '../../core/hosts/hostSpec.js';
import { GENERATED_FROM_CODEX_VERSION } from '../../core/protocol/generated/version.js';
import { transportWords } from '../../core/state/hostText.js';
import type { HostTransport } from '../../core/state/model.js';
import { codexBinFor, codexBinIsExplicit, type GlobalOptions } from '../globalOptions.js';
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
}

/**
 * Connects to every configured host as the supervisor would (Codex's daemon, or a private
 * app-server, over ssh for remote hosts), performs the handshake and a ping, and reports what
 * it found: the quickest way to see whether cm-supervisor can supervise these machines.
 */
export async function doctorCommand(globals: GlobalOptions, opts: { json?: boolean }, io: CliIo): Promise<void> {
  const config = new ConfigStore(globals.home).read();
  const codexBin = codexBinFor(globals, config);
  const hosts = codexBinIsExplicit(globals) ? withNamedCodexBin(hostSpecs(config)) : hostSpecs(config);
  const reports = await Promise.all(hosts.map((spec) => checkHost(spec, codexBin)));
  const local = reports[0]!;
  // With nothing but this machine to check, its failure is the whole answer.
  if (reports.length === 1 && local.error !== null && !opts.json) throw new SupervisorError(local.error, 1);
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
  if (!ok) throw new SupervisorError(`${reports.filter((r) => !r.ok).length} of ${reports.length} hosts did not answer; see above`, 1);
}

async function checkHost(spec: HostSpec, codexBin: string): Promise<HostReport> {
  const report: HostReport = { name: spec.name, kind: spec.kind, ok: false, transport: null, codexVersion: null, codexHome: null, pingMs: null, notes: [], warnings: [], error: null };
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
