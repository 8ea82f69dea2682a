import { afterEach, describe, expect, it } from 'vitest';
import { childPids, isAlive } from '../support/processes.js';
import { spawnInTerminal, type TerminalSession } from '../support/terminal.js';

// A miniature full-screen program: the same terminal moves a TUI makes, without Ink.
const altScreenProgram = `
process.stdout.write('before the alternate screen\\n');
process.stdout.write('\\x1b[?1049h\\x1b[?25l\\x1b[2J\\x1b[5;10Hinside the alternate screen');
process.stdin.setRawMode(true);
process.stdin.resume();
process.stdin.on('data', (data) => {
  const key = data.toString();
  if (key === 'q') {
    process.stdout.write('\\x1b[?1049l\\x1b[?25h');
    process.stdin.setRawMode(false);
    process.exit(0);
  }
  process.stdout.write('\\x1b[6;10Hkey ' + JSON.stringify(key));
});
process.stdout.on('resize', () => {
  process.stdout.write('\\x1b[7;1Hsize ' + process.stdout.columns + 'x' + process.stdout.rows);
});
`;

const sessions: TerminalSession[] = [];
function start(code: string, opts: Parameters<typeof spawnInTerminal>[2] = {}): TerminalSession {
  const session = spawnInTerminal(process.execPath, ['-e', code], opts);
  sessions.push(session);
  return session;
}

afterEach(() => {
  for (const session of sessions.splice(0)) session.dispose();
});

describe('spawnInTerminal', () => {
  it('shows the alternate screen while the program runs and restores the terminal on quit', async () => {
    const term = start(altScreenProgram);

    await term.waitForText('inside the alternate screen');
    expect(term.isAlternateScreen()).toBe(true);
    expect(term.everEnteredAlternateScreen()).toBe(true);
    expect(term.cursorHidden()).toBe(true);
    expect(term.row(4)).toBe(`${' '.repeat(9)}inside the alternate screen`);
    expect(term.screen()).not.toContain('before the alternate screen');

    // One key, no Enter: only arrives if the program really got raw mode on a tty.
    term.write('x');
    await term.waitForText('key "x"');

    term.write('q');
    expect(await term.waitForExit()).toEqual({ exitCode: 0 });
    expect(term.isAlternateScreen()).toBe(false);
    expect(term.everEnteredAlternateScreen()).toBe(true);
    expect(term.cursorHidden()).toBe(false);
    expect(term.row(0)).toBe('before the alternate screen');
    expect(term.screen()).not.toContain('inside the alternate screen');
    expect(term.rawOutput()).toContain('\x1b[?1049h');
  });

  it('passes a resize to the program as SIGWINCH', async () => {
    const term = start(altScreenProgram);
    await term.waitForText('inside the alternate screen');

    term.resize(100, 30);
    await term.waitForText('size 100x30');
    expect(term.screen().split('\n')).toHaveLength(30);
  });

  it('fails waitForText with the current screen in the message', async () => {
    const term = start(altScreenProgram, { cols: 40, rows: 10 });
    await term.waitForText('inside the alternate screen');

    const error = await term.waitForText('never shown', 200).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('timed out after 200 ms');
    expect(message).toContain('never shown');
    expect(message).toContain('40x10, alternate buffer');
    expect(message).toContain(' 4|         inside the alternate screen');
  });

  it('lists the rows drawn in inverse video (how a TUI shows its selection)', async () => {
    const term = start(`process.stdout.write('plain row\\r\\n\\x1b[7mselected\\x1b[27m row\\r\\nanother row\\r\\n'); setTimeout(() => {}, 10_000);`);
    await term.waitForText('another row');
    expect(term.inverseRows()).toEqual(['selected row']);
  });

  it('fails waitForText at once when the program exits without showing the text', async () => {
    const term = start(`process.stdout.write('bye'); process.exit(3);`);

    await expect(term.waitForText('never shown')).rejects.toThrow(/exited before.*\n[\s\S]*bye/);
    expect(await term.waitForExit()).toEqual({ exitCode: 3 });
  });

  it('reports a kill by signal and answers cursor-position queries like a real terminal', async () => {
    // The program waits for the reply to "where is the cursor?" before it draws.
    const term = start(`
      process.stdin.setRawMode(true);
      process.stdin.once('data', (reply) => process.stdout.write('reply ' + JSON.stringify(reply.toString())));
      process.stdout.write('\\x1b[3;5H\\x1b[6n');
      setInterval(() => {}, 1000);
    `);
    await term.waitForText('reply "\\u001b[3;5R"');

    term.kill('SIGTERM');
    expect(await term.waitForExit()).toEqual({ exitCode: 0, signal: 15 });
  });
});

describe('childPids / isAlive', () => {
  it('finds grandchildren and sees them die', async () => {
    // node → sh → sleep: two levels, so the walk has to go past direct children.
    const term = start(`
      require('node:child_process').spawn('sh', ['-c', 'sleep 60; true'], { stdio: 'ignore' });
      process.stdout.write('spawned');
      setInterval(() => {}, 1000);
    `);
    await term.waitForText('spawned');
    await expect.poll(() => childPids(term.pid).length).toBe(2);
    const descendants = childPids(term.pid);
    expect(descendants.every(isAlive)).toBe(true);

    // Parents first (the list is breadth-first): killing sleep first would let sh run on and exit.
    for (const pid of descendants) process.kill(pid, 'SIGKILL');
    term.kill('SIGKILL');
    await term.waitForExit();
    await expect.poll(() => [term.pid, ...descendants].filter(isAlive)).toEqual([]);
  });
});
