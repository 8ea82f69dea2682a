/**
 * What kind of failure ended a plan action's turn, which decides what the scheduler does next:
 * `transient` (the API or the connection hiccuped: retried under the action's `retry` policy),
 * `quota` (the account's usage limit: paused until the limit resets), `permanent` (the task
 * itself failed, or the request is wrong: never retried).
 */
export type FailureKind = 'transient' | 'quota' | 'permanent';

/** Codex's error kinds that say "try again later", whatever the HTTP status. */
const TRANSIENT_KINDS = new Set(['serverOverloaded', 'internalServerError', 'rateLimitExceeded']);
/** Kinds that carry the upstream HTTP status: transient for none (the connection), 429 and 5xx. */
const HTTP_KINDS = new Set(['httpConnectionFailed', 'responseStreamConnectionFailed', 'responseStreamDisconnected', 'responseTooManyFailedAttempts']);

/**
 * Codex 0.171 reports a model stream cut after its own retries as `other`, in the turn's error
 * and in the `error` notification before it (measured, test/mockModel.realBinary.test.ts): no
 * structured field says "stream", so for `other` (or nothing) only this message tells it.
 */
const STREAM_CUT = /^stream disconnected before completion\b/;

/**
 * Classifies `codexErrorInfo` as `turn/completed` reports it (a string, or an object keyed by
 * the kind with `httpStatusCode`); `message` is the error's text, read only when the info says
 * nothing structured (see STREAM_CUT). Anything unknown is permanent: retrying what we do not
 * understand could repeat a task's side effects for nothing.
 */
export function failureKindOf(codexErrorInfo: unknown, message: string | null = null): FailureKind {
  const kind = typeof codexErrorInfo === 'string' ? codexErrorInfo : typeof codexErrorInfo === 'object' && codexErrorInfo !== null ? (Object.keys(codexErrorInfo)[0] ?? null) : null;
  if ((kind === null || kind === 'other') && message !== null && STREAM_CUT.test(message)) return 'transient';
  if (kind === null) return 'permanent';
  if (kind === 'usageLimitExceeded') return 'quota';
  if (TRANSIENT_KINDS.has(kind)) return 'transient';
  if (HTTP_KINDS.has(kind)) {
    const status = httpStatusOf((codexErrorInfo as Record<string, unknown>)[kind]);
    return status === null || status === 429 || (status >= 500 && status <= 599) ? 'transient' : 'permanent';
  }
  return 'permanent';
}

function httpStatusOf(details: unknown): number | null {
  if (typeof details !== 'object' || details === null) return null;
  const status = (details as { httpStatusCode?: unknown }).httpStatusCode;
  return typeof status === 'number' ? status : null;
}
