import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageInfo } from '../../src/core/packageInfo.js';
import { npmEnv, packProject, type Packed } from '../support/packProject.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { spawnInTerminal, type TerminalSession } from '../support/terminal.js';

/** Versions of every copy of `name` in the tree below `dir` (npm nests a copy a dependent's range needs). */
function installedVersions(dir: string, name: string): string[] {
  const found: string[] = [];
  const walk = (modules: string) => {
    let entries: string[];
    try {
      entries = readdirSync(modules);
    } catch {
      return;
    }
    for (const entry of entries) {
      const packages = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((p) => `${entry}/${p}`) : [entry];
      for (const pkg of packages) {
        if (pkg === name) found.push((JSON.parse(readFileSync(join(modules, pkg, 'package.json'), 'utf8')) as { version: string }).version);
        walk(join(modules, pkg, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return found;
}

describe('the package as users install it: npm pack, then npm i -g of the tarball', () => {
  let work: string;
  let packed: Packed;
  let prefix: string;
  let installed: string;
  let codex: RealCodexEnv;
  let session: TerminalSession | null = null;
  const bin = () => join(prefix, 'bin', 'cm-supervisor');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'cm-install-'));
    packed = await packProject(work);
    prefix = join(work, 'prefix');
    // Dependencies come from npm's cache when they are there, from the registry when not.
    await execa('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', packed.tarball], {
      cwd: work,
      env: npmEnv(),
      timeout: 120_000,
    });
    installed = join(prefix, 'lib', 'node_modules', 'cm-supervisor');
    codex = await startRealCodexEnv();
  }, 180_000);
  afterAll(async () => {
    session?.dispose();
    await codex?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ships the compiled program, not the benchmarks, test helpers or source maps', () => {
    const own = packed.files.filter((p) => !p.startsWith('node_modules/'));
    expect(own).toContain('package.json');
    expect(own).toContain('README.md');
    expect(own).toContain('dist/src/cli/main.js');
    expect(own.filter((p) => !['package.json', 'README.md'].includes(p) && !/^dist\/src\/.+\.js$/.test(p))).toEqual([]);
    // A path out of the package is one npm refuses to unpack.
    expect(packed.files.filter((path) => path.split('/').includes('..'))).toEqual([]);
  });

  it("Ink renders with @alcalzone/ansi-tokenize 0.3.2 in the installed tree, though npm applies package.json's overrides only in the root project", () => {
    expect(installedVersions(installed, '@alcalzone/ansi-tokenize')).toEqual(['0.3.2']);
    expect(installedVersions(installed, 'ink')).toEqual(['6.8.0']);
    expect(packed.bundled).toContain('ink');
  });

  it('the installed command answers --version and doctor against its own bundled codex', async () => {
    const version = await execa(bin(), ['--version'], { reject: false });
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toBe(packageInfo().version);
    const home = join(work, 'home');
    const doctor = await execa(bin(), ['doctor', '--json'], {
      reject: false,
      cwd: work,
      env: { ...codex.home.env, CM_SUPERVISOR_HOME: home, CM_SUPERVISOR_CODEX_BIN: undefined },
    });
    expect(doctor.stderr).toBe('');
    expect(doctor.exitCode).toBe(0);
    expect(JSON.parse(doctor.stdout)).toMatchObject({ ok: true, codexBinarySource: 'bundled', codexVersion: '0.171.0', codexHome: codex.home.dir, home });
  });

  it('the installed command draws the operations view (Ink and React load from the installed tree)', async () => {
    session = spawnInTerminal(bin(), ['demo'], { cols: 100, rows: 30, env: { NO_COLOR: '1' } });
    await session.waitForText('Needs you (1)', 30_000);
    session.write('q');
    expect((await session.waitForExit(15_000)).exitCode).toBe(0);
  });
});
