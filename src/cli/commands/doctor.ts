import { AppServerConnection } from '../../core/connection/appServerConnection.js';
import { SupervisorError } from '../../core/errors.js';
import { GENERATED_FROM_CODEX_VERSION } from '../../core/protocol/generated/version.js';
import type { GlobalOptions } from '../globalOptions.js';
import type { CliIo } from '../io.js';

/**
 * Starts one app-server, performs the handshake and a liveness ping, and reports what it
 * found: the quickest way to see whether cm-supervisor can supervise this machine's Codex.
 */
export async function doctorCommand(
  globals: GlobalOptions,
  opts: { json?: boolean; cwd?: string },
  io: CliIo,
): Promise<void> {
  const argv = [globals.codex.path, 'app-server'];
  const connection = new AppServerConnection({ argv, cwd: opts.cwd });
  const warnings: string[] = [];
  connection.on((event) => {
    if (event.type === 'warning') warnings.push(event.message);
  });
  try {
    const info = await connection.start();
    const started = Date.now();
    await connection.request('thread/loaded/list', {}, { timeoutMs: 5_000 });
    const pingMs = Date.now() - started;
    const report = {
      ok: true,
      command: argv,
      codexBinarySource: globals.codex.source,
      codexVersion: info.codexVersion,
      protocolTypesVersion: GENERATED_FROM_CODEX_VERSION,
      userAgent: info.userAgent,
      codexHome: info.codexHome,
      platform: info.platformOs,
      pingMs,
      home: globals.home,
      warnings,
    };
    if (opts.json) {
      io.out(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      io.out(
        [
          `codex app-server ok: ${argv.join(' ')} (${globals.codex.source})`,
          `  codex version   ${info.codexVersion ?? 'unknown'} (protocol types from ${GENERATED_FROM_CODEX_VERSION})`,
          `  codex home      ${info.codexHome}`,
          `  ping            ${pingMs} ms`,
          `  supervisor home ${globals.home}`,
          ...warnings.map((w) => `  warning: ${w}`),
          '',
        ].join('\n'),
      );
    }
  } catch (error) {
    if (error instanceof SupervisorError) throw error;
    throw new SupervisorError(`doctor: ${error instanceof Error ? error.message : String(error)}`, 1, { cause: error });
  } finally {
    await connection.stop();
  }
}
