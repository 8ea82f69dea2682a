import { execa } from 'execa';
import { CHILD_OPTIONS } from './spawnChild.js';
import type { Readable } from 'node:stream';

export interface CommandSpec {
  /** argv[0] is the executable; no shell is involved, so no argument is ever interpreted. */
  argv: readonly string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** After this long the command and its whole process group are killed (SIGKILL). */
  timeoutMs: number;
  /** How much of each of stdout and stderr is kept (the first bytes); the rest is read and dropped. Default 1 MiB. */
  maxOutputBytes?: number;
}

export interface CommandResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Output beyond `maxOutputBytes` was dropped. */
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** It ran out of time and was killed. */
  timedOut: boolean;
  /** It never started (e.g. ENOENT for a missing executable or directory). */
  spawnError: { code?: string; message: string } | null;
}

const DEFAULT_MAX_OUTPUT = 1024 * 1024;
/** After the kill, how long the pipes may stay open (held by a process outside the group). */
const PIPE_GRACE_MS = 1000;

/**
 * Runs a short command to its end and returns what happened; never rejects. stdin is /dev/null
 * (ssh would otherwise read ours). It runs in its own process group, which is SIGKILLed once
 * the command exits (no helper it left behind keeps our pipes open) or when it runs out of time.
 */
export async function runCommand(spec: CommandSpec): Promise<CommandResult> {
  const [file, ...args] = spec.argv;
  const stdout = new BoundedSink(spec.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  const stderr = new BoundedSink(spec.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  const finish = (rest: Pick<CommandResult, 'code' | 'signal' | 'timedOut' | 'spawnError'>): CommandResult => ({
    ...rest,
    stdout: stdout.text(),
    stderr: stderr.text(),
    stdoutTruncated: stdout.truncated,
    stderrTruncated: stderr.truncated,
  });
  if (file === undefined || file === '') {
    return finish({ code: null, signal: null, timedOut: false, spawnError: { message: 'cannot start a process: the command is empty' } });
  }

  let subprocess;
  try {
    subprocess = execa(file, args, { ...CHILD_OPTIONS, cwd: spec.cwd, env: spec.env, stdin: 'ignore' });
  } catch (error) {
    // execa throws synchronously only for invalid options.
    return finish({ code: null, signal: null, timedOut: false, spawnError: { message: String(error) } });
  }
  const pid = subprocess.pid;
  const killGroup = (): void => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // No process left in the group: the usual case.
    }
  };
  stdout.drain(subprocess.stdout);
  stderr.drain(subprocess.stderr);

  let exited = false;
  subprocess.once('exit', () => {
    exited = true;
    killGroup();
  });
  let timedOut = false;
  let pipeTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = !exited;
    killGroup();
    // A process that left the group may still hold the pipes: stop waiting for them.
    pipeTimer = setTimeout(() => {
      subprocess.stdout.destroy();
      subprocess.stderr.destroy();
    }, exited ? 0 : PIPE_GRACE_MS);
  }, spec.timeoutMs);

  try {
    const result = await subprocess;
    const spawnFailed = result.failed && result.exitCode === undefined && result.signal === undefined;
    return finish({
      code: result.exitCode ?? null,
      signal: result.signal ?? null,
      timedOut,
      spawnError: spawnFailed && !timedOut ? { code: result.code, message: result.shortMessage ?? 'could not start' } : null,
    });
  } catch (error) {
    return finish({ code: null, signal: null, timedOut, spawnError: { message: String(error) } });
  } finally {
    clearTimeout(timer);
    clearTimeout(pipeTimer);
  }
}

/** Keeps the first `limit` bytes of a stream and reads (and drops) the rest. */
class BoundedSink {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  drain(stream: Readable): void {
    stream.on('error', () => {});
    stream.on('data', (chunk: Buffer) => {
      const room = this.limit - this.kept;
      if (chunk.length > room) this.truncated = true;
      if (room <= 0) return;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(part);
      this.kept += part.length;
    });
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
