import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/core/loop/supervisor.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { runBuiltCli } from '../support/runBuiltCli.js';

let env: RealCodexEnv;
let home: string;
let repo: string;
let cliEnv: Record<string, string>;

beforeAll(async () => {
  env = await startRealCodexEnv();
  home = await mkdtemp(join(tmpdir(), 'cm-home-'));
  repo = await env.workspace('repo');
  cliEnv = { ...env.home.env, CM_SUPERVISOR_HOME: home };
});
afterAll(async () => {
  await env?.cleanup();
  await rm(home, { recursive: true, force: true });
});

describe('workspace, status and feed commands (built CLI, real codex)', () => {
  it('workspace add/list/remove with clear errors', async () => {
    expect((await runBuiltCli(['workspace', 'list'], { env: cliEnv })).stdout).toContain('no workspaces configured');
    const add = await runBuiltCli(['workspace', 'add', repo, '--name', 'api'], { env: cliEnv });
    expect(add).toMatchObject({ code: 0, stdout: expect.stringContaining(`added workspace "api" (${repo})`) });
    expect(add.stderr).toBe(
      `warning: ${repo} is not a git repository; Codex trusts projects by directory and may ask to trust it (run \`git init\` there if it should be one)`,
    );
    const dup = await runBuiltCli(['workspace', 'add', repo], { env: cliEnv });
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain(`${repo} is already configured as workspace "api"`);
    const missing = await runBuiltCli(['workspace', 'add', '/definitely/not/here'], { env: cliEnv });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('/definitely/not/here is not a directory');
    const badName = await runBuiltCli(['workspace', 'add', repo, '--name', 'has space'], { env: cliEnv });
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('"has space" is not a valid workspace name');
    const list = await runBuiltCli(['workspace', 'list', '--json'], { env: cliEnv });
    expect(JSON.parse(list.stdout)).toEqual([{ name: 'api', host: 'local', path: repo }]);
    const removeUnknown = await runBuiltCli(['workspace', 'remove', 'nope'], { env: cliEnv });
    expect(removeUnknown).toMatchObject({ code: 2, stderr: expect.stringContaining('no workspace named "nope"; configured: api') });
  });

  it('status shows the workspace, its Codex version and the threads known on disk', async () => {
    const sup = new Supervisor({ workspaces: [{ name: 'api', path: repo }], codexBin: env.codexBin, env: env.home.env });
    await sup.start();
    await sup.dispatch({ version: 1, actions: [{ id: 'a', workspace: 'api', prompt: 'write the changelog', thread: 'new' }] });
    await sup.waitUntil((s) => Object.values(s.jobs).length === 1 && Object.values(s.jobs).every((j) => j.status === 'completed'), 30_000);
    await sup.stop();

    const json = await runBuiltCli(['status', '--json'], { env: cliEnv });
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.mode).toBe('in-process');
    expect(doc.workspaces).toHaveLength(1);
    expect(doc.workspaces[0]).toMatchObject({ name: 'api', host: 'local', path: repo, status: 'ready' });
    expect(doc.hosts).toEqual([expect.objectContaining({ name: 'local', status: 'ready', transport: 'private', codexVersion: '0.171.0', workspaces: ['api'] })]);
    expect(doc.workspaces[0].threads).toEqual([expect.objectContaining({ title: 'write the changelog', status: 'notLoaded' })]);

    const text = await runBuiltCli(['status'], { env: cliEnv });
    expect(text.stdout).toContain('local  [ready]  this machine · private app-server · codex 0.171.0');
    expect(text.stdout).toContain('api  [ready]  ');
    expect(text.stdout).toContain('write the changelog');
    expect(text.stdout).toContain('next:     idle: awaiting instructions');
  });

  it('feed --needs-input says when nothing waits for the user', async () => {
    const r = await runBuiltCli(['feed', '--needs-input'], { env: cliEnv });
    expect(r).toMatchObject({ code: 0, stdout: 'nothing needs your input' });
    const json = await runBuiltCli(['feed', '--json'], { env: cliEnv });
    expect(JSON.parse(json.stdout)).toMatchObject({ mode: 'in-process', entries: expect.any(Array) });
  });

  it('feed --workspace of a name that is not configured: exit 2 with the known ones, nothing started', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cm-fakebin-'));
    const marker = join(dir, 'started');
    await writeFile(join(dir, 'codex'), `#!/bin/sh\ntouch ${marker}\nexit 1\n`);
    await chmod(join(dir, 'codex'), 0o755);
    const r = await runBuiltCli(['feed', '--workspace', 'nosuch'], { env: { ...cliEnv, CM_SUPERVISOR_CODEX_BIN: join(dir, 'codex') } });
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: 'cm-supervisor: unknown workspace "nosuch"; known: api' });
    expect(existsSync(marker)).toBe(false);
    await rm(dir, { recursive: true, force: true });
  });

  it('status exits 1 when a host serving workspaces cannot connect, with its error', async () => {
    const r = await runBuiltCli(['--codex-bin', '/bin/true', 'status'], { env: cliEnv });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('local  [restarting]  this machine');
    expect(r.stderr).toContain('host local (serving api) could not connect: "/bin/true app-server" exited during the handshake (code 0)');
  });

  it('workspace add warns about a directory outside any git work tree (Codex trusts projects by directory), and only then', async () => {
    const otherEnv = { ...cliEnv, CM_SUPERVISOR_HOME: await mkdtemp(join(tmpdir(), 'cm-githome-')) };
    const plain = await env.workspace('plain');
    const gitRepo = await env.workspace('gitrepo');
    await mkdir(join(gitRepo, '.git'));
    await mkdir(join(gitRepo, 'packages', 'api'), { recursive: true });
    const warned = await runBuiltCli(['workspace', 'add', plain], { env: otherEnv });
    expect(warned).toMatchObject({ code: 0, stderr: expect.stringContaining(`warning: ${plain} is not a git repository; Codex trusts projects by directory`) });
    expect((await runBuiltCli(['workspace', 'add', gitRepo], { env: otherEnv })).stderr).toBe('');
    // Below the top of a work tree is in the repository too (so is a worktree's `.git` file).
    expect((await runBuiltCli(['workspace', 'add', join(gitRepo, 'packages', 'api')], { env: otherEnv })).stderr).toBe('');
    await rm(otherEnv.CM_SUPERVISOR_HOME, { recursive: true, force: true });
  });

  it('an invalid config file is named with the field at fault, exit 2', async () => {
    const badHome = await mkdtemp(join(tmpdir(), 'cm-badhome-'));
    await writeFile(join(badHome, 'config.json'), JSON.stringify({ workspaces: [{ name: 'x', path: 'relative/path' }] }));
    const r = await runBuiltCli(['status'], { env: { ...cliEnv, CM_SUPERVISOR_HOME: badHome } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`invalid configuration in ${join(badHome, 'config.json')}: workspaces.0.path: must be an absolute path`);
    await writeFile(join(badHome, 'config.json'), '{ not json');
    const broken = await runBuiltCli(['status'], { env: { ...cliEnv, CM_SUPERVISOR_HOME: badHome } });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`cannot read ${join(badHome, 'config.json')}`);
    await rm(badHome, { recursive: true, force: true });
  });
});
