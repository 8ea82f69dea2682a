import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigStore, hostSpecs, parseEnvAssignments, parseWorkspaceTarget, verifyRemoteDirectory, workspaceSpecs } from '../../src/core/config/config.js';
import { localHost, type HostSpec } from '../../src/core/hosts/hostSpec.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'cm-config-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const file = () => join(home, 'config.json');
const writeConfig = (value: unknown) => writeFile(file(), JSON.stringify(value, null, 2));
const onDisk = async () => JSON.parse(await readFile(file(), 'utf8'));

describe('config.json before hosts', () => {
  const legacy = {
    codexBin: '/opt/codex/bin/codex',
    stallAfterSec: 30,
    workspaces: [
      { name: 'api', path: '/srv/api' },
      { name: 'fake', path: '/tmp/fake', command: ['node', '/tmp/fakeAppServer.mjs', '--scenario', 'x'], env: { FAKE_MODE: 'slow' }, stallAfterSec: 5 },
      { name: 'envonly', path: '/srv/envonly', env: { CODEX_HOME: '/tmp/codex-home' } },
    ],
  };

  it('loads without any edit: local, command hosts, and workspaces on them', async () => {
    await writeConfig(legacy);
    const before = await readFile(file(), 'utf8');
    const config = new ConfigStore(home).read();
    expect(await readFile(file(), 'utf8')).toBe(before);

    // The top-level codexBin is the run's default binary (codexBinFor), which hosts on this machine use.
    expect(hostSpecs(config)).toEqual([
      localHost(),
      {
        name: 'command:fake',
        kind: 'command',
        ssh: null,
        sshOptions: [],
        codexBin: null,
        codexDaemon: 'never',
        env: { FAKE_MODE: 'slow' },
        command: ['node', '/tmp/fakeAppServer.mjs', '--scenario', 'x'],
      },
      // env without command: a private app-server on this machine, as before hosts.
      { ...localHost(), name: 'command:envonly', codexDaemon: 'never', env: { CODEX_HOME: '/tmp/codex-home' } },
    ]);
    expect(workspaceSpecs(config)).toEqual([
      { name: 'api', host: 'local', path: '/srv/api', stallAfterMs: 30_000 },
      { name: 'fake', host: 'command:fake', path: '/tmp/fake', stallAfterMs: 5_000 },
      { name: 'envonly', host: 'command:envonly', path: '/srv/envonly', stallAfterMs: 30_000 },
    ]);
  });

  it('new entries carry their host; old ones are written back as they were', async () => {
    await writeConfig(legacy);
    const repo = join(home, 'repo');
    await mkdir(repo);
    const store = new ConfigStore(home);
    store.addHost('build1', { url: 'ssh://me@build1' });
    expect(store.addWorkspace({ host: 'local', path: repo })).toEqual({ name: 'repo', host: 'local', path: repo });
    const doc = await onDisk();
    expect(doc.workspaces).toEqual([...legacy.workspaces, { name: 'repo', host: 'local', path: repo }]);
    expect(doc.hosts).toEqual([{ name: 'build1', url: 'ssh://me@build1' }]);
    expect(doc).toMatchObject({ codexBin: legacy.codexBin, stallAfterSec: 30 });
  });

  it('the same local path as a workspace with its own command is still one place', async () => {
    const repo = join(home, 'repo');
    await mkdir(repo);
    await writeConfig({ workspaces: [{ name: 'old', path: repo, command: ['node', 'x.mjs'] }] });
    expect(() => new ConfigStore(home).addWorkspace({ host: 'local', path: repo }, { name: 'again' })).toThrow(`${repo} is already configured as workspace "old"`);
  });
});

describe('config.json with hosts', () => {
  it('hostSpecs: local first (with its settings), ssh hosts parsed; workspaceSpecs name the host', async () => {
    await writeConfig({
      hosts: [
        { name: 'build1', url: 'ssh://me@build1.example:2222', sshOptions: ['ConnectTimeout=5'], codexBin: '/usr/local/bin/codex', codexDaemon: 'start', env: { CODEX_HOME: '/home/me/.codex' } },
        { name: 'local', codexDaemon: 'never', env: { OPENAI_API_KEY: 'sk-test' } },
      ],
      workspaces: [
        { name: 'api', host: 'build1', path: '/srv/api' },
        { name: 'web', host: 'local', path: '/srv/web' },
      ],
    });
    const config = new ConfigStore(home).read();
    expect(hostSpecs(config)).toEqual([
      localHost({ codexDaemon: 'never', env: { OPENAI_API_KEY: 'sk-test' } }),
      {
        name: 'build1',
        kind: 'ssh',
        ssh: { user: 'me', host: 'build1.example', port: 2222 },
        sshOptions: ['ConnectTimeout=5'],
        codexBin: '/usr/local/bin/codex',
        codexDaemon: 'start',
        env: { CODEX_HOME: '/home/me/.codex' },
        command: null,
      },
    ]);
    expect(workspaceSpecs(config)).toEqual([
      { name: 'api', host: 'build1', path: '/srv/api' },
      { name: 'web', host: 'local', path: '/srv/web' },
    ]);
  });

  it('an empty or missing file is local alone, no workspaces', () => {
    const config = new ConfigStore(home).read();
    expect(hostSpecs(config)).toEqual([localHost()]);
    expect(workspaceSpecs(config)).toEqual([]);
  });

  const invalid: [string, unknown, string][] = [
    ['an ssh URL without a host', { hosts: [{ name: 'b', url: 'ssh://' }] }, 'hosts.0.url: invalid ssh host URL "ssh://": there is no host'],
    ['a URL of another scheme', { hosts: [{ name: 'b', url: 'http://b' }] }, 'hosts.0.url: invalid ssh host URL "http://b": the scheme is http://'],
    ['a host without url', { hosts: [{ name: 'b' }] }, 'hosts.0.url: missing: every host but "local" needs an ssh://[user@]host[:port] url'],
    ['local with a url', { hosts: [{ name: 'local', url: 'ssh://x' }] }, 'hosts.0.url: "local" is this machine and has no url'],
    ['local with ssh options', { hosts: [{ name: 'local', sshOptions: ['ConnectTimeout=1'] }] }, 'hosts.0.sshOptions: "local" is this machine'],
    ['two hosts of one name', { hosts: [{ name: 'b', url: 'ssh://b' }, { name: 'b', url: 'ssh://c' }] }, 'hosts.1.name: "b" is already the name of hosts.0'],
    ['a host name with a space', { hosts: [{ name: 'build 1', url: 'ssh://b' }] }, 'hosts.0.name: use 1 to 64 letters, digits, ".", "_" or "-"'],
    ['a host name with ":"', { hosts: [{ name: 'a:b', url: 'ssh://b' }] }, 'hosts.0.name: use 1 to 64'],
    ['an unknown daemon mode', { hosts: [{ name: 'b', url: 'ssh://b', codexDaemon: 'sometimes' }] }, 'hosts.0.codexDaemon: must be "attach", "start" or "never"'],
    ['an env name that is none', { hosts: [{ name: 'b', url: 'ssh://b', env: { '1BAD': 'x' } }] }, 'hosts.0.env.1BAD: not an environment variable name'],
    ['an ssh option over two lines', { hosts: [{ name: 'b', url: 'ssh://b', sshOptions: ['ConnectTimeout=1\nProxyCommand=x'] }] }, 'hosts.0.sshOptions.0: invalid ssh option'],
    ['an unknown field of a host', { hosts: [{ name: 'b', url: 'ssh://b', port: 22 }] }, 'hosts.0: Unrecognized key: "port"'],
    ['a workspace on an unknown host', { hosts: [{ name: 'build1', url: 'ssh://b' }], workspaces: [{ name: 'x', host: 'build9', path: '/x' }] }, 'workspaces.0.host: unknown host "build9"; known hosts: local, build1; add it with `cm-supervisor host add build9 ssh://…`'],
    ['two workspaces of one name', { workspaces: [{ name: 'x', path: '/a' }, { name: 'x', path: '/b' }] }, 'workspaces.1.name: "x" is already the name of workspaces.0'],
    ['a host beside a command', { workspaces: [{ name: 'x', host: 'local', path: '/a', command: ['node'] }] }, 'workspaces.0.host: a workspace with its own command or env is its own host'],
    ['a relative path', { workspaces: [{ name: 'x', path: 'rel' }] }, 'workspaces.0.path: must be an absolute path'],
  ];
  it.each(invalid)('names the file and the field: %s', async (_what, config, message) => {
    await writeConfig(config);
    expect(() => new ConfigStore(home).read()).toThrow(`invalid configuration in ${file()}: ${message}`);
    try {
      new ConfigStore(home).read();
    } catch (error) {
      expect(error).toMatchObject({ exitCode: 2 });
    }
  });
});

describe('ConfigStore hosts', () => {
  it('add, set (lists replaced, cleared), remove', async () => {
    const store = new ConfigStore(home);
    expect(store.addHost('build1', { url: 'ssh://me@build1:2222', sshOptions: ['ConnectTimeout=2'], env: { A: '1' }, codexDaemon: 'never' })).toEqual({
      name: 'build1',
      url: 'ssh://me@build1:2222',
      sshOptions: ['ConnectTimeout=2'],
      codexDaemon: 'never',
      env: { A: '1' },
    });
    store.setHost('build1', { sshOptions: ['ServerAliveInterval=5', 'IdentityFile=~/.ssh/x'], env: { B: '2' }, codexBin: '/opt/codex' });
    expect((await onDisk()).hosts).toEqual([
      { name: 'build1', url: 'ssh://me@build1:2222', sshOptions: ['ServerAliveInterval=5', 'IdentityFile=~/.ssh/x'], codexDaemon: 'never', env: { B: '2' }, codexBin: '/opt/codex' },
    ]);
    store.setHost('build1', { clearEnv: true, clearSshOptions: true, url: 'ssh://build2' });
    expect((await onDisk()).hosts).toEqual([{ name: 'build1', url: 'ssh://build2', codexDaemon: 'never', codexBin: '/opt/codex' }]);
    store.setHost('build1', { clearEnv: true, env: { C: '3' } });
    expect((await onDisk()).hosts[0].env).toEqual({ C: '3' });
    expect(store.removeHost('build1')).toMatchObject({ name: 'build1' });
    expect((await onDisk()).hosts).toEqual([]);
  });

  it('host set local: an entry for local, read back by hostSpecs', async () => {
    const store = new ConfigStore(home);
    store.setHost('local', { codexDaemon: 'never', env: { CODEX_HOME: '/h' } });
    expect((await onDisk()).hosts).toEqual([{ name: 'local', codexDaemon: 'never', env: { CODEX_HOME: '/h' } }]);
    expect(hostSpecs(store.read())[0]).toEqual(localHost({ codexDaemon: 'never', env: { CODEX_HOME: '/h' } }));
    store.setHost('local', { codexDaemon: 'attach' });
    expect(hostSpecs(store.read())[0]).toEqual(localHost({ env: { CODEX_HOME: '/h' } }));
  });

  const refusals: [string, (store: ConfigStore) => unknown, string][] = [
    ['ssh:// without a host', (s) => s.addHost('b', { url: 'ssh://' }), 'invalid ssh host URL "ssh://": there is no host'],
    ['add local', (s) => s.addHost('local', { url: 'ssh://b' }), 'the host "local" is this machine and always exists; change its settings with `cm-supervisor host set local …`'],
    ['a bad host name', (s) => s.addHost('build/1', { url: 'ssh://b' }), '"build/1" is not a valid host name; use 1 to 64 letters, digits, ".", "_" or "-"'],
    ['a duplicate host name', (s) => (s.addHost('b', { url: 'ssh://b' }), s.addHost('b', { url: 'ssh://c' })), 'a host named "b" already exists (ssh://b); change it with `cm-supervisor host set b …` or pick another name'],
    ['an ssh option with a newline', (s) => s.addHost('b', { url: 'ssh://b', sshOptions: ['ConnectTimeout=2\nX=y'] }), 'invalid ssh option "ConnectTimeout=2\\nX=y"'],
    ['set an unknown host', (s) => s.setHost('nope', { codexDaemon: 'never' }), 'no host named "nope"; known hosts: local; add it with `cm-supervisor host add nope ssh://…`'],
    ['set nothing', (s) => s.setHost('local', {}), 'nothing to change; give --url, --ssh-option'],
    ['a url for local', (s) => s.setHost('local', { url: 'ssh://b' }), 'the host "local" is this machine and has no url'],
    ['ssh options for local', (s) => s.setHost('local', { sshOptions: ['ConnectTimeout=1'] }), '--ssh-option is for ssh hosts'],
    ['remove local', (s) => s.removeHost('local'), 'the host "local" is this machine and cannot be removed'],
    ['remove an unknown host', (s) => s.removeHost('nope'), 'no host named "nope"; known hosts: local'],
  ];
  it.each(refusals)('refuses %s with exit 2', (_what, act, message) => {
    const store = new ConfigStore(home);
    expect(() => act(store)).toThrow(message);
    try {
      act(new ConfigStore(home));
    } catch (error) {
      expect(error).toMatchObject({ exitCode: 2 });
    }
  });

  it('refuses to remove a host its workspaces use, naming them', async () => {
    await writeConfig({ hosts: [{ name: 'build1', url: 'ssh://b' }], workspaces: [{ name: 'api', host: 'build1', path: '/srv/api' }, { name: 'web', host: 'build1', path: '/srv/web' }] });
    expect(() => new ConfigStore(home).removeHost('build1')).toThrow(
      'host build1 is used by workspaces api, web; remove them first with `cm-supervisor workspace remove NAME`',
    );
  });

  it('parseEnvAssignments: KEY=VALUE, the value may hold "=", the last KEY wins', () => {
    expect(parseEnvAssignments(['A=1', 'B=x=y', 'A=2', 'EMPTY='])).toEqual({ A: '2', B: 'x=y', EMPTY: '' });
    expect(() => parseEnvAssignments(['NOVALUE'])).toThrow('--env "NOVALUE" is not KEY=VALUE');
    expect(() => parseEnvAssignments(['=x'])).toThrow('--env "=x" is not KEY=VALUE');
    expect(() => parseEnvAssignments(['1A=x'])).toThrow('--env "1A=x" is not KEY=VALUE');
  });
});

describe('ConfigStore workspaces on hosts', () => {
  it('remote workspaces: host explicit, the same place refused, the same path on another host allowed', async () => {
    const store = new ConfigStore(home);
    store.addHost('build1', { url: 'ssh://b1' });
    store.addHost('build2', { url: 'ssh://b2' });
    expect(store.addWorkspace({ host: 'build1', path: '/srv/api' })).toEqual({ name: 'api', host: 'build1', path: '/srv/api' });
    expect(() => store.addWorkspace({ host: 'build1', path: '/srv/api' }, { name: 'api2' })).toThrow('build1:/srv/api is already configured as workspace "api"');
    expect(() => store.addWorkspace({ host: 'build2', path: '/srv/api' })).toThrow('a workspace named "api" already exists; pick another with --name');
    expect(store.addWorkspace({ host: 'build2', path: '/srv/api' }, { name: 'api-b2' })).toEqual({ name: 'api-b2', host: 'build2', path: '/srv/api' });
    expect(() => store.addWorkspace({ host: 'build9', path: '/srv/x' })).toThrow('unknown host "build9"; known hosts: local, build1, build2');
    expect(() => store.addWorkspace({ host: 'local', path: join(home, 'missing') })).toThrow(`${join(home, 'missing')} is not a directory`);
    expect(store.removeWorkspace('api')).toEqual({ name: 'api', host: 'build1', path: '/srv/api' });
  });
});

describe('ConfigStore: who may write config.json', () => {
  it('read() refuses a file others can write, also after the store was opened (the daemon reads it again on every change)', async () => {
    await writeConfig({ workspaces: [] });
    const store = new ConfigStore(home);
    expect(store.read().workspaces).toEqual([]);
    await chmod(file(), 0o666);
    expect(() => store.read()).toThrow(`${file()} is writable by others (mode 666): they could change what cm-supervisor runs as you; run \`chmod 600 ${file()}\` first`);
    await chmod(file(), 0o600);
    expect(store.read().workspaces).toEqual([]);
  });
});

describe('parseWorkspaceTarget', () => {
  const hosts: HostSpec[] = [
    localHost(),
    { ...localHost(), name: 'build1', kind: 'ssh', ssh: { user: 'me', host: 'build1', port: null } },
    { ...localHost(), name: 'command:old', kind: 'command', command: ['node'] },
  ];
  const existing = new Set(['/home/me/a:b', '/home/me/build9:/srv/x']);
  const exists = (path: string) => existing.has(path);

  const table: [string, { host: string; path: string }][] = [
    ['.', { host: 'local', path: '/home/me' }],
    ['repo', { host: 'local', path: '/home/me/repo' }],
    ['../other/repo/', { host: 'local', path: '/home/other/repo' }],
    ['/abs/repo', { host: 'local', path: '/abs/repo' }],
    ['local:./x', { host: 'local', path: '/home/me/x' }],
    ['local:/abs/x', { host: 'local', path: '/abs/x' }],
    ['build1:/srv/api', { host: 'build1', path: '/srv/api' }],
    ['build1:/srv//api/./', { host: 'build1', path: '/srv/api' }],
    ['build1:/', { host: 'build1', path: '/' }],
    // A local path with ":": absolute, "./"-prefixed, or an existing file of that name.
    ['/data/a:b', { host: 'local', path: '/data/a:b' }],
    ['./build1:x', { host: 'local', path: '/home/me/build1:x' }],
    ['a:b', { host: 'local', path: '/home/me/a:b' }],
    ['build9:/srv/x', { host: 'local', path: '/home/me/build9:/srv/x' }],
    ['sub/dir:with:colons', { host: 'local', path: '/home/me/sub/dir:with:colons' }],
  ];
  it.each(table)('%s', (arg, expected) => {
    expect(parseWorkspaceTarget(arg, hosts, '/home/me', exists)).toEqual(expected);
  });

  it('an unknown host prefix names the known hosts and how to add it', () => {
    expect(() => parseWorkspaceTarget('build7:/srv/x', hosts, '/home/me', exists)).toThrow(
      'unknown host "build7"; known hosts: local, build1; add it with `cm-supervisor host add build7 ssh://…`',
    );
  });

  it('a relative path on an ssh host is refused', () => {
    expect(() => parseWorkspaceTarget('build1:srv/api', hosts, '/home/me', exists)).toThrow('the path "srv/api" on host build1 is not absolute');
    expect(() => parseWorkspaceTarget('build1:', hosts, '/home/me', exists)).toThrow('the path "" on host build1 is not absolute');
  });
});

describe('verifyRemoteDirectory', () => {
  const host: HostSpec = { ...localHost(), name: 'build1', kind: 'ssh', ssh: { user: 'nobody', host: '127.0.0.1', port: 1 } };

  it('passes a directory', async () => {
    await expect(verifyRemoteDirectory(host, '/srv', async () => ({ ok: true }))).resolves.toBeUndefined();
  });

  it('unreachable: host, URL, what ssh said and what to do', async () => {
    const probe = async () => ({ ok: false as const, reason: 'unreachable' as const, message: 'cannot reach build1 (ssh://nobody@127.0.0.1:1): ssh failed (exit code 255): Connection refused. Check that `ssh …` works' });
    const error = await verifyRemoteDirectory(host, '/srv', probe).catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: 2 });
    expect((error as Error).message).toMatch(/^host build1 \(ssh:\/\/nobody@127\.0\.0\.1:1\) is unreachable: ssh failed \(exit code 255\): Connection refused\. Check that `ssh …` works; .*cm-supervisor host set build1/);
  });

  it('not a directory: the probe says where and what to do', async () => {
    const probe = async () => ({ ok: false as const, reason: 'notDirectory' as const, message: '/srv/x is not a directory on build1 (ssh://nobody@127.0.0.1:1): create it there' });
    await expect(verifyRemoteDirectory(host, '/srv/x', probe)).rejects.toMatchObject({ exitCode: 2, message: '/srv/x is not a directory on build1 (ssh://nobody@127.0.0.1:1): create it there' });
  });
});
