import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AppServerConnection, type ConnectionOptions } from '../connection/appServerConnection.js';
import { HandshakeError, SupervisorError } from '../errors.js';
import { runCommand } from '../process/runCommand.js';
import type { HostTransport } from '../state/model.js';
import { openStdioTransport } from '../transport/stdioTransport.js';
import type { TransportFactory } from '../transport/transport.js';
import { openChildWebSocketTransport, openSocketTransport, TransportOpenError } from '../transport/webSocketTransport.js';
import type { HostSpec } from './hostSpec.js';
import { describeSshTarget, sshArgv } from './ssh.js';

export interface HostConnection {
  /** Started: the handshake is done. */
  connection: AppServerConnection;
  transport: HostTransport;
  /** What the user should know about how it connected (e.g. why it did not attach). */
  notes: string[];
}

export interface ConnectContext {
  /** The codex binary of local hosts that name none. */
  codexBin: string;
  /** Added to the environment of local app-servers, under the host's own `env`. */
  env: Record<string, string>;
  /** Timeouts and grace periods of every connection. */
  connection?: Partial<Omit<ConnectionOptions, 'transport' | 'argv' | 'cwd' | 'env'>>;
  now?: () => number;
  /** Ends the attempt (a handshake still waiting) when aborted: the supervisor stops. */
  signal?: AbortSignal;
}

/** How long `codex app-server daemon start` may take (it installs a managed copy first). */
const DAEMON_START_TIMEOUT_MS = 60_000;
/** ssh's exit status when it could not connect or lost the connection. */
const SSH_FAILED = 255;
/** The remote shell's exit status for a command it cannot find. */
const COMMAND_NOT_FOUND = 127;

/** Codex's daemon listens here for a CODEX_HOME (`$CODEX_HOME`, else `~/.codex`). */
export function controlSocketPath(env: Record<string, string | undefined>): string {
  return join(env.CODEX_HOME || join(homedir(), '.codex'), 'app-server-control', 'app-server-control.sock');
}

/**
 * Connects to a host's app-server, in the order its `codexDaemon` mode asks: `attach` uses
 * Codex's daemon when its control socket answers (locally the socket itself, over ssh
 * `codex app-server proxy`) and otherwise a private child; `start` starts the daemon first and
 * must attach; `never` always uses a private child (`codex app-server`, over ssh `ssh -T host
 * codex app-server`). Codex's daemon is never started unasked: it installs files into CODEX_HOME.
 */
export async function connectHost(spec: HostSpec, ctx: ConnectContext): Promise<HostConnection> {
  if (spec.kind === 'command') {
    const argv = spec.command ?? [];
    const env = { ...ctx.env, ...spec.env };
    const connection = await handshake(ctx, () => openStdioTransport({ argv, env }, { now: ctx.now }), { argv });
    return { connection, transport: 'private', notes: [] };
  }
  const notes: string[] = [];
  if (spec.codexDaemon === 'start') await startCodexDaemon(spec, ctx);
  if (spec.codexDaemon !== 'never') {
    const attached = await attach(spec, ctx, notes);
    if (attached) return { connection: attached, transport: 'attached', notes };
  }
  return { connection: await openPrivate(spec, ctx), transport: 'private', notes };
}

function localEnv(spec: HostSpec, ctx: ConnectContext): Record<string, string> {
  return { ...ctx.env, ...spec.env };
}

function codexOf(spec: HostSpec, ctx: ConnectContext): string {
  return spec.codexBin ?? (spec.kind === 'ssh' ? 'codex' : ctx.codexBin);
}

/** The command that runs `codexArgs` of the host's codex there: directly, or through ssh. */
function hostArgv(spec: HostSpec, ctx: ConnectContext, codexArgs: string[]): string[] {
  const argv = [codexOf(spec, ctx), ...codexArgs];
  return spec.kind === 'ssh' ? sshArgv(spec.ssh!, spec.sshOptions, argv, spec.env) : argv;
}

function where(spec: HostSpec): string {
  return spec.kind === 'ssh' ? `host "${spec.name}" (${describeSshTarget(spec.ssh!)})` : 'this machine';
}

/** How to fix a codex binary that cannot be started on the host. */
function notFoundHint(spec: HostSpec): string {
  return spec.kind === 'local' && spec.codexBin === null
    ? 'set --codex-bin or CM_SUPERVISOR_CODEX_BIN, or `cm-supervisor host set local --codex-bin PATH`'
    : `fix it with \`cm-supervisor host set ${spec.name} --codex-bin PATH\``;
}

/** Codex's daemon, when it answers; null (with a note) when this host should use a private child. */
async function attach(spec: HostSpec, ctx: ConnectContext, notes: string[]): Promise<AppServerConnection | null> {
  const mustAttach = spec.codexDaemon === 'start';
  if (spec.kind === 'local') {
    const socket = controlSocketPath({ ...process.env, ...localEnv(spec, ctx) });
    if (!mustAttach && !existsSync(socket)) return null;
    try {
      return await handshake(ctx, () => openSocketTransport(socket, { now: ctx.now }), {});
    } catch (error) {
      if (mustAttach) throw error;
      notes.push(`Codex's daemon socket ${socket} did not answer (${firstLine(error)}); using a private app-server`);
      return null;
    }
  }
  const argv = hostArgv(spec, ctx, ['app-server', 'proxy']);
  try {
    return await handshake(ctx, () => openChildWebSocketTransport({ argv }, { now: ctx.now, description: `Codex's daemon on ${where(spec)} (through ssh)` }), {});
  } catch (error) {
    // ssh itself failed: a private app-server over ssh would fail the same way.
    if (error instanceof TransportOpenError && error.exit?.code === SSH_FAILED) throw unreachable(spec, error.stderrTail);
    if (mustAttach) throw error;
    if (error instanceof TransportOpenError && error.exit?.code === COMMAND_NOT_FOUND) throw codexMissing(spec, ctx, error.stderrTail);
    return null;
  }
}

async function openPrivate(spec: HostSpec, ctx: ConnectContext): Promise<AppServerConnection> {
  const argv = hostArgv(spec, ctx, ['app-server']);
  if (spec.kind === 'local') {
    // One app-server serves every workspace: each thread names its own directory.
    const env = localEnv(spec, ctx);
    return handshake(ctx, () => openStdioTransport({ argv, env, cwd: homedir() }, { now: ctx.now }), { argv, notFoundHint: notFoundHint(spec) });
  }
  try {
    return await handshake(ctx, () => openStdioTransport({ argv }, { now: ctx.now, description: `the app-server on ${where(spec)} (through ssh)` }), { argv, notFoundHint: 'install OpenSSH (ssh) on this machine' });
  } catch (error) {
    if (error instanceof HandshakeError && error.childExitCode === SSH_FAILED) throw unreachable(spec, error.stderrTail);
    if (error instanceof HandshakeError && error.childExitCode === COMMAND_NOT_FOUND) throw codexMissing(spec, ctx, error.stderrTail);
    throw error;
  }
}

async function startCodexDaemon(spec: HostSpec, ctx: ConnectContext): Promise<void> {
  const argv = hostArgv(spec, ctx, ['app-server', 'daemon', 'start']);
  const result = await runCommand({ argv, env: spec.kind === 'ssh' ? {} : localEnv(spec, ctx), timeoutMs: DAEMON_START_TIMEOUT_MS });
  if (result.code === 0) return;
  const stderr = result.stderr.trim().split('\n').slice(-5);
  if (spec.kind === 'ssh' && result.code === SSH_FAILED) throw unreachable(spec, stderr);
  const how = result.spawnError ? result.spawnError.message : result.timedOut ? `no answer within ${DAEMON_START_TIMEOUT_MS / 1000}s` : `exit code ${result.code}`;
  throw new SupervisorError(
    `could not start Codex's daemon on ${where(spec)} (\`codex app-server daemon start\`: ${how})${stderr.length > 0 ? `: ${stderr.join(' / ')}` : ''}; or use \`cm-supervisor host set ${spec.name} --codex-daemon attach\``,
  );
}

async function handshake(ctx: ConnectContext, transport: TransportFactory, extra: Pick<ConnectionOptions, 'argv' | 'notFoundHint'>): Promise<AppServerConnection> {
  const connection = new AppServerConnection({ ...ctx.connection, ...extra, transport, ...(ctx.now ? { now: ctx.now } : {}) });
  const onAbort = () => void connection.stop();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await connection.start();
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
  }
  return connection;
}

function unreachable(spec: HostSpec, stderrTail: string[]): SupervisorError {
  const said = stderrTail.filter((l) => l.trim() !== '').slice(-2).join(' / ');
  return new SupervisorError(
    `${where(spec)} is unreachable${said ? `: ${said}` : ''}; check that \`ssh -o BatchMode=yes ${describeSshTarget(spec.ssh!)} true\` works without a password (a key in ssh-agent, or --ssh-option IdentityFile=…; a known host key)`,
  );
}

function codexMissing(spec: HostSpec, ctx: ConnectContext, stderrTail: string[]): SupervisorError {
  const said = stderrTail.filter((l) => l.trim() !== '').slice(-1).join('');
  return new SupervisorError(`codex was not found on ${where(spec)} as "${codexOf(spec, ctx)}"${said ? ` (${said})` : ''}; ${notFoundHint(spec)}`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function firstLine(error: unknown): string {
  return errorText(error).split('\n')[0] ?? '';
}
