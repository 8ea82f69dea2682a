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

  it('a missing codex binary is named with the fix, exit 1', async () => {
    const flag = await runBuiltCli(['--codex-bin', '/nowhere/codex', 'doctor']);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toBe('cm-supervisor: codex not found at /nowhere/codex; set --codex-bin or CM_SUPERVISOR_CODEX_BIN, or `cm-supervisor host set local --codex-bin PATH`');
    const env = await runBuiltCli(['doctor'], { env: { CM_SUPERVISOR_CODEX_BIN: '/elsewhere/codex' } });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('codex not found at /elsewhere/codex');
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
