import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AppServerConnection, type ConnectionEvent, type ConnectionOptions } from '../../src/core/connection/appServerConnection.js';
import { CodexNotFoundError, ConnectionClosedError, HandshakeError, RequestTimeoutError, RpcRequestError } from '../../src/core/errors.js';

const fake = fileURLToPath(new URL('../support/fakeAppServer.mjs', import.meta.url));
const open: AppServerConnection[] = [];

function connect(extraArgs: string[] = [], options: Partial<ConnectionOptions> = {}) {
  const connection = new AppServerConnection({ argv: [process.execPath, fake, ...extraArgs], stopGraceMs: 300, ...options });
  const events: ConnectionEvent[] = [];
  connection.on((e) => events.push(e));
  open.push(connection);
  return { connection, events };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.stop()));
});

describe('AppServerConnection (fake app-server)', () => {
  it('handshakes, records the version and delivers notifications with emittedAtMs', async () => {
    const { connection, events } = connect();
    const info = await connection.start();
    expect(info.codexVersion).toBe('0.171.0');
    expect(info.codexHome).toBe('/tmp/fake-home');
    await expect.poll(() => events.find((e) => e.type === 'notification')).toMatchObject({
      notification: { method: 'configWarning', emittedAtMs: expect.any(Number), receivedAtMs: expect.any(Number) },
    });
    expect(events.some((e) => e.type === 'warning')).toBe(false);
    expect(await connection.request('echo', { a: 1 })).toEqual({ a: 1 });
  });

  it('warns when the server version differs from the generated types', async () => {
    const { connection, events } = connect(['--version', '0.200.0']);
    await connection.start();
    const warning = events.find((e) => e.type === 'warning');
    expect(warning).toMatchObject({ message: expect.stringContaining('version 0.200.0') });
    expect(warning).toMatchObject({ message: expect.stringContaining('0.171.0') });
  });

  it('logs and skips malformed lines and responses to unknown ids, and stays usable', async () => {
    const { connection, events } = connect();
    await connection.start();
    expect(await connection.request('garbage')).toEqual({ ok: true });
    const errors = events.filter((e) => e.type === 'protocolError');
    expect(errors.map((e) => (e.type === 'protocolError' ? e.reason : ''))).toEqual([
      expect.stringContaining('not JSON'),
      expect.stringContaining('not JSON'),
      'not a JSON object',
      'response to unknown request id 987654',
    ]);
    expect(await connection.request('echo', 'still here')).toBe('still here');
    expect(connection.isClosed).toBe(false);
  });

  it('reads CRLF-terminated lines and multi-megabyte notifications', async () => {
    const { connection, events } = connect();
    await connection.start();
    expect(await connection.request('crlf')).toEqual({ ok: true });
    await connection.request('bigNotify', { bytes: 3 * 1024 * 1024 });
    const big = events.find((e) => e.type === 'notification' && e.notification.method === 'fake/big');
    expect(big?.type === 'notification' && (big.notification.params as { text: string }).text.length).toBe(3 * 1024 * 1024);
  });

  it('surfaces JSON-RPC errors with method and code', async () => {
    const { connection } = connect();
    await connection.start();
    const error = await connection.request('no/such/method').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcRequestError);
    expect((error as RpcRequestError).code).toBe(-32600);
    expect((error as Error).message).toContain('no/such/method failed: Invalid request');
  });

  it('retries -32001 overload errors with backoff, then gives up', async () => {
    const { connection } = connect([], { overloadBaseDelayMs: 5, overloadRetries: 3 });
    await connection.start();
    expect(await connection.request('overload', { times: 2 })).toEqual({ ok: true, overloads: 2 });
    const error = await connection.request('overload', { times: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcRequestError);
    expect((error as RpcRequestError).code).toBe(-32001);
  });

  it('times out a request the server never answers, and stays usable', async () => {
    const { connection } = connect();
    await connection.start();
    const error = await connection.request('never', {}, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as Error).message).toMatch(/never got no answer .* within 0\.2s/);
    expect(await connection.request('echo', 1)).toBe(1);
  });

  it('answers a server request with no handler by an explicit error', async () => {
    const { connection, events } = connect();
    await connection.start();
    await connection.request('ask', { method: 'item/tool/call' });
    await expect.poll(() => events.find((e) => e.type === 'notification' && e.notification.method === 'fake/reply')).toMatchObject({
      notification: { params: { method: 'item/tool/call', reply: { id: 0, error: { code: -32601, message: 'cm-supervisor cannot answer item/tool/call' } } } },
    });
  });

  it('sends a handler result back under the server request id', async () => {
    const { connection, events } = connect();
    connection.onServerRequest((req) => (req.method === 'item/commandExecution/requestApproval' ? Promise.resolve({ decision: 'decline' }) : undefined));
    await connection.start();
    await connection.request('ask', { method: 'item/commandExecution/requestApproval' });
    await expect.poll(() => events.find((e) => e.type === 'notification' && e.notification.method === 'fake/reply')).toMatchObject({
      notification: { params: { reply: { id: 0, result: { decision: 'decline' } } } },
    });
  });

  it('rejects every pending request and reports a disconnect when the child dies', async () => {
    const { connection, events } = connect();
    await connection.start();
    const pending = connection.request('never', {}, { timeoutMs: 30_000 });
    const crash = connection.request('crash', { code: 101 });
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(crash).rejects.toThrow(/exited with code 101/);
    const disconnect = events.find((e) => e.type === 'disconnected');
    expect(disconnect).toMatchObject({
      disconnect: { code: 101, reason: 'exit', stderrTail: ['thread main panicked at fake.rs:1'] },
    });
    await expect(connection.request('echo', 1)).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('reports SIGKILL as a disconnect with the signal', async () => {
    const { connection, events } = connect();
    await connection.start();
    const pending = connection.request('never', {}, { timeoutMs: 30_000 });
    connection.kill('SIGKILL');
    await expect(pending).rejects.toThrow(/killed by SIGKILL/);
    expect(events.find((e) => e.type === 'disconnected')).toMatchObject({ disconnect: { signal: 'SIGKILL', code: null } });
  });

  it('treats a closed stdout as a disconnect and reaps the child', async () => {
    const { connection, events } = connect();
    await connection.start();
    await connection.request('closeStdout');
    await expect.poll(() => events.find((e) => e.type === 'disconnected'), { timeout: 5_000 }).toMatchObject({
      disconnect: { reason: 'stdoutClosed' },
    });
  });

  it('fails clearly when the binary is missing', async () => {
    const connection = new AppServerConnection({ argv: ['/nonexistent/bin/codex', 'app-server'] });
    const error = await connection.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodexNotFoundError);
    expect((error as Error).message).toBe('codex not found at /nonexistent/bin/codex; set --codex-bin or CM_SUPERVISOR_CODEX_BIN');
  });

  it('names a missing non-codex command (e.g. ssh) in its own words', async () => {
    const connection = new AppServerConnection({ argv: ['no-such-ssh-xyz', 'host', 'codex', 'app-server'] });
    await expect(connection.start()).rejects.toThrow('no-such-ssh-xyz not found (from the command "no-such-ssh-xyz host codex app-server")');
  });

  it('includes the stderr tail when the child exits during the handshake', async () => {
    const { connection } = connect(['--die-at-once']);
    const error = await connection.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as Error).message).toMatch(/exited during the handshake \(code 3\)/);
    expect((error as Error).message).toContain('fatal: could not read config.toml: invalid key');
  });

  it('gives up on a child that never answers initialize, and stops it', async () => {
    const { connection, events } = connect(['--no-init-reply'], { handshakeTimeoutMs: 300 });
    const error = await connection.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as Error).message).toContain('did not complete the handshake: initialize got no answer');
    await expect.poll(() => events.some((e) => e.type === 'disconnected')).toBe(true);
  });

  it('escalates to SIGTERM and SIGKILL when the child ignores the end of stdin', async () => {
    const { connection, events } = connect(['--ignore-stop'], { stopGraceMs: 200 });
    await connection.start();
    const exit = await connection.stop();
    expect(exit?.signal).toBe('SIGKILL');
    await expect.poll(() => events.find((e) => e.type === 'disconnected')).toMatchObject({ disconnect: { reason: 'stopped' } });
  });
});
