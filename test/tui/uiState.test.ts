import { describe, expect, it } from 'vitest';
import { COMMAND_LINE, commandUsage, findCommand, runCommandLine, type CommandLineOps } from '../../src/tui/ui/commandLine.js';
import { helpLines } from '../../src/tui/ui/helpLines.js';
import { BOTTOM } from '../../src/tui/document.js';
import { initialUi, reduceUi, TOAST_MS, type UiAction, type UiState } from '../../src/tui/ui/uiState.js';
import { KEYMAP, hintsFor, type KeyContext } from '../../src/tui/keymap.js';
import type { ThreadRecord } from '../../src/core/state/model.js';

const start = (): UiState => initialUi({ nowMs: 1_000 });
const run = (actions: UiAction[], from: UiState = start()): UiState => actions.reduce(reduceUi, from);

describe('reduceUi: where the keys take the screen', () => {
  it.each<[string, UiAction[], Partial<UiState> | ((ui: UiState) => unknown), unknown]>([
    ['a pane key shows the pane', [{ type: 'show', view: 'feed' }], (ui) => ui.view, 'feed'],
    ['Tab goes round the panes', [{ type: 'nextPane' }, { type: 'nextPane' }, { type: 'nextPane' }, { type: 'nextPane' }], (ui) => ui.view, 'ops'],
    ['moving stops at the last row', [{ type: 'move', list: 'ops', delta: 5, count: 3 }], (ui) => ui.selected.ops, 2],
    ['moving stops at the first row', [{ type: 'move', list: 'ops', delta: -1, count: 3 }], (ui) => ui.selected.ops, 0],
    ['Esc from a thread returns to the pane it was opened from', [{ type: 'show', view: 'feed' }, { type: 'openThread', threadId: 't1', view: 'detail' }, { type: 'back' }], (ui) => ui.view, 'feed'],
    [
      'the transcript opened from the detail view returns to it, then to the pane',
      [{ type: 'openThread', threadId: 't1', view: 'detail' }, { type: 'openThread', threadId: 't1', view: 'transcript' }, { type: 'back' }],
      (ui) => [ui.view, ui.trail],
      ['detail', ['ops']],
    ],
    ['the diff opened from the list returns to the list', [{ type: 'openThread', threadId: 't1', view: 'diff' }, { type: 'back' }], (ui) => ui.view, 'ops'],
    ['Tab from a thread view goes to the pane after the one it came from', [{ type: 'show', view: 'feed' }, { type: 'openThread', threadId: 't1', view: 'detail' }, { type: 'nextPane' }], (ui) => ui.view, 'approvals'],
    ['Esc in the feed clears its filters first', [{ type: 'show', view: 'feed' }, { type: 'filter', change: { faults: true } }, { type: 'back' }], (ui) => [ui.view, ui.filter.faults], ['feed', false]],
    ['Esc closes an overlay before anything else', [{ type: 'openThread', threadId: 't1', view: 'detail' }, { type: 'overlay', overlay: { kind: 'search', text: 'x' } }, { type: 'back' }], (ui) => [ui.view, ui.overlay], ['detail', null]],
    ['typing edits only a text overlay', [{ type: 'overlay', overlay: { kind: 'help', scroll: 0 } }, { type: 'type', text: 'abc' }], (ui) => ui.overlay, { kind: 'help', scroll: 0 }],
    ['typing edits the reply', [{ type: 'overlay', overlay: { kind: 'reply', text: '', threadId: 't', label: 'l' } }, { type: 'type', text: 'go on' }], (ui) => ui.overlay, { kind: 'reply', text: 'go on', threadId: 't', label: 'l' }],
    ['a toast goes after ten seconds', [{ type: 'toast', toast: { text: 'hi', tone: 'info', atMs: 1_000 } }, { type: 'tick', nowMs: 1_000 + TOAST_MS + 1 }], (ui) => ui.toast, null],
    ['a toast stays before then', [{ type: 'toast', toast: { text: 'hi', tone: 'info', atMs: 1_000 } }, { type: 'tick', nowMs: 1_000 + TOAST_MS }], (ui) => ui.toast?.text, 'hi'],
    ['mute then unmute', [{ type: 'mute', workspace: 'a', muted: true }, { type: 'mute', workspace: 'b', muted: true }, { type: 'mute', workspace: 'a', muted: false }], (ui) => ui.notifications.muted, ['b']],
  ])('%s', (_name, actions, pick, expected) => {
    const ui = run(actions);
    expect(typeof pick === 'function' ? pick(ui) : ui).toEqual(expected);
  });

  const inDetail = () => run([{ type: 'openThread', threadId: 't1', view: 'detail' }]);

  // A document of 121 wrapped lines, 21 on screen: the last page starts at line 100.
  const page = { total: 121, rows: 21 };
  const at = (...lines: number[]) => lines.map((line) => ({ line, start: 0, end: 3 }));
  it.each<[string, UiAction[], number]>([
    ['the detail view follows its end', [], BOTTOM],
    ['a page up from the end keeps a line of the page before', [{ type: 'scroll', move: 'pageUp', ...page }], 80],
    ['g goes to the top', [{ type: 'scroll', move: 'top', ...page }], 0],
    ['no scrolling above the top', [{ type: 'scroll', move: 'top', ...page }, { type: 'scroll', move: 'lineUp', ...page }], 0],
    ['back at the end it follows again', [{ type: 'scroll', move: 'pageUp', ...page }, { type: 'scroll', move: 'pageDown', ...page }], BOTTOM],
    ['a search puts a match off screen a third down the page', [{ type: 'scroll', move: 'top', ...page }, { type: 'search', query: 'err', matches: at(40, 70), ...page }], 33],
    ['a match already on screen does not move it', [{ type: 'scroll', move: 'top', ...page }, { type: 'search', query: 'err', matches: at(5, 70), ...page }], 0],
    ['n goes to the next match', [{ type: 'scroll', move: 'top', ...page }, { type: 'search', query: 'err', matches: at(5, 70), ...page }, { type: 'match', delta: 1, matches: at(5, 70), ...page }], 63],
    ['N from the first wraps to the last', [{ type: 'scroll', move: 'top', ...page }, { type: 'search', query: 'err', matches: at(5, 70), ...page }, { type: 'match', delta: -1, matches: at(5, 70), ...page }], 63],
    ['a search that finds nothing does not move', [{ type: 'scroll', move: 'top', ...page }, { type: 'search', query: 'zz', matches: [], ...page }], 0],
  ])('documents: %s', (_name, actions, scroll) => {
    expect(run(actions, inDetail()).docs.detail.scroll).toBe(scroll);
  });

  it('a thread opened afresh starts its views over; the same thread keeps its place', () => {
    const scrolled = run([{ type: 'openThread', threadId: 't1', view: 'transcript' }, { type: 'scroll', move: 'lineDown', total: 50, rows: 10 }]);
    expect(run([{ type: 'back' }, { type: 'openThread', threadId: 't1', view: 'transcript' }], scrolled).docs.transcript.scroll).toBe(1);
    expect(run([{ type: 'back' }, { type: 'openThread', threadId: 't2', view: 'transcript' }], scrolled).docs.transcript.scroll).toBe(0);
  });

  it('Esc first clears a search, then leaves', () => {
    const searched = run([{ type: 'search', query: 'err', matches: [{ line: 3, start: 0, end: 3 }], total: 30, rows: 10 }], inDetail());
    const once = reduceUi(searched, { type: 'back' });
    expect([once.view, once.docs.detail.search]).toEqual(['detail', '']);
    expect(reduceUi(once, { type: 'back' }).view).toBe('ops');
  });

  it('is pure: the state it was given is unchanged', () => {
    const before = inDetail();
    const copy = structuredClone(before);
    run([{ type: 'scroll', move: 'pageUp', total: 40, rows: 10 }, { type: 'move', list: 'ops', delta: 1, count: 4 }, { type: 'mute', workspace: 'a', muted: true }], before);
    expect(before).toEqual(copy);
  });
});

describe('the : command table', () => {
  const recorder = () => {
    const calls: string[] = [];
    const ops: CommandLineOps = {
      show: (v) => calls.push(`show ${v}`),
      help: () => calls.push('help'),
      dispatchFile: (p) => calls.push(`dispatch ${p}`),
      ack: (id) => calls.push(`ack ${id}`),
      mute: (w, m) => calls.push(`${m ? 'mute' : 'unmute'} ${w}`),
      notify: (on) => calls.push(`notify ${on}`),
      quit: () => calls.push('quit'),
      usage: (t) => calls.push(`usage ${t}`),
    };
    return { calls, ops };
  };

  it.each([
    ['ws', 'show ops'],
    ['workspaces', 'show ops'],
    ['ap', 'show approvals'],
    ['needs', 'show approvals'],
    ['dispatch plan.json', 'dispatch plan.json'],
    ['dispatch', 'usage usage: :dispatch FILE'],
    ['ack', 'ack null'],
    ['ack sig-1', 'ack sig-1'],
    ['mute api', 'mute api'],
    ['unmute api', 'unmute api'],
    ['notify off', 'notify false'],
    ['notify maybe', 'usage usage: :notify on|off'],
    ['help', 'help'],
    ['h', 'help'],
    ['quit', 'quit'],
    ['  q  ', 'quit'],
  ])(':%s', (line, expected) => {
    const { calls, ops } = recorder();
    runCommandLine(line, ops);
    expect(calls).toEqual([expected]);
  });

  it('an unknown command lists every command of the table', () => {
    const { calls, ops } = recorder();
    runCommandLine('frobnicate', ops);
    expect(calls[0]).toContain('unknown command ":frobnicate"');
    for (const c of COMMAND_LINE) expect(calls[0]).toContain(commandUsage(c));
  });

  it('names and aliases are unique', () => {
    const names = COMMAND_LINE.flatMap((c) => [c.name, ...c.aliases]);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(findCommand(n)).toBeDefined();
  });

  it('the help of every view lists every command, :notify and :help included', () => {
    for (const view of ['ops', 'feed', 'approvals', 'detail', 'transcript', 'diff', 'chat'] as const) {
      const text = helpLines(view).map((l) => `${l.keys} ${l.description}`).join('\n');
      expect(text).toContain(':notify on|off');
      expect(text).toContain(':help');
      expect(text).toContain(':dispatch FILE');
    }
  });
});

describe('footer hints: only the keys that apply', () => {
  const thread = (over: Partial<ThreadRecord>): ThreadRecord => ({ currentTurnId: null, lastTurn: null, ...over }) as ThreadRecord;
  const context = (t: ThreadRecord | null, approval = false): KeyContext => ({ thread: t, approval, proposal: false, scrollable: false });

  it.each<[string, KeyContext, string[], string[]]>([
    ['a running thread', context(thread({ currentTurnId: 'u1' })), ['r reply', 'x interrupt'], ['R retry']],
    ['a failed thread', context(thread({ lastTurn: { id: 'u', status: 'failed', error: 'x' } })), ['r reply', 'R retry', 'D diff'], ['x interrupt']],
    ['a workspace row', context(null), ['Enter open'], ['r reply', 'x interrupt', 'R retry', '! shell']],
  ])('operations view, %s', (_name, ctx, shown, hidden) => {
    const hints = hintsFor('ops', ctx);
    for (const h of shown) expect(hints).toContain(h);
    for (const h of hidden) expect(hints).not.toContain(h);
  });

  it('the detail view offers the approval keys only when an approval waits', () => {
    const t = thread({ lastTurn: { id: 'u', status: 'failed', error: 'x' } });
    expect(hintsFor('detail', context(t))).not.toContain('a/A/d/c answer');
    expect(hintsFor('detail', context(t, true))).toContain('a/A/d/c answer');
  });

  it('no two bindings of one view share a key', () => {
    for (const view of ['ops', 'feed', 'approvals', 'detail', 'transcript', 'diff', 'chat'] as const) {
      const keys = KEYMAP.filter((b) => b.views === 'all' || b.views.includes(view)).flatMap((b) => b.keys.split(' / '));
      const dupes = keys.filter((k, i) => keys.indexOf(k) !== i);
      expect(dupes, view).toEqual([]);
    }
  });
});
