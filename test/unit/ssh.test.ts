// ssh hosts without a network: URL parsing, ssh's argv, quoting for the remote shell (round trips
// through real local shells, which parse the command line the way sshd's login shell does) and
// the one-shot command runner underneath.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SupervisorError } from '../../src/core/errors.js';
import { sshUrl, type SshTarget } from '../../src/core/hosts/hostSpec.js';
import { joinForPosixShell, quoteForPosixShell } from '../../src/core/hosts/remoteQuote.js';
import { describeSshTarget, parseSshUrl, sshArgv, validateSshOption } from '../../src/core/hosts/ssh.js';
import { runCommand } from '../../src/core/process/runCommand.js';
import { isAlive } from '../support/processes.js';
import { seededRandom } from '../support/transcripts.js';

function supervisorError(run: () => unknown): SupervisorError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SupervisorError);
    expect((error as SupervisorError).exitCode).toBe(2);
    return error as SupervisorError;
  }
  throw new Error('expected a SupervisorError');
}

describe('parseSshUrl', () => {
  it.each<[string, SshTarget]>([
    ['ssh://build1', { user: null, host: 'build1', port: null }],
    ['ssh://me@build1', { user: 'me', host: 'build1', port: null }],
    ['ssh://me@build1:2222', { user: 'me', host: 'build1', port: 2222 }],
    ['ssh://me@build1.example.com:22/', { user: 'me', host: 'build1.example.com', port: 22 }],
    ['SSH://build1', { user: null, host: 'build1', port: null }],
    ['ssh://root@127.0.0.1:65535', { user: 'root', host: '127.0.0.1', port: 65535 }],
    ['ssh://[::1]:2222', { user: null, host: '::1', port: 2222 }],
    ['ssh://me@[::1]', { user: 'me', host: '::1', port: null }],
    ['ssh://[fe80::1%eth0]:1', { user: null, host: 'fe80::1%eth0', port: 1 }],
    ['ssh://[::ffff:10.0.0.1]', { user: null, host: '::ffff:10.0.0.1', port: null }],
    ['ssh://first.last@corp@build1', { user: 'first.last@corp', host: 'build1', port: null }],
    ['ssh://me_1@build-1', { user: 'me_1', host: 'build-1', port: null }],
  ])('%s', (url, target) => {
    expect(parseSshUrl(url)).toEqual(target);
    expect(parseSshUrl(sshUrl(target))).toEqual(target);
  });

  it.each<[string, RegExp]>([
    ['build1', /"build1": it does not start with ssh:\/\/; write ssh:\/\/\[user@\]host\[:port\]/],
    ['me@build1:22', /does not start with ssh:\/\/; write ssh:\/\/\[user@\]host\[:port\]/],
    ['http://build1', /the scheme is http:\/\/, not ssh:\/\/; write ssh:\/\/\[user@\]host\[:port\]/],
    ['', /does not start with ssh:\/\//],
    ['ssh://', /there is no host; write ssh:\/\//],
    ['ssh:///', /there is no host/],
    ['ssh://me@', /there is no host/],
    ['ssh://me@:22', /there is no host/],
    ['ssh://me:pw@build1', /it holds a password; passwords are not supported: use keys or ssh-agent/],
    ['ssh://me:@build1', /passwords are not supported: use keys or ssh-agent/],
    ['ssh://@build1', /the user name before "@" is empty/],
    ['ssh://build1/home/me', /"\/home\/me" after the host is not supported.*give the directory as the workspace path/],
    ['ssh://build1//', /"\/\/" after the host/],
    ['ssh://build1?x=1', /"\?x=1" after the host/],
    ['ssh://build1#top', /"#top" after the host/],
    ['ssh://build1:0', /the port "0" is not a number from 1 to 65535/],
    ['ssh://build1:65536', /the port "65536" is not a number from 1 to 65535/],
    ['ssh://build1:abc', /the port "abc" is not/],
    ['ssh://build1:', /the port "" is not/],
    ['ssh://build1:+22', /the port "\+22" is not/],
    ['ssh://build1:022222', /the port "022222" is not/],
    ['ssh://-oProxyCommand=evil', /the host "-oProxyCommand=evil" starts with "-"/],
    ['ssh://-me@build1', /the user name "-me" starts with "-"/],
    ['ssh://me@bu ild1', /the host "bu ild1" contains whitespace or control characters/],
    ['ssh://m e@build1', /the user name "m e" contains whitespace/],
    ['ssh://me@build1\n', /contains whitespace or control characters/],
    ['ssh://me\t@build1', /contains whitespace or control characters/],
    ['ssh://me@bu\u0000ild', /contains whitespace or control characters/],
    ['ssh://me@bu\u009bild', /contains whitespace or control characters/],
    ['ssh://::1', /an IPv6 address must be written in brackets; write e.g. ssh:\/\/\[::1\]:2222/],
    ['ssh://[::1', /the "\[" of an IPv6 address is not closed/],
    ['ssh://[::1]x', /unexpected "x" after the IPv6 address/],
    ['ssh://[build1]', /"\[build1\]" is not an IPv6 address/],
    ['ssh://[::1]:99999', /the port "99999"/],
  ])('rejects %j', (url, message) => {
    const error = supervisorError(() => parseSshUrl(url));
    expect(error.message).toMatch(message);
    expect(error.message).toContain(JSON.stringify(url));
  });
});

describe('describeSshTarget', () => {
  it.each<[SshTarget, string]>([
    [{ user: 'root', host: '127.0.0.1', port: 2222 }, 'root@127.0.0.1:2222'],
    [{ user: null, host: 'build1', port: null }, 'build1'],
    [{ user: 'me', host: '::1', port: 2222 }, 'me@[::1]:2222'],
    [{ user: null, host: '::1', port: null }, '::1'],
  ])('%j → %s', (target, text) => {
    expect(describeSshTarget(target)).toBe(text);
  });
});

describe('sshArgv', () => {
  const target: SshTarget = { user: 'me', host: 'build1', port: null };

  it('runs the remote command as one quoted string after "--" and the destination', () => {
    expect(sshArgv(target, [], ['codex', 'app-server'])).toEqual([
      'ssh',
      '-T',
      '-o',
      'BatchMode=yes',
      '-o',
      'ServerAliveInterval=15',
      '-o',
      'ServerAliveCountMax=3',
      '-o',
      'ConnectTimeout=15',
      '--',
      'me@build1',
      'codex app-server',
    ]);
    expect(sshArgv({ user: null, host: 'build1', port: null }, [], ['true']).slice(-2)).toEqual(['build1', 'true']);
  });

  it('puts the port and the user options before our defaults: ssh keeps the first value of an option', () => {
    const argv = sshArgv({ ...target, port: 2222 }, ['ServerAliveInterval=5', 'IdentityFile=/k/id ed'], ['true']);
    expect(argv).toEqual([
      'ssh',
      '-T',
      '-o',
      'BatchMode=yes',
      '-p',
      '2222',
      '-o',
      'ServerAliveInterval=5',
      '-o',
      'IdentityFile=/k/id ed',
      '-o',
      'ServerAliveInterval=15',
      '-o',
      'ServerAliveCountMax=3',
      '-o',
      'ConnectTimeout=15',
      '--',
      'me@build1',
      'true',
    ]);
  });

  it('gives IPv6 hosts without brackets', () => {
    expect(sshArgv({ user: 'me', host: '::1', port: 2222 }, [], ['true']).slice(-2)).toEqual(['me@::1', 'true']);
    expect(sshArgv({ user: null, host: 'fe80::1%eth0', port: null }, [], ['true']).slice(-2)).toEqual(['fe80::1%eth0', 'true']);
  });

  it('sets the environment with env and quotes every word', () => {
    const argv = sshArgv(target, [], ['/opt/my codex/codex', 'app-server'], { CODEX_HOME: '/home/me/.codex', KEY: "it's $x" });
    expect(argv.at(-1)).toBe(`env CODEX_HOME=/home/me/.codex 'KEY=it'\\''s $x' '/opt/my codex/codex' app-server`);
    expect(argv.at(-1)).toBe(joinForPosixShell(['env', 'CODEX_HOME=/home/me/.codex', "KEY=it's $x", '/opt/my codex/codex', 'app-server']));
  });

  it.each(['1X', 'A-B', 'A B', '', 'A=B', 'X;rm', 'É'])('rejects the environment variable name %j', (name) => {
    const error = supervisorError(() => sshArgv(target, [], ['true'], { [name]: 'v' }));
    expect(error.message).toMatch(/^invalid environment variable name .* for ssh:\/\/me@build1: a name is letters, digits and "_"/);
  });

  it('rejects a NUL byte in an environment value or an argument', () => {
    expect(supervisorError(() => sshArgv(target, [], ['true'], { A: 'x\0y' })).message).toMatch(/NUL byte/);
    expect(supervisorError(() => sshArgv(target, [], ['echo', 'x\0y'])).message).toMatch(/NUL byte/);
  });

  it.each([
    ['', /invalid ssh option "": write it as KEYWORD=VALUE/],
    ['-oProxyCommand=x', /invalid ssh option/],
    ['=x', /invalid ssh option/],
    ['NoValue', /invalid ssh option/],
    ['IdentityFile=/a\nProxyCommand=x', /invalid ssh option/],
    ['BatchMode=no', /always runs ssh with BatchMode=yes and never types passwords; use keys or ssh-agent/],
    ['batchmode no', /BatchMode=yes/],
  ])('rejects the ssh option %j', (option, message) => {
    expect(supervisorError(() => validateSshOption(option)).message).toMatch(message);
    expect(() => sshArgv(target, [option], ['true'])).toThrow(SupervisorError);
  });

  it.each(['IdentityFile=~/.ssh/id_ed25519', 'ServerAliveInterval 5', 'ProxyJump = bastion', 'IdentityFile "/a b/id"'])('accepts the ssh option %j', (option) => {
    expect(() => validateSshOption(option)).not.toThrow();
  });
});

describe('quoteForPosixShell', () => {
  it.each<[string, string]>([
    ['codex', 'codex'],
    ['/usr/bin/codex', '/usr/bin/codex'],
    ['app-server', 'app-server'],
    ['KEY=value', 'KEY=value'],
    ['user@host:1,2%+', 'user@host:1,2%+'],
    ['-rf', '-rf'],
    ['', "''"],
    ["it's", `'it'\\''s'`],
    ["'", `''\\'''`],
    ['a b', "'a b'"],
    ['$(x)', "'$(x)'"],
    ['$HOME', "'$HOME'"],
    ['`id`', "'`id`'"],
    [';rm -rf x', "';rm -rf x'"],
    ['a\nb', "'a\nb'"],
    ['日本語 ✓', "'日本語 ✓'"],
    ['é', "'é'"],
    ['*', "'*'"],
    ['~', "'~'"],
    ['~/x', "'~/x'"],
    ['a{b,c}', "'a{b,c}'"],
    ['!x', "'!x'"],
    ['#x', "'#x'"],
    ['=codex', "'=codex'"],
    ['back\\slash', "'back\\slash'"],
    ['"dq"', `'"dq"'`],
  ])('%j → %s', (arg, quoted) => {
    expect(quoteForPosixShell(arg)).toBe(quoted);
  });

  it('rejects a NUL byte, naming the argument', () => {
    const error = supervisorError(() => quoteForPosixShell('ab\0cd'));
    expect(error.message).toBe(
      'cannot pass the argument "ab\\u0000cd" to the remote shell: it contains a NUL byte, which no command line can carry; remove the NUL byte from it',
    );
    expect(() => joinForPosixShell(['ok', '\0'])).toThrow(SupervisorError);
  });

  it('quotes a first word holding "=", which the shell would take for an assignment', () => {
    expect(joinForPosixShell(['A=b', 'A=b'])).toBe("'A=b' A=b");
    expect(joinForPosixShell([])).toBe('');
  });
});

// The shells sshd may hand the command line to, as far as this machine has them.
const shells = ['/bin/sh', '/bin/bash', '/bin/dash', '/bin/zsh', '/bin/ksh', '/bin/mksh'].filter((s) => existsSync(s));

/** Strings built from the characters shells treat specially, controls and non-ASCII text. */
function nastyStrings(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const alphabet = [
    ...`'"\\\`$!;&|<>(){}[]*?~#=%^ \t\n\r,.:/@+-`,
    'a',
    'Z',
    '0',
    '\u0001',
    '\u001b',
    '\u007f',
    '\u00a0',
    'é',
    '日本',
    '✓',
    '😀',
    '$(',
    '${',
    "'\\''",
    '\\n',
  ];
  const fixed = ['', "'", '"', '\\', '$', '-', '--', '-rf', '=x', 'A=b', '~', ' ', '\n', '$HOME', '$(id)', '`id`', ';rm -rf x'];
  const generated = Array.from({ length: count }, () => {
    const length = Math.floor(random() * 12);
    return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]!).join('');
  });
  return [...fixed, ...generated];
}

function chunks<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));
}

describe('quoting round trip through real shells', () => {
  const strings = nastyStrings(600, 20261206);

  it.each(shells)('%s reads back every argument byte for byte', async (shell) => {
    for (const batch of chunks(strings, 100)) {
      // The joined words are parsed by the shell, as the remote login shell parses ssh's command.
      const result = await runCommand({ argv: [shell, '-c', `printf '%s\\0' ${joinForPosixShell(batch)}`], timeoutMs: 10_000 });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout.split('\0').slice(0, -1)).toEqual(batch);
    }
  });

  it('the command string of sshArgv runs the argv with the environment (as sshd runs it: $SHELL -c STRING)', async () => {
    const weird = strings.slice(0, 60);
    const script = 'console.log(JSON.stringify({ argv: process.argv.slice(1), a: process.env.CM_A, b: process.env.CM_B }))';
    const argv = sshArgv({ user: null, host: 'unused', port: null }, [], [process.execPath, '-e', script, ...weird], {
      CM_A: weird.join('|'),
      CM_B: '',
    });
    const result = await runCommand({ argv: ['/bin/sh', '-c', argv.at(-1)!], timeoutMs: 10_000 });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ argv: weird, a: weird.join('|'), b: '' });
  });
});

describe('runCommand', () => {
  const node = process.execPath;

  it('returns the exit code and the output', async () => {
    const result = await runCommand({ argv: [node, '-e', 'process.stdout.write("out ✓"); process.stderr.write("err"); process.exit(3)'], timeoutMs: 10_000 });
    expect(result).toEqual({
      code: 3,
      signal: null,
      stdout: 'out ✓',
      stderr: 'err',
      stdoutTruncated: false,
      stderrTruncated: false,
      timedOut: false,
      spawnError: null,
    });
  });

  it('passes env and cwd, and gives the child no stdin', async () => {
    const result = await runCommand({
      argv: [node, '-e', 'let n = 0; process.stdin.on("data", (d) => n += d.length).on("end", () => console.log(process.cwd(), process.env.CM_X, n))'],
      env: { CM_X: 'a b' },
      cwd: '/tmp',
      timeoutMs: 10_000,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('/tmp a b 0\n');
  });

  it('reports a signal', async () => {
    const result = await runCommand({ argv: [node, '-e', 'process.kill(process.pid, "SIGTERM")'], timeoutMs: 10_000 });
    expect(result).toMatchObject({ code: null, signal: 'SIGTERM', timedOut: false, spawnError: null });
  });

  it('reports a missing executable as a spawn error instead of rejecting', async () => {
    const result = await runCommand({ argv: ['/nonexistent/cm-binary'], timeoutMs: 10_000 });
    expect(result).toMatchObject({ code: null, signal: null, timedOut: false, stdout: '', stderr: '' });
    expect(result.spawnError?.code).toBe('ENOENT');
    expect(result.spawnError?.message).toContain('/nonexistent/cm-binary');
    expect((await runCommand({ argv: [], timeoutMs: 1000 })).spawnError?.message).toMatch(/empty/);
  });

  it('kills the command and its process group when it runs out of time', async () => {
    const started = Date.now();
    const result = await runCommand({ argv: ['/bin/sh', '-c', 'sleep 30 & echo $!; wait'], timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ code: null, signal: 'SIGKILL', timedOut: true, spawnError: null });
    const helper = Number(result.stdout.trim());
    expect(helper).toBeGreaterThan(0);
    await expect.poll(() => isAlive(helper), { timeout: 2000 }).toBe(false);
  });

  it('does not wait for a helper left behind holding the output pipes: the group is killed at exit', async () => {
    const started = Date.now();
    const result = await runCommand({ argv: ['/bin/sh', '-c', 'sleep 30 & echo $!'], timeoutMs: 20_000 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ code: 0, timedOut: false });
    await expect.poll(() => isAlive(Number(result.stdout.trim())), { timeout: 2000 }).toBe(false);
  });

  it('keeps only the first maxOutputBytes of each stream and still reads to the end', async () => {
    const script = 'const b = Buffer.alloc(1 << 20, 120); for (let i = 0; i < 5; i++) { process.stdout.write(b); process.stderr.write(b); }';
    const small = await runCommand({ argv: [node, '-e', script], timeoutMs: 20_000, maxOutputBytes: 1000 });
    expect(small).toMatchObject({ code: 0, stdoutTruncated: true, stderrTruncated: true, timedOut: false });
    expect(small.stdout).toBe('x'.repeat(1000));
    expect(small.stderr).toBe('x'.repeat(1000));

    const byDefault = await runCommand({ argv: [node, '-e', script], timeoutMs: 20_000 });
    expect(byDefault.code).toBe(0);
    expect(byDefault.stdout.length).toBe(1024 * 1024);
    expect(byDefault.stdoutTruncated).toBe(true);
  });
});
