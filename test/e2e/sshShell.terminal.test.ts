import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostSpec } from '../../src/core/hosts/hostSpec.js';
import { shellCommand } from '../../src/core/hosts/shellCommand.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';
import { spawnInTerminal } from '../support/terminal.js';

let sshd: SshdHandle;
let dir: string;

beforeAll(async () => {
  sshd = await startSshd();
  dir = await mkdtemp(join(tmpdir(), 'cms-ssh-shell-'));
});

afterAll(async () => {
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

// The `!` of an ssh workspace: the program cm-supervisor hands the terminal to, run on a real
// terminal against a real sshd, lands a person in the workspace's directory on that host.
describe('! on an ssh host (real OpenSSH)', () => {
  it("opens a login shell in the workspace's directory, a path with spaces and a quote", async () => {
    const workspace = join(dir, `it's a "repo"`);
    await mkdir(workspace);
    const host: HostSpec = { name: 'loop', kind: 'ssh', ssh: sshd.target, sshOptions: sshd.sshOptions, codexBin: null, codexDaemon: 'never', env: {}, command: null };
    const program = shellCommand(host, { path: workspace }, { SHELL: '/bin/sh' });
    expect(program.cwd).toBeUndefined();
    const s = spawnInTerminal(program.file, program.args, { cols: 100, rows: 20, env: { SHELL: '/bin/sh' } });
    try {
      s.write('echo "here: $(pwd)"; exit\r');
      await s.waitForText(`here: ${workspace}`, 15_000);
      expect((await s.waitForExit(15_000)).exitCode).toBe(0);
    } finally {
      s.dispose();
    }
  });
});
