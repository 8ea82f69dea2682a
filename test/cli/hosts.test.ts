import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBuiltCli } from '../support/runBuiltCli.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'cm-hosts-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const cli = (args: string[], options: { cwd?: string } = {}) => runBuiltCli(args, { env: { CM_SUPERVISOR_HOME: home, CM_SUPERVISOR_CODEX_BIN: undefined }, ...options });
const configFile = () => join(home, 'config.json');
const onDisk = async () => JSON.parse(await readFile(configFile(), 'utf8'));

/** ssh to a closed port fails at once (no sshd needed). */
const DEAD = ['dead', 'ssh://nobody@127.0.0.1:1', '--ssh-option', 'ConnectTimeout=2'];

const localJson = {
  name: 'local',
  kind: 'local',
  url: null,
  sshOptions: [],
  codexBin: null,
  codexDaemon: 'attach',
  envKeys: [],
  command: null,
  workspaces: [],
};

describe('host commands (built CLI)', () => {
  it('host list: local always exists', async () => {
    const json = await cli(['host', 'list', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([localJson]);
    const text = await cli(['host', 'list']);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toContain('local  this machine');
    expect(text.stdout).toContain('daemon:      attach');
  });

  it('host add, set and list: settings written, env names shown, values never printed', async () => {
    const add = await cli([
      'host', 'add', 'build1', 'ssh://me@build1.example:2222',
      '--ssh-option', 'ConnectTimeout=2', '--ssh-option', 'ServerAliveInterval=5',
      '--codex-bin', '/opt/codex/bin/codex', '--codex-daemon', 'start',
      '--env', 'CODEX_HOME=/home/me/.codex', '--env', 'OPENAI_API_KEY=sk-very-secret',
    ]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toContain(`added host "build1" to ${configFile()}`);
    expect(add.stdout).not.toContain('sk-very-secret');
    expect((await onDisk()).hosts).toEqual([
      {
        name: 'build1',
        url: 'ssh://me@build1.example:2222',
        sshOptions: ['ConnectTimeout=2', 'ServerAliveInterval=5'],
        codexBin: '/opt/codex/bin/codex',
        codexDaemon: 'start',
        env: { CODEX_HOME: '/home/me/.codex', OPENAI_API_KEY: 'sk-very-secret' },
      },
    ]);

    const text = await cli(['host', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain('sk-very-secret');
    expect(text.stdout.indexOf('local  this machine')).toBe(0);
    expect(text.stdout).toContain(
      [
        'build1  ssh://me@build1.example:2222',
        '  codex:       /opt/codex/bin/codex',
        '  daemon:      start',
        '  ssh options: ConnectTimeout=2 ServerAliveInterval=5',
        '  env:         CODEX_HOME, OPENAI_API_KEY',
        '  workspaces:  (none)',
      ].join('\n'),
    );
    const json = await cli(['host', 'list', '--json']);
    expect(json.stdout).not.toContain('sk-very-secret');
    expect(JSON.parse(json.stdout)).toEqual([
      localJson,
      {
        name: 'build1',
        kind: 'ssh',
        url: 'ssh://me@build1.example:2222',
        sshOptions: ['ConnectTimeout=2', 'ServerAliveInterval=5'],
        codexBin: '/opt/codex/bin/codex',
        codexDaemon: 'start',
        envKeys: ['CODEX_HOME', 'OPENAI_API_KEY'],
        command: null,
        workspaces: [],
      },
    ]);

    // Repeated options replace the list; --clear-* empty it first.
    const set = await cli(['host', 'set', 'build1', '--ssh-option', 'IdentityFile=~/.ssh/build', '--clear-env', '--env', 'CODEX_HOME=/srv/codex', '--url', 'ssh://build1.example']);
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(set.stdout).toContain(`updated host "build1" in ${configFile()}`);
    expect((await onDisk()).hosts).toEqual([
      { name: 'build1', url: 'ssh://build1.example', sshOptions: ['IdentityFile=~/.ssh/build'], codexBin: '/opt/codex/bin/codex', codexDaemon: 'start', env: { CODEX_HOME: '/srv/codex' } },
    ]);
    expect(await cli(['host', 'set', 'build1', '--clear-ssh-options', '--clear-env'])).toMatchObject({ code: 0 });
    expect((await onDisk()).hosts).toEqual([{ name: 'build1', url: 'ssh://build1.example', codexBin: '/opt/codex/bin/codex', codexDaemon: 'start' }]);

    expect(await cli(['host', 'remove', 'build1'])).toMatchObject({ code: 0, stdout: 'removed host "build1" (ssh://build1.example)' });
    expect(JSON.parse((await cli(['host', 'list', '--json'])).stdout)).toEqual([localJson]);
  });

  it('host set local --codex-daemon never', async () => {
    const r = await cli(['host', 'set', 'local', '--codex-daemon', 'never', '--env', 'CODEX_HOME=/tmp/ch']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect((await onDisk()).hosts).toEqual([{ name: 'local', codexDaemon: 'never', env: { CODEX_HOME: '/tmp/ch' } }]);
    expect(JSON.parse((await cli(['host', 'list', '--json'])).stdout)).toEqual([{ ...localJson, codexDaemon: 'never', envKeys: ['CODEX_HOME'] }]);
  });

  it('--codex-bin after `host add|set` is the host’s; global options still work anywhere else', async () => {
    expect(await cli(['--codex-bin', '/global/codex', 'host', 'add', 'b', 'ssh://b', '--codex-bin', '/remote/codex'])).toMatchObject({ code: 0 });
    expect(await cli(['host', 'set', 'b', '--codex-bin=/remote/codex2', '--home', home])).toMatchObject({ code: 0 });
    expect((await onDisk()).hosts).toEqual([{ name: 'b', url: 'ssh://b', codexBin: '/remote/codex2' }]);
    const other = await mkdtemp(join(tmpdir(), 'cm-hosts-other-'));
    try {
      expect(await runBuiltCli(['host', 'list', '--json', '--home', other])).toMatchObject({ code: 0 });
      expect(await runBuiltCli(['workspace', 'list', '--home', other, '--codex-bin', '/x'])).toMatchObject({ code: 0, stdout: expect.stringContaining('no workspaces configured') });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  const refusals: [string, string[], string][] = [
    ['ssh:// without a host', ['host', 'add', 'b', 'ssh://'], 'invalid ssh host URL "ssh://": there is no host'],
    ['a host name that is none', ['host', 'add', 'build 1', 'ssh://b'], '"build 1" is not a valid host name; use 1 to 64 letters, digits, ".", "_" or "-"'],
    ['host add local', ['host', 'add', 'local', 'ssh://b'], 'the host "local" is this machine and always exists; change its settings with `cm-supervisor host set local …`'],
    ['--env without "="', ['host', 'add', 'b', 'ssh://b', '--env', 'CODEX_HOME'], '--env "CODEX_HOME" is not KEY=VALUE'],
    ['--ssh-option over two lines', ['host', 'add', 'b', 'ssh://b', '--ssh-option', 'ConnectTimeout=2\nProxyCommand=evil'], 'invalid ssh option "ConnectTimeout=2\\nProxyCommand=evil"'],
    ['an invalid --codex-daemon', ['host', 'add', 'b', 'ssh://b', '--codex-daemon', 'sometimes'], "argument 'sometimes' is invalid. Allowed choices are attach, start, never"],
    ['host set of an unknown host', ['host', 'set', 'nope', '--codex-daemon', 'never'], 'no host named "nope"; known hosts: local, other; add it with `cm-supervisor host add nope ssh://…`'],
    ['host set without a change', ['host', 'set', 'local'], 'nothing to change'],
    ['a url for local', ['host', 'set', 'local', '--url', 'ssh://b'], 'the host "local" is this machine and has no url'],
    ['host remove local', ['host', 'remove', 'local'], 'the host "local" is this machine and cannot be removed'],
    ['host remove of an unknown host', ['host', 'remove', 'nope'], 'no host named "nope"; known hosts: local, other'],
  ];
  it.each(refusals)('refuses %s: exit 2, the file unchanged', async (_what, args, message) => {
    const before = JSON.stringify({ hosts: [{ name: 'other', url: 'ssh://other' }] });
    await writeFile(configFile(), before);
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(await readFile(configFile(), 'utf8')).toBe(before);
  });

  it('a duplicate host name is refused', async () => {
    expect(await cli(['host', 'add', 'b', 'ssh://b'])).toMatchObject({ code: 0 });
    const dup = await cli(['host', 'add', 'b', 'ssh://c']);
    expect(dup).toMatchObject({ code: 2, stderr: expect.stringContaining('a host named "b" already exists (ssh://b); change it with `cm-supervisor host set b …`') });
  });

  it('host remove is refused while workspaces use the host, naming them', async () => {
    await writeFile(
      configFile(),
      JSON.stringify({ hosts: [{ name: 'build1', url: 'ssh://b' }], workspaces: [{ name: 'api', host: 'build1', path: '/srv/api' }] }),
    );
    const r = await cli(['host', 'remove', 'build1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('host build1 is used by workspace api; remove it first with `cm-supervisor workspace remove NAME`');
    const list = await cli(['host', 'list']);
    expect(list.stdout).toContain('build1  ssh://b');
    expect(list.stdout).toContain('workspaces:  api');
    expect(await cli(['workspace', 'remove', 'api'])).toMatchObject({ code: 0, stdout: 'removed workspace "api" (build1:/srv/api)' });
    expect(await cli(['host', 'remove', 'build1'])).toMatchObject({ code: 0 });
  });
});

describe('workspace add [HOST:]PATH (built CLI)', () => {
  it('local:./x is resolved against the cwd, written with its host, listed with it', async () => {
    await mkdir(join(home, 'x'));
    const add = await cli(['workspace', 'add', 'local:./x'], { cwd: home });
    expect(add).toMatchObject({ code: 0, stdout: expect.stringContaining(`added workspace "x" (${join(home, 'x')})`) });
    expect((await onDisk()).workspaces).toEqual([{ name: 'x', host: 'local', path: join(home, 'x') }]);
    expect(JSON.parse((await cli(['workspace', 'list', '--json'])).stdout)).toEqual([{ name: 'x', host: 'local', path: join(home, 'x') }]);
    expect((await cli(['workspace', 'list'])).stdout).toBe(`x  local  ${join(home, 'x')}`);
    const again = await cli(['workspace', 'add', join(home, 'x'), '--name', 'x2']);
    expect(again).toMatchObject({ code: 2, stderr: expect.stringContaining(`${join(home, 'x')} is already configured as workspace "x"`) });
  });

  it('HOST:/path on an unreachable host: exit 2 with the host, its URL and what ssh said', async () => {
    expect(await cli(['host', 'add', ...DEAD])).toMatchObject({ code: 0 });
    const r = await cli(['workspace', 'add', 'dead:/srv/api']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('host dead (ssh://nobody@127.0.0.1:1) is unreachable: ');
    expect(r.stderr).toMatch(/Connection refused|ssh client is not installed/);
    expect(r.stderr).toContain('cm-supervisor host set dead');
    expect((await onDisk()).workspaces).toBeUndefined();
  });

  it('HOST:relative on an ssh host is refused before any connection', async () => {
    expect(await cli(['host', 'add', ...DEAD])).toMatchObject({ code: 0 });
    const r = await cli(['workspace', 'add', 'dead:srv/api']);
    expect(r).toMatchObject({ code: 2, stderr: expect.stringContaining('the path "srv/api" on host dead is not absolute') });
  });

  it('an unknown host prefix: exit 2 naming the known hosts and how to add it', async () => {
    expect(await cli(['host', 'add', 'build1', 'ssh://b'])).toMatchObject({ code: 0 });
    const r = await cli(['workspace', 'add', 'build9:/srv/x'], { cwd: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown host "build9"; known hosts: local, build1; add it with `cm-supervisor host add build9 ssh://…`');
  });

  it('a local directory whose name looks like HOST:PATH stays local', async () => {
    await mkdir(join(home, 'a:b'));
    const r = await cli(['workspace', 'add', 'a:b', '--name', 'ab'], { cwd: home });
    expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining(`added workspace "ab" (${join(home, 'a:b')})`) });
  });

  it('an old config.json with a command keeps loading and is listed with its own host', async () => {
    await writeFile(
      configFile(),
      JSON.stringify({ stallAfterSec: 30, workspaces: [{ name: 'fake', path: '/tmp/fake', command: ['node', 'fake.mjs'], env: { FAKE: '1' } }] }),
    );
    expect(JSON.parse((await cli(['workspace', 'list', '--json'])).stdout)).toEqual([{ name: 'fake', host: 'command:fake', path: '/tmp/fake' }]);
    const hosts = JSON.parse((await cli(['host', 'list', '--json'])).stdout);
    expect(hosts).toEqual([
      localJson,
      { name: 'command:fake', kind: 'command', url: null, sshOptions: [], codexBin: null, codexDaemon: 'never', envKeys: ['FAKE'], command: ['node', 'fake.mjs'], workspaces: ['fake'] },
    ]);
  });
});
