// The TUI's `!`: which program opens a person's shell in a workspace, on this machine or over ssh.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHost, type HostSpec } from '../../src/core/hosts/hostSpec.js';
import { shellCommand } from '../../src/core/hosts/shellCommand.js';

const ssh = (overrides: Partial<HostSpec> = {}): HostSpec =>
  localHost({ name: 'build1', kind: 'ssh', ssh: { user: 'me', host: 'build1', port: 2222 }, sshOptions: ['IdentityFile=/k/id'], ...overrides });
const DEFAULTS = ['-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=3', '-o', 'ConnectTimeout=15'];

describe('shellCommand', () => {
  it.each<[string, HostSpec, string, Record<string, string | undefined>, ReturnType<typeof shellCommand>]>([
    ['local: $SHELL in the directory', localHost(), '/repo/api', { SHELL: '/bin/zsh' }, { file: '/bin/zsh', args: [], cwd: '/repo/api' }],
    ['local without $SHELL: /bin/sh', localHost(), '/repo/api', {}, { file: '/bin/sh', args: [], cwd: '/repo/api' }],
    ['local with an empty $SHELL: /bin/sh', localHost(), '/repo/api', { SHELL: '' }, { file: '/bin/sh', args: [], cwd: '/repo/api' }],
    ['local, a path with spaces and quotes: given as the cwd, unquoted', localHost(), `/repo/it's "a" dir`, { SHELL: '/bin/bash' }, { file: '/bin/bash', args: [], cwd: `/repo/it's "a" dir` }],
    [
      'command host: its workspaces are local directories',
      localHost({ name: 'legacy', kind: 'command', command: ['my-app-server'] }),
      '/repo/web',
      { SHELL: '/bin/bash' },
      { file: '/bin/bash', args: [], cwd: '/repo/web' },
    ],
    [
      'ssh: -t, the host options (no BatchMode, no -T), a login shell in the quoted directory',
      ssh(),
      '/srv/api',
      { SHELL: '/bin/zsh' },
      { file: 'ssh', args: ['-t', '-p', '2222', '-o', 'IdentityFile=/k/id', ...DEFAULTS, '--', 'me@build1', 'cd /srv/api && exec "${SHELL:-/bin/sh}" -l'] },
    ],
    [
      'ssh, a path with spaces and quotes: one single-quoted word',
      ssh({ ssh: { user: null, host: 'build1', port: null }, sshOptions: [] }),
      `/srv/it's "a" dir`,
      {},
      { file: 'ssh', args: ['-t', ...DEFAULTS, '--', 'build1', `cd '/srv/it'\\''s "a" dir' && exec "\${SHELL:-/bin/sh}" -l`] },
    ],
  ])('%s', (_name, host, path, env, expected) => {
    expect(shellCommand(host, { path }, env)).toEqual(expected);
  });

  describe('the remote command, run by a real POSIX shell as sshd would', () => {
    let dir: string;
    let fakeShell: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cm-shellcmd-'));
      fakeShell = join(dir, 'print-dir');
      // Stands in for the user's login shell: says where it started and how.
      await writeFile(fakeShell, '#!/bin/sh\necho "$PWD|$*"\n');
      await chmod(fakeShell, 0o755);
    });
    afterAll(async () => rm(dir, { recursive: true, force: true }));

    it.each([`it's "a" dir`, 'spaces  and $HOME `x` $(y)', 'semi; rm -rf nothing &&'])('lands in %j and execs $SHELL -l', async (name) => {
      const workspace = join(dir, name);
      await mkdir(workspace);
      const { args } = shellCommand(ssh(), { path: workspace }, {});
      const result = await execa('/bin/sh', ['-c', args.at(-1)!], { env: { SHELL: fakeShell }, cwd: tmpdir(), reject: false });
      expect(result).toMatchObject({ exitCode: 0, stdout: `${workspace}|-l` });
    });
  });
});
