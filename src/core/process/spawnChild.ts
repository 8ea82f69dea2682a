import { execa } from 'execa';
import type { Readable, Writable } from 'node:stream';
import { within } from '../util/timeout.js';

/** How a child ended. `spawnError` is set when it never started (e.g. ENOENT). */
export interface ChildExit {
  code: number | null;
  signal: string | null;
  spawnError: { code: string | undefined; message: string } | null;
}

export interface ChildSpec {
  /** argv[0] is the executable; no shell is involved, so no argument is ever interpreted. */
  argv: readonly string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
}

export interface ManagedChild {
  readonly pid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves once the child is gone; never rejects. */
  readonly exited: Promise<ChildExit>;
  /** End stdin, then SIGTERM after `graceMs`, then SIGKILL after `graceMs` more; always reaped, with its process group. */
  stop(graceMs?: number): Promise<ChildExit>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * execa's options for every process we start: argv only (no shell), streams unbuffered, never
 * rejected (the outcome is a value), killed with us, and in a process group of its own so that
 * helpers it leaves behind (codex runs short-lived shells) can be reaped with it.
 */
export const CHILD_OPTIONS = {
  extendEnv: true,
  stdout: 'pipe',
  stderr: 'pipe',
  buffer: false,
  reject: false,
  cleanup: true,
  detached: true,
  forceKillAfterDelay: false,
  encoding: 'buffer',
} as const;

/** The only place in cm-supervisor that starts long-lived processes. */
export function spawnChild(spec: ChildSpec): ManagedChild {
  const [file, ...args] = spec.argv;
  if (file === undefined || file === '') throw new Error('cannot start a process: the command is empty');
  const subprocess = execa(file, args, {
    ...CHILD_OPTIONS,
    cwd: spec.cwd,
    env: spec.env,
    // Our death still ends it although it has its own process group: its stdin closes and
    // app-servers exit on EOF.
    stdin: 'pipe',
  });
  // Writing to a child that died raises EPIPE on stdin; the exit is reported through `exited`.
  subprocess.stdin.on('error', () => {});
  subprocess.stdout.on('error', () => {});
  subprocess.stderr.on('error', () => {});

  let done = false;
  const reapGroup = () => {
    if (subprocess.pid === undefined) return;
    try {
      process.kill(-subprocess.pid, 'SIGKILL');
    } catch {
      // No process left in the group: the usual case.
    }
  };
  const exited: Promise<ChildExit> = subprocess.then(
    (result) => {
      done = true;
      reapGroup();
      const spawnFailed = result.failed && result.exitCode === undefined && result.signal === undefined;
      return {
        code: result.exitCode ?? null,
        signal: result.signal ?? null,
        spawnError: spawnFailed ? { code: result.code, message: result.shortMessage ?? 'could not start' } : null,
      };
    },
    (error: unknown) => {
      done = true;
      reapGroup();
      return { code: null, signal: null, spawnError: { code: undefined, message: String(error) } };
    },
  );

  const waitFor = async (ms: number): Promise<boolean> => (await within(exited, ms)) !== null;

  return {
    pid: subprocess.pid,
    stdin: subprocess.stdin,
    stdout: subprocess.stdout,
    stderr: subprocess.stderr,
    exited,
    kill: (signal) => {
      if (!done) subprocess.kill(signal);
    },
    async stop(graceMs = 2000) {
      if (!done) subprocess.stdin.end();
      if (!done && !(await waitFor(graceMs))) {
        subprocess.kill('SIGTERM');
        if (!(await waitFor(graceMs))) subprocess.kill('SIGKILL');
      }
      return exited;
    },
  };
}
