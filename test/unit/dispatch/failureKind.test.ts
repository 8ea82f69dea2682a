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
});
