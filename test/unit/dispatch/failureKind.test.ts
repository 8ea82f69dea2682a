import { describe, expect, it } from 'vitest';
import { failureKindOf } from '../../../src/core/dispatch/failureKind.js';

describe('failureKindOf: what Codex reports → what the scheduler does', () => {
  it.each([
    ['usageLimitExceeded', 'quota'],
    ['internalServerError', 'transient'],
    ['serverOverloaded', 'transient'],
    ['rateLimitExceeded', 'transient'],
    [{ responseTooManyFailedAttempts: { httpStatusCode: 429 } }, 'transient'],
    [{ responseStreamDisconnected: { httpStatusCode: 502 } }, 'transient'],
    [{ responseStreamConnectionFailed: { httpStatusCode: null } }, 'transient'],
    [{ httpConnectionFailed: { httpStatusCode: 503 } }, 'transient'],
    [{ httpConnectionFailed: {} }, 'transient'],
    ['httpConnectionFailed', 'transient'],
    [{ httpConnectionFailed: { httpStatusCode: 404 } }, 'permanent'],
    [{ responseTooManyFailedAttempts: { httpStatusCode: 400 } }, 'permanent'],
    ['contextWindowExceeded', 'permanent'],
    ['badRequest', 'permanent'],
    ['unauthorized', 'permanent'],
    ['sandboxError', 'permanent'],
    ['other', 'permanent'],
    ['someFutureKind', 'permanent'],
    [null, 'permanent'],
    [undefined, 'permanent'],
  ] as const)('%j → %s', (info, kind) => {
    expect(failureKindOf(info)).toBe(kind);
  });

  it.each([
    ['other', 'stream disconnected before completion: Transport error: network error: error decoding response body', 'transient'],
    ['other', 'stream disconnected before completion: idle timeout waiting for SSE', 'transient'],
    [null, 'stream disconnected before completion', 'transient'],
    ['other', '{"error":{"message":"mock upstream error 400","type":"server_error"}}', 'permanent'],
    ['other', 'the model said: stream disconnected before completion', 'permanent'],
    // Structured info wins over the text.
    ['contextWindowExceeded', 'stream disconnected before completion', 'permanent'],
    ['usageLimitExceeded', 'stream disconnected before completion', 'quota'],
  ] as const)('%j with the message %j → %s (a cut stream is told by its message only)', (info, message, kind) => {
    expect(failureKindOf(info, message)).toBe(kind);
  });
});
