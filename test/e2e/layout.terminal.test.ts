import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../support/runBuiltCli.js';
import { spawnInTerminal, type TerminalSession } from '../support/terminal.js';

/** What Codex 0.171.0 says when the demo's mock Responses API answers the upgrade thread with errors. */
const REASON = 'failed: We’re currently experiencing high demand, which may cause temporary errors.';
const squeezed = (text: string) => text.replace(/\s+/g, '');

let session: TerminalSession | null = null;
afterEach(() => {
  session?.dispose();
  session = null;
});

/** The demo on a pseudo-terminal of that size, once its three threads have settled. */
async function demoAt(cols: number, rows: number): Promise<TerminalSession> {
  session = spawnInTerminal(process.execPath, [CLI, 'demo'], { cols, rows, env: { NO_COLOR: '1' } });
  await session.waitForText('Needs you (1)', 30_000);
  await session.waitForText(/✗ failed\s+└ Upgrade/, 30_000);
  await session.waitForText(/✓ done\s+└ Summarize/, 30_000);
  return session;
}

describe('the operations view of the demo in a real terminal (built binary, real codex)', () => {
  it("at 80x24 each thread's last activity and next step are on screen, and the selected thread's task and failure in full", async () => {
    const s = await demoAt(80, 24);
    // Two lines per thread: the title and last activity, then the next step.
    expect(s.screen()).toMatch(/^✗ failed\s+└ Upgrade the dependencies.*just now failed: We/m);
    expect(s.screen()).toMatch(/^ {16}→ failed: send new instruction.*error: We/m);
    expect(s.screen()).toMatch(/^ {16}→ idle: awaiting instructions$/m);
    expect(s.screen()).toMatch(/^ {16}→ waiting for your approval: /m);
    // local, billing-api, its thread, web-app, its thread, infra, its thread.
    s.write('jjjjjj');
    await s.waitForText('── Upgrade the dependencies and run the test suite ──');
    const screen = squeezed(s.screen());
    expect(screen).toContain(squeezed('task  Upgrade the dependencies and run the test suite'));
    expect(screen).toContain(squeezed(`last  just now ${REASON}`));
    expect(screen).toContain(squeezed('next  failed: send new instructions or retry'));
    expect(s.row(23)).toContain('R retry');
    s.write('q');
    expect((await s.waitForExit(15_000)).exitCode).toBe(0);
  });

  it('at 200x60 one line per row with every column, the strip under it; a terminal shrunk below 60x16 says so, and q quits', async () => {
    const s = await demoAt(200, 60);
    expect(s.screen()).toMatch(/^STATUS\s+WORKSPACE \/ THREAD\s+TOKENS\s+TASK\s+LAST ACTIVITY\s+NEXT STEP\s+BLOCKERS$/m);
    expect(s.screen()).toMatch(/^✓ done\s+└ Summarize what change\S*\s+\d+ tok\s+Summarize what/m);
    expect(s.screen()).toMatch(/^✗ failed\s+└ Upgrade the dependenc.*failed: send new instructions or ret.*error: We’re currently/m);
    s.write('jjjjjj');
    await s.waitForText('── Upgrade the dependencies and run the test suite ──');
    expect(s.screen()).toMatch(new RegExp(`^last  \\S+ ago ${REASON}$|^last  just now ${REASON}$`, 'm'));

    s.resize(50, 12);
    await s.waitForText('terminal 50x12 is too small');
    expect(squeezed(s.screen())).toContain(squeezed('terminal 50x12 is too small for cm-supervisor: it needs at least 60x16 — enlarge the window; q quits'));
    s.resize(80, 24);
    await s.waitForText('WORKSPACE / THREAD');
    s.resize(50, 12);
    await s.waitForText('too small');
    s.write('q');
    expect((await s.waitForExit(15_000)).exitCode).toBe(0);
    expect(s.isAlternateScreen()).toBe(false);
  });
});
