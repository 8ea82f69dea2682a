// Who may write the home and config.json (they say which commands run as you): the BUILT CLI,
// started under umask 000 where it matters, against the real codex binary.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonPaths } from '../../src/core/daemon/home.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { CLI, runBuiltCli } from '../support/runBuiltCli.js';

let env: RealCodexEnv;
let root: string;
let repo: string;
/** Homes where a daemon may have started: each is stopped at the end, whatever happened. */
const daemonHomes: string[] = [];

/** The built CLI as a shell with `umask 000` starts it (argv only: nothing is interpolated). */
async function cliUnderUmask000(home: string, args: string[], input = '') {
  const result = await execa('/bin/sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, CLI, ...args], {
    env: { ...env.home.env, CM_SUPERVISOR_HOME: home },
    input,
    reject: false,
    timeout: 60_000,
  });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

function cli(home: string, args: string[]) {
  return runBuiltCli(args, { env: { ...env.home.env, CM_SUPERVISOR_HOME: home } });
}

function modeOf(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

/** A home with one workspace, made by the CLI itself. */
async function newHome(name: string): Promise<string> {
  const home = join(root, name);
  expect((await cli(home, ['workspace', 'add', repo, '--name', 'api'])).code).toBe(0);
  return home;
}

beforeAll(async () => {
  env = await startRealCodexEnv();
  root = await mkdtemp(join(tmpdir(), 'cm-perm-'));
  repo = await env.workspace('api');
});
afterAll(async () => {
  for (const home of daemonHomes) {
    if (!existsSync(home)) continue;
    await chmod(home, 0o700);
    await chmod(join(home, 'config.json'), 0o600);
    await cli(home, ['daemon', 'stop']);
  }
  await env?.cleanup();
  await rm(root, { recursive: true, force: true });
});

describe('the home is private whatever the umask (built CLI, umask 000)', () => {
  it('workspace add creates the home (and its parents) 0700 and config.json 0600', async () => {
    const home = join(root, 'fresh', 'home');
    const add = await cliUnderUmask000(home, ['workspace', 'add', repo, '--name', 'api']);
    expect(add.code).toBe(0);
    expect(modeOf(join(root, 'fresh'))).toBe('700');
    expect(modeOf(home)).toBe('700');
    expect(modeOf(join(home, 'config.json'))).toBe('600');
    // A rewrite keeps it so.
    expect((await cliUnderUmask000(home, ['workspace', 'remove', 'api'])).code).toBe(0);
    expect(modeOf(join(home, 'config.json'))).toBe('600');
  });

  it('a real dispatch writes the state and the ledger 0600', async () => {
    const home = join(root, 'dispatch');
    expect((await cliUnderUmask000(home, ['workspace', 'add', repo, '--name', 'api'])).code).toBe(0);
    const plan = JSON.stringify({ version: 1, id: 'perm', actions: [{ id: 'a', workspace: 'api', prompt: 'hello', thread: 'new' }] });
    const r = await cliUnderUmask000(home, ['dispatch', '--plan', '-'], plan);
    expect(r.code, r.stderr).toBe(0);
    const modes = Object.fromEntries((await readdir(home)).map((f) => [f, modeOf(join(home, f))]));
    expect(modes).toEqual({ 'config.json': '600', 'state.json': '600', 'dispatch-ledger.json': '600' });
    expect(modeOf(home)).toBe('700');
  });

  it("chat: the planner's working directory is 0700", async () => {
    const home = join(root, 'chat');
    expect((await cliUnderUmask000(home, ['workspace', 'add', repo, '--name', 'api'])).code).toBe(0);
    // Whatever the mock model plans: the directory is made before the planner starts.
    await cliUnderUmask000(home, ['chat', 'run the api tests']);
    expect(modeOf(daemonPaths(home).planner)).toBe('700');
    expect(modeOf(home)).toBe('700');
  });

  it('daemon start: its log, lock and socket are 0600 in a 0700 home', async () => {
    const home = join(root, 'daemon');
    expect((await cliUnderUmask000(home, ['workspace', 'add', repo, '--name', 'api'])).code).toBe(0);
    daemonHomes.push(home);
    const start = await cliUnderUmask000(home, ['daemon', 'start']);
    expect(start.code, start.stderr).toBe(0);
    const paths = daemonPaths(home);
    expect([paths.log, paths.lock, paths.socket].map(modeOf)).toEqual(['600', '600', '600']);
    expect(modeOf(home)).toBe('700');
    expect((await cli(home, ['daemon', 'stop'])).code).toBe(0);
  });

  it('a config.json others could read (older versions wrote 0644) is tightened to 0600', async () => {
    const home = await newHome('readable');
    await chmod(join(home, 'config.json'), 0o644);
    await chmod(home, 0o755);
    expect((await cli(home, ['workspace', 'list'])).code).toBe(0);
    expect(modeOf(join(home, 'config.json'))).toBe('600');
    expect(modeOf(home)).toBe('700');
  });
});

describe('a home or config.json others can write is refused with the chmod to run (exit 2)', () => {
  const commands: [string, string[]][] = [
    ['status', ['status']],
    ['workspace add', ['workspace', 'add', '/tmp', '--name', 'other']],
    ['daemon start', ['daemon', 'start']],
  ];

  for (const [name, args] of commands) {
    it(`${name}: config.json 0666`, async () => {
      const home = await newHome(`config-${name.replace(' ', '-')}`);
      daemonHomes.push(home);
      const config = join(home, 'config.json');
      const before = readFileSync(config, 'utf8');
      await chmod(config, 0o666);
      const r = await cli(home, args);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`cm-supervisor: ${config} is writable by others (mode 666): they could change what cm-supervisor runs as you; run \`chmod 600 ${config}\` first`);
      expect(readFileSync(config, 'utf8')).toBe(before);
      expect(existsSync(daemonPaths(home).lock)).toBe(false);
      expect(existsSync(daemonPaths(home).state)).toBe(false);
    });

    it(`${name}: home 0777`, async () => {
      const home = await newHome(`home-${name.replace(' ', '-')}`);
      daemonHomes.push(home);
      await chmod(home, 0o777);
      const r = await cli(home, args);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`cm-supervisor: ${home} is writable by others (mode 777): they could change what cm-supervisor runs as you; run \`chmod 700 ${home}\` first`);
      expect(existsSync(daemonPaths(home).lock)).toBe(false);
    });
  }

  it('also while a daemon serves the home: status is refused, and the chmod printed makes it work again', async () => {
    const home = await newHome('served');
    daemonHomes.push(home);
    expect((await cli(home, ['daemon', 'start'])).code).toBe(0);
    const config = join(home, 'config.json');
    await chmod(config, 0o620);
    const refused = await cli(home, ['status']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`(mode 620)`);
    const fix = /run `(chmod 600 \S+)` first/.exec(refused.stderr)![1]!.split(' ');
    await execa(fix[0]!, fix.slice(1));
    const status = await cli(home, ['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('(daemon)');
    expect((await cli(home, ['daemon', 'stop'])).code).toBe(0);
  });

  it('a home path with a space: the chmod is quoted for the shell', async () => {
    const home = join(root, 'with space');
    await mkdir(home, { mode: 0o700 });
    await writeFile(join(home, 'config.json'), '{}', { mode: 0o600 });
    await chmod(home, 0o770);
    const r = await cli(home, ['workspace', 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`run \`chmod 700 '${home}'\` first`);
  });
});
