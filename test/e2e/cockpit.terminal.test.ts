import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../support/runBuiltCli.js';
import { spawnInTerminal, type TerminalSession } from '../support/terminal.js';

let session: TerminalSession | null = null;
let scratch: string | null = null;

afterEach(() => {
  session?.dispose();
  session = null;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = null;
});

const selected = (s: TerminalSession) => s.inverseRows().filter((row) => /^[✓!✗●▶·]/u.test(row));

// The demo at 80x24: real codex app-servers, the mock model. Keys are written as a person types them.
describe('acting where you look (built binary, real codex, 80x24)', () => {
  it('r replies, t shows the transcript, ! opens a shell in the workspace, x interrupts after asking, # archives after asking', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'cms-cockpit-'));
    const shellSaw = join(scratch, 'shell-cwd.txt');
    session = spawnInTerminal(process.execPath, [CLI, 'demo'], { cols: 80, rows: 24, env: { NO_COLOR: '1', SHELL: '/bin/sh', SHELL_SAW: shellSaw } });
    const s = session;
    await s.waitForText(/✓ done\s+└ Summarize/, 30_000);
    await s.waitForText(/✗ failed\s+└ Upgrade/, 30_000);

    // host, billing-api, its thread: the reply is typed ahead in the same write as `r`.
    s.write('jj');
    await expect.poll(() => selected(s), { timeout: 10_000 }).toEqual([expect.stringMatching(/^✓ done\s+└ Summarize/)]);
    expect(s.screen()).toContain('r reply');
    s.write('rAlso list the files you changed\r');
    await s.waitForText('replied: Done: Also list the files you changed', 30_000);

    s.write('t');
    await s.waitForText(/── turn 2 · completed/, 15_000);
    expect(s.screen()).toContain('› Also list the files you changed');
    s.write('\u001b');
    await s.waitForText('WORKSPACE / THREAD');

    // The shell gets every key typed into it, starts in the workspace and gives the screen back.
    s.write('!');
    await expect.poll(() => s.isAlternateScreen(), { timeout: 10_000 }).toBe(false);
    s.write('pwd > "$SHELL_SAW"; exit\r');
    await s.waitForText('back from /bin/sh (exit 0)', 15_000);
    expect(s.isAlternateScreen()).toBe(true);
    expect(readFileSync(shellSaw, 'utf8')).toMatch(/cm-supervisor-demo-[^/]+\/billing-api-[^/]+\n$/);
    expect(s.screen()).toContain('WORKSPACE / THREAD');

    // web-app's thread waits on an approval: its turn runs. x asks; "n" keeps it.
    s.write('jj');
    await expect.poll(() => selected(s), { timeout: 10_000 }).toEqual([expect.stringMatching(/^! approval\s+└ Write the release/)]);
    s.write('x');
    await s.waitForText(/Interrupt the running turn of web-app: Write the release notes.*\(y\/n\)/);
    s.write('n');
    await expect.poll(() => s.screen().includes('(y/n)'), { timeout: 5_000 }).toBe(false);
    expect(s.screen()).toMatch(/! approval\s+└ Write the release/);
    s.write('x');
    await s.waitForText('(y/n)');
    s.write('y');
    await s.waitForText(/✗ interrupted\s+└ Write the release/, 15_000);

    // infra's failed thread: archived after asking, it leaves the view.
    s.write('jj');
    await expect.poll(() => selected(s), { timeout: 10_000 }).toEqual([expect.stringMatching(/^✗ failed\s+└ Upgrade/)]);
    s.write('#');
    await s.waitForText(/Archive infra: Upgrade the dependencies.*\(y\/n\)/);
    s.write('y');
    await s.waitForText('archived infra: Upgrade the dependencies', 15_000);
    await expect.poll(() => s.screen().includes('└ Upgrade'), { timeout: 10_000 }).toBe(false);

    s.write('q');
    expect((await s.waitForExit(15_000)).exitCode).toBe(0);
    expect(s.isAlternateScreen()).toBe(false);
  });
});
