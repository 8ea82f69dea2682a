/**
 * Errors that reach the user. `exitCode` follows the CLI contract: 1 = the work failed,
 * 2 = usage or invalid input. Only src/cli prints them and sets the process exit code.
 */
export class SupervisorError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class CodexNotFoundError extends SupervisorError {}

/** The app-server did not complete the handshake; `exitCode`/`stderrTail` of its child when it had one. */
export class HandshakeError extends SupervisorError {
  constructor(
    message: string,
    exitCode: 1 | 2 = 1,
    options?: { cause?: unknown; childExitCode?: number | null; stderrTail?: string[] },
  ) {
    super(message, exitCode, options);
    this.childExitCode = options?.childExitCode ?? null;
    this.stderrTail = options?.stderrTail ?? [];
  }

  readonly childExitCode: number | null;
  readonly stderrTail: string[];
}

export class ConnectionClosedError extends SupervisorError {}

export class RequestTimeoutError extends SupervisorError {}

/** The app-server answered a request with a JSON-RPC error. */
export class RpcRequestError extends SupervisorError {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly rpcMessage: string,
    readonly data?: unknown,
  ) {
    super(`${method} failed: ${rpcMessage} (code ${code})`);
  }
}

/** A plan that failed validation: every problem, each with its JSON path. Nothing was dispatched. */
export class PlanValidationError extends SupervisorError {
  constructor(
    readonly problems: { path: string; message: string }[],
    source = 'the plan',
  ) {
    super(
      `${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was dispatched:\n${problems
        .map((p) => `  ${p.path || '(file)'}: ${p.message}`)
        .join('\n')}`,
      2,
    );
  }
}
