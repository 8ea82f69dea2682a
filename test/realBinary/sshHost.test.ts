// ssh hosts against a real OpenSSH server on 127.0.0.1 (test/support/sshd.ts): arguments and
// environment arrive byte for byte, the probes tell their failures apart, and nothing survives.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBundledCodexBinary } from '../../src/core/codexBinary.js';
import type { HostSpec, SshTarget } from '../../src/core/hosts/hostSpec.js';
import { probeRemoteCodex, probeRemoteDirectory } from '../../src/core/hosts/remoteProbe.js';
import { sshArgv } from '../../src/core/hosts/ssh.js';
import { runCommand } from '../../src/core/process/runCommand.js';
import { childPids, isAlive } from '../support/processes.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';

let sshd: SshdHandle;

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
});

function sshHost(overrides: Partial<HostSpec> = {}): HostSpec {
  return {
    name: 'loop',
    kind: 'ssh',
    ssh: sshd.target,
    sshOptions: sshd.sshOptions,
    codexBin: null,
    codexDaemon: 'never',
    env: {},
    command: null,
    ...overrides,
  };
}

/** A port on 127.0.0.1 that nothing listens on (free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether a remote `sleep` runs under this sshd: the session is past authentication. */
function remoteSleepRuns(server: SshdHandle): boolean {
  return childPids(server.sshdPid).some((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep';
    } catch {
      return false;
    }
  });
}

const printArgs = 'console.log(JSON.stringify({ argv: process.argv.slice(1), a: process.env.CM_A ?? null, b: process.env.CM_B ?? null }))';

describe('ssh host against a real sshd', () => {
  it('delivers weird arguments byte for byte', async () => {
    const weird = [
      "it's",
      '"double"',
      'a b  c',
      '$HOME',
      '${HOME}',
      '$(id)',
      '`id`',
      ';rm -rf x',
      '&& echo pwned',
      '| cat',
      '> /tmp/x',
      'line1\nline2',
      'tab\there',
      'unicode ✓ 日本語 é 😀',
      '',
      '-rf',
      '--',
      '*',
      '~',
      '!x',
      '#x',
      '=x',
      'A=b',
      'back\\slash',
      "'\\''",
    ];
    const result = await runCommand({ argv: sshArgv(sshd.target, sshd.sshOptions, [process.execPath, '-e', printArgs, ...weird]), timeoutMs: 10_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ argv: weird, a: null, b: null });
  });

  it('sets the environment of the remote command', async () => {
    const env = { CM_A: "it's $HOME; `x`\nnext ✓", CM_B: '' };
    const result = await runCommand({ argv: sshArgv(sshd.target, sshd.sshOptions, [process.execPath, '-e', printArgs, 'x'], env), timeoutMs: 10_000 });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ argv: ['x'], a: env.CM_A, b: '' });
  });

  it('takes the first value of an option, so the user options override our defaults but not the URL port', async () => {
    const target: SshTarget = { ...sshd.target, port: 2222 };
    const argv = sshArgv(target, ['ServerAliveInterval=5', 'Port=7'], ['true']);
    // ssh -G prints the configuration it would use and exits without connecting.
    const result = await runCommand({ argv: [argv[0]!, '-G', ...argv.slice(1)], timeoutMs: 10_000 });
    expect(result.code).toBe(0);
    const config = new Map(result.stdout.split('\n').map((line) => [line.split(' ')[0], line.slice(line.indexOf(' ') + 1)] as const));
    expect(config.get('serveraliveinterval')).toBe('5');
    expect(config.get('serveralivecountmax')).toBe('3');
    expect(config.get('port')).toBe('2222');
    expect(config.get('batchmode')).toBe('yes');
  });

  it('probes a remote directory: ok, not a directory, unreachable', async () => {
    const odd = join(sshd.dir, "work dir 'quoted' $x");
    await mkdir(odd);
    await writeFile(join(sshd.dir, 'file'), '');
    expect(await probeRemoteDirectory(sshHost(), sshd.dir)).toEqual({ ok: true });
    expect(await probeRemoteDirectory(sshHost(), odd)).toEqual({ ok: true });

    const missing = join(sshd.dir, 'missing');
    expect(await probeRemoteDirectory(sshHost(), missing)).toEqual({
      ok: false,
      reason: 'notDirectory',
      message: `${missing} is not a directory on loop (${sshd.url}): create it there or give the path of an existing directory`,
    });
    expect(await probeRemoteDirectory(sshHost(), join(sshd.dir, 'file'))).toMatchObject({ ok: false, reason: 'notDirectory' });

    const port = await closedPort();
    const refused = await probeRemoteDirectory(sshHost({ ssh: { ...sshd.target, port } }), sshd.dir);
    expect(refused).toMatchObject({ ok: false, reason: 'unreachable' });
    const message = (refused as { message: string }).message;
    expect(message).toContain(`cannot reach loop (ssh://${sshd.user}@127.0.0.1:${port}): ssh failed (exit code 255): `);
    expect(message).toContain(`ssh: connect to host 127.0.0.1 port ${port}: Connection refused`);
    expect(message).toContain(`Check that \`ssh -o BatchMode=yes -p ${port} -o IdentityFile=`);
    expect(message).toContain('a key in ssh-agent or one given with --ssh-option IdentityFile=…');
    expect(message).toContain('a known host key');
  });

  it('reports a refused key and an unknown host key as unreachable, with what ssh said', async () => {
    const otherKey = join(sshd.dir, 'id').replace(/id$/, 'hostkey'); // a key sshd does not accept for logins
    const options = sshd.sshOptions.map((o) => (o.startsWith('IdentityFile=') ? `IdentityFile=${otherKey}` : o));
    const denied = await probeRemoteDirectory(sshHost({ sshOptions: options }), sshd.dir);
    expect(denied).toMatchObject({ ok: false, reason: 'unreachable' });
    expect((denied as { message: string }).message).toMatch(/ssh failed \(exit code 255\): .*Permission denied \(publickey/);

    const emptyKnownHosts = join(sshd.dir, 'known_hosts.empty');
    await writeFile(emptyKnownHosts, '');
    const unknown = sshd.sshOptions.map((o) => (o.startsWith('UserKnownHostsFile=') ? `UserKnownHostsFile=${emptyKnownHosts}` : o));
    const notKnown = await probeRemoteDirectory(sshHost({ sshOptions: unknown }), sshd.dir);
    expect((notKnown as { message: string }).message).toMatch(/Host key verification failed/);
  });

  it('reports a server that never answers as unreachable after the timeout', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket)); // accepts, never sends the ssh banner
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as { port: number };
      const started = Date.now();
      const result = await probeRemoteDirectory(sshHost({ ssh: { ...sshd.target, port } }), '/', 500);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(result).toMatchObject({ ok: false, reason: 'unreachable' });
      expect((result as { message: string }).message).toMatch(/^cannot reach loop \(ssh:\/\/.*\): ssh did not finish within 0\.5 s\. Check that/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('finds the real codex binary and says how to fix a missing one', async () => {
    const codexBin = requireBundledCodexBinary();
    const found = await probeRemoteCodex(sshHost({ codexBin, env: { CODEX_HOME: sshd.dir } }), 15_000);
    expect(found).toMatchObject({ ok: true });
    expect((found as { version: string }).version).toMatch(/^codex-cli \d+\.\d+\.\d+/);

    const missing = await probeRemoteCodex(sshHost({ codexBin: '/nonexistent/codex' }), 10_000);
    expect(missing).toMatchObject({ ok: false, reason: 'codexMissing' });
    const message = (missing as { message: string }).message;
    expect(message).toContain(`codex was not found on loop (${sshd.url}) as "/nonexistent/codex"`);
    expect(message).toContain('/nonexistent/codex: No such file or directory');
    expect(message).toContain('set the host\'s codex binary with `cm-supervisor host set loop --codex-bin PATH`');

    const port = await closedPort();
    expect(await probeRemoteCodex(sshHost({ ssh: { ...sshd.target, port } }), 10_000)).toMatchObject({ ok: false, reason: 'unreachable' });
  });

  it('a killed connection ends the ssh client with 255 and "closed by remote host"', async () => {
    const running = runCommand({ argv: sshArgv(sshd.target, sshd.sshOptions, ['sleep', '30']), timeoutMs: 20_000 });
    await expect.poll(() => remoteSleepRuns(sshd), { timeout: 5000 }).toBe(true);
    const killed = sshd.killConnections();
    expect(killed.length).toBeGreaterThan(0);
    const started = Date.now();
    const result = await running;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result).toMatchObject({ code: 255, timedOut: false });
    // ssh ends this line with CRLF, even without a terminal.
    expect(result.stderr).toBe('Connection to 127.0.0.1 closed by remote host.\r\n');
    await expect.poll(() => killed.some(isAlive), { timeout: 2000 }).toBe(false);
  });
});

describe('startSshd', () => {
  it('stop() leaves no sshd process behind, connections and their commands included', async () => {
    const own = await startSshd();
    const running = runCommand({ argv: sshArgv(own.target, own.sshOptions, ['sleep', '30']), timeoutMs: 20_000 });
    await expect.poll(() => remoteSleepRuns(own), { timeout: 5000 }).toBe(true);
    expect(own.connectionPids().length).toBeGreaterThan(0);
    const pids = [own.sshdPid, ...childPids(own.sshdPid)];
    expect(pids.length).toBeGreaterThanOrEqual(3); // listener, connection, sleep
    await own.stop();
    expect(pids.filter(isAlive)).toEqual([]);
    expect((await running).code).toBe(255);
    expect(existsSync(own.dir)).toBe(false);
  });
});
