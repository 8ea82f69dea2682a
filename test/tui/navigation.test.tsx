import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { helpLines, VIEW_NAMES } from '../../src/tui/ui/helpLines.js';
import { COMMAND_LINE } from '../../src/tui/ui/commandLine.js';
import { useChalkLevel } from '../support/chalkLevel.js';
import { renderApp } from '../support/renderApp.js';
import { everyStatusApi } from '../support/scenarios.js';

// The highlighted row is drawn in inverse video, which chalk drops when it finds no colour
// support (as under vitest). Colours stay off (ColorContext false, as with NO_COLOR); only the
// attributes come back so the highlight is visible in the frame.
useChalkLevel(1);
afterEach(() => cleanup());

const INVERSE = '\u001b[7m';
// eslint-disable-next-line no-control-regex
const plain = (line: string) => line.replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '');

describe('moving through the operations view', () => {
  it('j/k and the arrow keys move the highlighted row', async () => {
    const r = renderApp(everyStatusApi());
    await r.waitFor('old session');
    const highlighted = () => plain(r.lines().slice(3).find((l) => l.includes(INVERSE)) ?? '');
    // The host comes first, its workspaces and their threads below it.
    expect(highlighted()).toMatch(/^● ready\s+▣ local/);
    await r.tap('j');
    expect(highlighted()).toMatch(/^● ready\s+ws1/);
    await r.tap('j');
    expect(highlighted()).toContain('└ install deps');
    await r.tap('\u001b[B');
    expect(highlighted()).toContain('└ refactor parser');
    await r.tap('k');
    expect(highlighted()).toContain('└ install deps');
    await r.tap('\u001b[A');
    expect(highlighted()).toMatch(/^● ready\s+ws1/);
    // Exactly one row is highlighted.
    expect(r.lines().slice(3).filter((l) => l.includes(INVERSE))).toHaveLength(1);
  });

  it('Tab cycles Operations → Feed → Needs you → Chat → Operations, and 1/2/3/4 jump', async () => {
    const r = renderApp(everyStatusApi());
    await r.waitFor('old session');
    const activeTab = () => plain(r.lines()[1]!.split(INVERSE)[1] ?? '').split(' ').slice(1, 3).join(' ');
    expect(activeTab()).toBe('1 Operations');
    await r.press('\t', 'activity feed, newest first');
    expect(activeTab()).toBe('2 Feed');
    await r.press('\t', '[a] accept');
    expect(activeTab()).toBe('3 Needs');
    await r.press('\t', 'Ask the supervisor');
    expect(activeTab()).toBe('4 Chat');
    await r.press('\t', 'WORKSPACE / THREAD');
    expect(activeTab()).toBe('1 Operations');
    await r.press('4', 'Ask the supervisor');
    await r.press('3', '[a] accept');
    await r.press('2', 'activity feed, newest first');
    await r.press('1', 'WORKSPACE / THREAD');
  });
});

describe('help overlay', () => {
  for (const [view, key, marker] of [
    ['ops', '1', 'WORKSPACE / THREAD'],
    ['feed', '2', 'activity feed'],
    ['approvals', '3', '[a] accept'],
  ] as const) {
    it(`? lists the keys of the ${view} view and the : commands from their tables, Esc closes it`, async () => {
      const r = renderApp(everyStatusApi(), { height: 60 });
      await r.waitFor('old session');
      if (key !== '1') await r.press(key, marker);
      await r.press('?', `Keys — ${VIEW_NAMES[view]} view (Esc closes)`);
      const text = plain(r.frame());
      for (const l of helpLines(view).filter((l) => l.keys)) expect(text).toMatch(new RegExp(`^${escapeRegExp(l.keys.padEnd(16))}${escapeRegExp(l.description)}`, 'm'));
      for (const c of COMMAND_LINE) expect(text).toContain(`:${c.name}`);
      r.stdin.write('\u001b');
      await r.waitForGone('Esc closes');
      expect(r.frame()).toContain(marker);
    });
  }

  it('at 80x24 the help scrolls to its last line (:q) with j', async () => {
    const r = renderApp(everyStatusApi());
    await r.waitFor('old session');
    await r.press('?', /lines 1–\d+ of \d+, j\/k scroll/);
    expect(r.frame()).not.toContain(':q ');
    r.stdin.write('j'.repeat(40));
    await r.waitFor(/^:q\s+quit/m);
  });

  it('shows only the keys that work in the view', async () => {
    const r = renderApp(everyStatusApi(), { height: 60 });
    await r.waitFor('old session');
    await r.press('?', 'Keys — operations view');
    const text = plain(r.frame());
    expect(text).not.toContain('faults only');
    expect(text).not.toContain('accept for this session');
    expect(text).toContain('mark the signals of the selection seen');
    expect(text).toContain('interrupt the running turn (asks once)');
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
