import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';
import { CLI, runBuiltCli } from '../support/runBuiltCli.js';
import { spawnInTerminal } from '../support/terminal.js';

// A directory name that writes the clipboard (OSC 52, ended by BEL) and turns the text red (SGR).
const HOSTILE = 'ev\u001b]52;c;aGk=\u0007X\u001b[31mred';
const SHOWN = 'ev\\x1b]52;c;aGk=\\x07X\\x1b[31mred';
// Anything a terminal acts on: C0 but tab and newline, DEL, C1.
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let env: RealCodexEnv;
let home: string;
let configured: string;
let unconfigured: string;
let asked: string;
let cliEnv: Record<string, string>;

function cli(args: string[], options: { input?: string } = {}) {
  return runBuiltCli(args, { env: cliEnv, ...options });
}

/** Nothing that reaches the terminal can drive it, and the odd characters are visible as escapes. */
function expectEscaped(r: { stdout: string; stderr: string }, shown = SHOWN): void {
  expect(r.stdout).not.toMatch(TERMINAL_CONTROL);
  expect(r.stderr).not.toMatch(TERMINAL_CONTROL);
  expect(`${r.stdout}\n${r.stderr}`).toContain(shown);
}

beforeAll(async () => {
  env = await startRealCodexEnv();
  home = await mkdtemp(join(tmpdir(), 'cm-control-home-'));
  configured = join(await env.workspace('control'), HOSTILE);
  unconfigured = join(await env.workspace('control'), HOSTILE);
  await mkdir(configured);
  await mkdir(unconfigured);
  asked = join(await env.workspace('control'), HOSTILE);
  await mkdir(asked);
  cliEnv = { ...env.home.env, CM_SUPERVISOR_HOME: home };
});
afterAll(async () => {
  await env?.cleanup();
  await rm(home, { recursive: true, force: true });
});

describe('control characters in names and paths never reach the terminal (built CLI, real codex)', () => {
  it('workspace add: the invalid default name and the added path are shown escaped', async () => {
    const invalid = await cli(['workspace', 'add', configured]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain(`"${SHOWN}" is not a valid workspace name`);
    expectEscaped(invalid);

    const added = await cli(['workspace', 'add', configured, '--name', 'hostile']);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`added workspace "hostile" (`);
    expectEscaped(added);
  });

  it('workspace list and status show the path escaped; --json keeps the exact path', async () => {
    const list = await cli(['workspace', 'list']);
    expect(list.code).toBe(0);
    expectEscaped(list);
    const listJson = await cli(['workspace', 'list', '--json']);
    expect(listJson.stdout).not.toMatch(TERMINAL_CONTROL);
    expect(JSON.parse(listJson.stdout)).toEqual([{ name: 'hostile', host: 'local', path: configured }]);

    const status = await cli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('hostile  [ready]');
    expectEscaped(status);
    const statusJson = await cli(['status', '--json']);
    expect(statusJson.stdout).not.toMatch(TERMINAL_CONTROL);
    expect(JSON.parse(statusJson.stdout).workspaces[0].path).toBe(configured);
  });

  it('feed names an unknown workspace escaped, and a usage error an unknown command or option', async () => {
    for (const args of [['feed', '--workspace', HOSTILE], [HOSTILE], ['status', `--${HOSTILE}`]]) {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expectEscaped(r);
    }
  });

  it('dispatch: a real turn in a directory so named shows it escaped', async () => {
    const plan = JSON.stringify({ version: 1, id: 'hostile', actions: [{ id: 'dir', workspace: unconfigured, prompt: 'hello', thread: 'new' }] });
    // The directory is no configured workspace and not under the plan's directory: an opt-in.
    const r = await cli(['dispatch', '--plan', '-', '--allow-unsafe'], { input: plan });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dir\s+\S*ev\\x1b\]52;c;aGk=\\x07X\\x1b\[31mred\s+completed/);
    expectEscaped(r);
    const feed = await cli(['feed']);
    expect(feed.code).toBe(0);
    expect(feed.stdout).not.toMatch(TERMINAL_CONTROL);
    expect(feed.stderr).not.toMatch(TERMINAL_CONTROL);
  });

  it('an invalid plan with NUL, ESC and BEL in its fields: the validation errors show them escaped', async () => {
    const plan = { version: 1, actions: [{ id: 'a', workspace: 'no\u0000such\u001b[31m', prompt: 'x', ['k\u001b]52;c;aGk=\u0007']: 1 }] };
    const file = join(home, 'hostile-plan.json');
    await writeFile(file, JSON.stringify(plan));
    const r = await cli(['dispatch', '--plan', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nothing was dispatched');
    expect(r.stderr).toContain('no\\x00such\\x1b[31m');
    expectEscaped(r, 'k\\x1b]52;c;aGk=\\x07');

    const json = await cli(['dispatch', '--plan', file, '--json']);
    expect(json.code).toBe(2);
    expect(json.stdout).not.toMatch(TERMINAL_CONTROL);
    expect(JSON.parse(json.stdout).errors.length).toBeGreaterThan(0);
  });

  it('dispatch on a terminal: the approval prompt and the live lines show the directory escaped; our own cursor moves still work', async () => {
    const plan = join(home, 'ask.json');
    await writeFile(plan, JSON.stringify({ version: 1, id: 'ask', actions: [{ id: 'ask', workspace: asked, prompt: '[exec touch approved.txt] go', thread: 'new' }] }));
    const terminal = spawnInTerminal(process.execPath, [CLI, 'dispatch', '--plan', plan, '--allow-unsafe'], { cols: 200, rows: 40, env: { ...cliEnv, NO_COLOR: '1' } });
    try {
      await terminal.waitForText(`in ${asked.slice(0, asked.indexOf('ev'))}${SHOWN}?`, 30_000);
      terminal.write('a\r');
      expect((await terminal.waitForExit(30_000)).exitCode).toBe(0);
      // The workspace is named after the directory (with a suffix: the earlier ones took its name).
      expect(terminal.screen()).toMatch(/ask\s+ev\\x1b\]52;c;aGk=\\x07X\\x1b\[31mred\S*\s+completed/);
      const raw = terminal.rawOutput();
      expect(raw).not.toContain('\u001b]52');
      expect(raw).not.toContain('\u0007');
      expect(raw).not.toContain('\u001b[31m');
      // The live lines were drawn, then moved over (the cursor-up and erase are ours, sent as they are).
      expect(raw).toMatch(/\u001b\[\d+A\u001b\[J/);
    } finally {
      terminal.dispose();
    }
  });
});
