import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageInfo } from '../../src/core/packageInfo.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { runBuiltCli } from '../support/runBuiltCli.js';

describe('cm-supervisor CLI skeleton (built binary)', () => {
  it('--help lists the global options and commands, exit 0', async () => {
    const r = await runBuiltCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: cm-supervisor');
    expect(r.stdout).toContain('--home <dir>');
    expect(r.stdout).toContain('(env: CM_SUPERVISOR_HOME)');
    expect(r.stdout).toContain('--codex-bin <path>');
    expect(r.stdout).toContain('doctor');
  });

  it('--version prints the package version, exit 0', async () => {
    const r = await runBuiltCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(packageInfo().version);
  });

  it('an unknown command or option is a usage error, exit 2', async () => {
    const cmd = await runBuiltCli(['frobnicate']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain("unknown command 'frobnicate'");
    const opt = await runBuiltCli(['doctor', '--frob']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain("unknown option '--frob'");
  });

  describe('a codex binary that cannot serve this machine: exit 2 naming where it was set, before anything starts', () => {
    let home: string;
    let configFile: string;
    let bin: string;
    const withConfig = (config: object) => writeFile(configFile, JSON.stringify(config));
    const cli = (args: string[], env: Record<string, string> = {}) => runBuiltCli(args, { env: { CM_SUPERVISOR_HOME: home, CM_SUPERVISOR_CODEX_BIN: undefined, ...env } });
    beforeAll(async () => {
      home = await mkdtemp(join(tmpdir(), 'cm-codexbin-'));
      configFile = join(home, 'config.json');
      bin = join(home, 'bin');
      await mkdir(bin);
      await mkdir(join(home, 'repo'));
      // Prints something that is no JSON-RPC and exits: a program, but no app-server.
      await writeFile(join(bin, 'codex'), '#!/bin/sh\necho "hello, I am not codex"\nexit 0\n');
      await chmod(join(bin, 'codex'), 0o755);
      await withConfig({ workspaces: [{ name: 'api', path: join(home, 'repo') }] });
    });
    afterAll(async () => rm(home, { recursive: true, force: true }));

    it('--codex-bin, CM_SUPERVISOR_CODEX_BIN, codexBin and hosts[local].codexBin in config.json', async () => {
      const flag = await cli(['--codex-bin', '/nonexistent', 'status']);
      expect(flag).toMatchObject({ code: 2, stdout: '' });
      expect(flag.stderr).toBe('cm-supervisor: --codex-bin /nonexistent: not found; give --codex-bin the path of a codex binary, or leave it out');
      const env = await cli(['feed'], { CM_SUPERVISOR_CODEX_BIN: '/nope' });
      expect(env.code).toBe(2);
      expect(env.stderr).toBe('cm-supervisor: CM_SUPERVISOR_CODEX_BIN=/nope: not found; point CM_SUPERVISOR_CODEX_BIN at a codex binary, or unset it');
      const directory = await cli(['--codex-bin', bin, 'status', '--json']);
      expect(directory).toMatchObject({ code: 2, stderr: expect.stringContaining(`--codex-bin ${bin}: a directory, not a program`) });

      await withConfig({ codexBin: '/opt/missing/codex', workspaces: [{ name: 'api', path: join(home, 'repo') }] });
      const top = await cli(['status']);
      expect(top.code).toBe(2);
      expect(top.stderr).toContain(`codexBin "/opt/missing/codex" in ${configFile}: not found; correct or remove it there`);
      await withConfig({ hosts: [{ name: 'local', codexBin: 'no-such-codex' }], workspaces: [{ name: 'api', path: join(home, 'repo') }] });
      const hostBin = await cli(['feed']);
      expect(hostBin.code).toBe(2);
      expect(hostBin.stderr).toContain(`hosts[local].codexBin "no-such-codex" in ${configFile} (set with \`cm-supervisor host set local --codex-bin\`): not found on PATH`);

      // Not checked when no workspace runs on this machine: it needs no codex here.
      await withConfig({ workspaces: [] });
      expect(await cli(['--codex-bin', '/nonexistent', 'feed'])).toMatchObject({ code: 0, stdout: 'the activity feed is empty' });
    });

    it('doctor: a missing binary, and one that does not speak the app-server protocol', async () => {
      await withConfig({ workspaces: [{ name: 'api', path: join(home, 'repo') }] });
      const missing = await cli(['--codex-bin', '/nowhere/codex', 'doctor']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toBe('cm-supervisor: --codex-bin /nowhere/codex: not found; give --codex-bin the path of a codex binary, or leave it out');
      const notCodex = await cli(['--codex-bin', '/bin/true', 'doctor']);
      expect(notCodex.code).toBe(2);
      expect(notCodex.stderr).toContain('cm-supervisor: --codex-bin /bin/true: does not speak the app-server protocol; give --codex-bin the path of a codex binary');
      expect(notCodex.stderr).toContain('"/bin/true app-server" exited during the handshake (code 0)');
      await withConfig({ hosts: [{ name: 'local', codexBin: join(bin, 'codex') }], workspaces: [{ name: 'api', path: join(home, 'repo') }] });
      const garbage = await cli(['doctor', '--json']);
      expect(garbage.code).toBe(2);
      expect(JSON.parse(garbage.stdout)).toMatchObject({ ok: false, hosts: [{ name: 'local', ok: false, binaryFault: true }] });
      expect(garbage.stderr).toContain(`hosts[local].codexBin "${join(bin, 'codex')}" in ${configFile} (set with \`cm-supervisor host set local --codex-bin\`): does not speak the app-server protocol`);
    });
  });

  describe('doctor against the real bundled codex app-server', () => {
    let env: RealCodexEnv;
    beforeAll(async () => {
      env = await startRealCodexEnv();
    });
    afterAll(async () => env?.cleanup());

    it('reports the bundled binary, its version and CODEX_HOME', async () => {
      const r = await runBuiltCli(['--home', '/tmp/cm-home-test', 'doctor', '--json'], { env: env.home.env });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        ok: true,
        codexBinarySource: 'bundled',
        codexVersion: '0.171.0',
        protocolTypesVersion: '0.171.0',
        codexHome: env.home.dir,
        home: '/tmp/cm-home-test',
        warnings: [],
      });
    });
  });
});
