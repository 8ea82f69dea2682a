import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { childPids, isAlive } from '../support/processes.js';
import { CLI } from '../support/runBuiltCli.js';
import { spawnInTerminal, type TerminalSession } from '../support/terminal.js';

const demoDirs = () => new Set(readdirSync(tmpdir()).filter((d) => d.startsWith('cm-supervisor-demo-')));
let session: TerminalSession | null = null;

/** A process's command line; '' once it is gone (codex starts short-lived helpers). */
function cmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

afterEach(() => {
  session?.dispose();
  session = null;
});

describe('the offline demo in a real terminal (built binary, real codex)', () => {
  it('shows completed, approval and failure; accepting runs the command; quitting restores the terminal and leaves nothing', async () => {
    const before = demoDirs();
    // CI set, as on a build machine: Ink would then paint only its last frame, i.e. nothing until quit.
    session = spawnInTerminal(process.execPath, [CLI, 'demo'], { cols: 100, rows: 30, env: { NO_COLOR: '1', CI: 'true' } });
    const s = session;
    await s.waitForText('Needs you (1)', 30_000);
    await s.waitForText(/✓ done\s+└ Summarize/, 30_000);
    await s.waitForText(/✗ failed\s+└ Upgrade/, 30_000);
    expect(s.isAlternateScreen()).toBe(true);
    expect(s.screen()).toMatch(/needs_approval 1/);
    const children = childPids(s.pid);
    expect(children.length).toBeGreaterThanOrEqual(1);
    // One app-server on this machine serves the three workspaces.
    const appServers = children.filter((pid) => cmd(pid).includes('app-server'));
    expect(appServers).toHaveLength(1);

    s.write('3');
    await s.waitForText("command    echo '2.4.0: CRLF input, cache expiry' > RELEASE_NOTES.md");
    expect(s.screen()).toContain('reason     Write RELEASE_NOTES.md in the repository');
    s.write('1');
    await s.waitForText('WORKSPACE / THREAD');

    // Key repeat and typing ahead over a slow link: several keys in one write (one read), each
    // acting in turn. The selection goes local → billing-api → its thread → web-app.
    const selected = () => s.inverseRows().filter((row) => row.startsWith('●') || row.startsWith('✓') || row.startsWith('!'));
    expect(selected()).toEqual([expect.stringMatching(/^● ready\s+▣ local/)]);
    s.write('jjj');
    await expect.poll(selected, { timeout: 10_000 }).toEqual([expect.stringMatching(/^● ready\s+web-app/)]);
    // "3" opens Needs you and "a" accepts the approval selected there.
    s.write('3a');
    await s.waitForText("approved: `echo '2.4.0: CRLF input, cache expiry' > RELEASE_NOTES.md` (web-app)");
    await s.waitForText('Nothing needs you.');
    s.write('1');
    await s.waitForText(/✓ done\s+└ Write the/, 30_000);

    s.write('q');
    const exit = await s.waitForExit(15_000);
    expect(exit.exitCode).toBe(0);
    expect(s.isAlternateScreen()).toBe(false);
    expect(s.cursorHidden()).toBe(false);
    // The app-servers were stopped before we exited, not left to die of a closed pipe.
    for (const pid of appServers) expect(isAlive(pid)).toBe(false);
    // Codex's own short-lived helpers (login-shell probes) may take a moment to finish.
    for (const pid of children) await expect.poll(() => isAlive(pid), { timeout: 5_000, message: `child ${pid} survived` }).toBe(false);
    const left = [...demoDirs()].filter((d) => !before.has(d));
    expect(left).toEqual([]);
  });

  it('SIGTERM also restores the terminal and stops every app-server', async () => {
    session = spawnInTerminal(process.execPath, [CLI, 'demo'], { cols: 80, rows: 24, env: { NO_COLOR: '1' } });
    const s = session;
    await s.waitForText('Needs you (1)', 30_000);
    const children = childPids(s.pid);
    const appServers = children.filter((pid) => cmd(pid).includes('app-server'));
    expect(appServers).toHaveLength(1);
    s.kill('SIGTERM');
    const exit = await s.waitForExit(15_000);
    expect(exit.exitCode).toBe(0);
    expect(s.isAlternateScreen()).toBe(false);
    for (const pid of appServers) expect(isAlive(pid)).toBe(false);
    for (const pid of children) await expect.poll(() => isAlive(pid), { timeout: 5_000, message: `child ${pid} survived: ${cmd(pid)}` }).toBe(false);
  });

  it('refuses to run without a terminal, with a clear message', async () => {
    const { runBuiltCli } = await import('../support/runBuiltCli.js');
    const r = await runBuiltCli(['demo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the demo needs an interactive terminal');
  });
});
