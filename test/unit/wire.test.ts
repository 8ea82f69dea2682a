import { describe, expect, it } from 'vitest';
import { classifyLine, codexVersionFromUserAgent } from '../../src/core/protocol/wire.js';

describe('classifyLine', () => {
  it('tells server requests, notifications and responses apart even when ids collide', () => {
    expect(classifyLine('{"id":0,"method":"item/commandExecution/requestApproval","params":{}}')).toMatchObject({ type: 'serverRequest', id: 0 });
    expect(classifyLine('{"id":0,"result":{"userAgent":"x"}}')).toMatchObject({ type: 'response', id: 0 });
    expect(classifyLine('{"method":"turn/started","params":{"threadId":"t"},"emittedAtMs":17}')).toMatchObject({ type: 'notification', method: 'turn/started', emittedAtMs: 17 });
    expect(classifyLine('{"id":4,"error":{"code":-32600,"message":"Not initialized"}}')).toMatchObject({ type: 'errorResponse', id: 4, error: { code: -32600 } });
  });

  it('keeps unknown fields and tolerates a jsonrpc member', () => {
    const r = classifyLine('{"jsonrpc":"2.0","method":"future/thing","params":{"x":1},"extra":true}');
    expect(r).toMatchObject({ type: 'notification', method: 'future/thing', params: { x: 1 } });
  });

  it('explains what is wrong with a bad line', () => {
    expect(classifyLine('not json')).toMatchObject({ type: 'invalid', reason: expect.stringContaining('not JSON') });
    expect(classifyLine('[1,2]')).toEqual({ type: 'invalid', reason: 'not a JSON object' });
    expect(classifyLine('{"hello":1}')).toMatchObject({ type: 'invalid', reason: expect.stringContaining('no method, no id') });
    expect(classifyLine('{"id":{"x":1},"result":1}')).toMatchObject({ type: 'invalid', reason: expect.stringContaining('bad response') });
    expect(classifyLine('{"method":7}')).toMatchObject({ type: 'invalid', reason: expect.stringContaining('bad notification') });
  });
});

describe('codexVersionFromUserAgent', () => {
  it('reads the version after the originator', () => {
    expect(codexVersionFromUserAgent('cm_supervisor/0.171.0 (Debian 12.0.0; x86_64) xterm (cm_supervisor; 0.1.0)')).toBe('0.171.0');
    expect(codexVersionFromUserAgent('cm_supervisor/0.172.0-alpha.1 (x)')).toBe('0.172.0-alpha.1');
    expect(codexVersionFromUserAgent('garbage')).toBeNull();
  });
});
