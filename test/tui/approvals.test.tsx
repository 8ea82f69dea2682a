import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '../../src/core/state/events.js';
import type { QuestionRecord } from '../../src/core/state/model.js';
import { normalizeServerRequest } from '../../src/core/state/normalize.js';
import { commandApproval } from '../support/events.js';
import { FakeApi } from '../support/fakeApi.js';
import { displayWidths, renderApp } from '../support/renderApp.js';
import { T0, WS } from '../support/replay.js';
import { startedThread } from '../support/scenarios.js';

afterEach(() => cleanup());

const KEY = `${WS}#1`;

function approvalApi(availableDecisions?: unknown[]): FakeApi {
  const api = new FakeApi();
  api.emitAll([
    ...startedThread('tA', 'install deps', T0 + 1_000),
    commandApproval({
      requestId: 1,
      threadId: 'tA',
      turnId: 'tA-turn',
      atMs: T0 + 1_010,
      command: "/bin/bash -lc 'npm install'",
      cwd: '/work/ws1',
      reason: 'needs the network',
      ...(availableDecisions ? { availableDecisions } : {}),
    }),
  ]);
  return api;
}

async function openNeedsYou(api: FakeApi, size: { width: number; height: number } = { width: 80, height: 24 }) {
  const r = renderApp(api, size);
  await r.waitFor('install deps');
  await r.press('3', /^[a-z]+ {2}ws1/m);
  return r;
}

describe('needs-you queue: command approvals', () => {
  it('shows the command, cwd, reason and the decision keys', async () => {
    const r = await openNeedsYou(approvalApi());
    expect(r.lines()[1]).toContain('3 Needs you (1)');
    expect(r.lines()[2]).toBe('› ws1 · install deps · `npm install`');
    expect(r.frame()).toContain('workspace  ws1    thread  install deps');
    expect(r.frame()).toMatch(/^command {4}npm install$/m);
    expect(r.frame()).toMatch(/^cwd {8}\/work\/ws1$/m);
    expect(r.frame()).toMatch(/^reason {5}needs the network$/m);
    expect(r.frame()).toContain('[a] accept  [A] accept for session  [d] decline  [c] cancel turn');
    expect(Math.max(...displayWidths(r.frame()))).toBeLessThanOrEqual(80);
  });

  it('a accepts the selected approval in place, and it leaves the queue', async () => {
    const api = approvalApi();
    const r = await openNeedsYou(api);
    await r.press('a', 'approved: `npm install` (ws1)');
    expect(api.actions()).toEqual([{ method: 'answerApproval', args: [KEY, 'accept'] }]);
    await r.waitFor('Nothing needs you.');
    expect(r.lines()[1]).toContain('3 Needs you (0)');
    expect(r.lines()[0]).not.toContain('needs_approval');
  });

  it('d declines', async () => {
    const api = approvalApi();
    const r = await openNeedsYou(api);
    await r.press('d', 'declined: `npm install` (ws1)');
    expect(api.actions()).toEqual([{ method: 'answerApproval', args: [KEY, 'decline'] }]);
    await r.waitFor('Nothing needs you.');
  });

  it('c cancels the turn', async () => {
    const api = approvalApi();
    const r = await openNeedsYou(api);
    await r.press('c', 'cancelled the turn: `npm install` (ws1)');
    expect(api.actions()).toEqual([{ method: 'answerApproval', args: [KEY, 'cancel'] }]);
    await r.waitFor('Nothing needs you.');
  });

  it('A does not call the api when "accept for session" is not offered, and says why', async () => {
    const api = approvalApi(['accept', 'cancel']);
    const r = await openNeedsYou(api);
    await r.press('A', '"acceptForSession" is not offered for this approval');
    expect(api.actions()).toEqual([]);
    expect(r.lines()[2]).toBe('› ws1 · install deps · `npm install`');
    expect(r.lines()[1]).toContain('3 Needs you (1)');
  });

  it('answers the selected one of several, oldest first', async () => {
    const api = approvalApi();
    api.emitAll([
      ...startedThread('tB', 'deploy', T0 + 2_000),
      commandApproval({ requestId: 2, threadId: 'tB', turnId: 'tB-turn', atMs: T0 + 2_010, command: "/bin/bash -lc 'make deploy'" }),
    ]);
    const r = await openNeedsYou(api);
    expect(r.lines()[2]).toBe('› ws1 · install deps · `npm install`');
    expect(r.lines()[3]).toBe('  ws1 · deploy · `make deploy`');
    await r.press('j', '› ws1 · deploy · `make deploy`');
    expect(r.frame()).toMatch(/^command {4}make deploy$/m);
    await r.press('a', 'approved: `make deploy` (ws1)');
    expect(api.actions()).toEqual([{ method: 'answerApproval', args: [`${WS}#2`, 'accept'] }]);
    await r.waitFor('3 Needs you (1)');
    expect(r.lines()[2]).toBe('› ws1 · install deps · `npm install`');
  });

  it('shows the error when the answer is refused (answered meanwhile elsewhere)', async () => {
    const api = approvalApi();
    const r = await openNeedsYou(api);
    // Resolved by the server while the UI still shows the previous snapshot.
    api.emitUnseen({ type: 'serverRequest/resolved', atMs: T0 + 2_000, workspace: WS, threadId: 'tA', requestId: 1 });
    await r.press('a', `no pending approval "${KEY}"`);
  });
});

describe('needs-you queue: file changes', () => {
  it('shows the files and the diff lines of a file-change approval', async () => {
    const api = new FakeApi();
    const diff = '@@ -1,2 +1,2 @@\n-const retries = 1;\n+const retries = 3;\n context line';
    const events: SupervisorEvent[] = [
      ...startedThread('tE', 'raise retries', T0 + 1_000),
      {
        type: 'item/started',
        atMs: T0 + 1_100,
        workspace: WS,
        threadId: 'tE',
        turnId: 'tE-turn',
        item: { type: 'fileChange', id: 'fc-1', status: 'inProgress', changes: [{ path: 'src/retry.ts', diff }] },
      },
      normalizeServerRequest(WS, {
        id: 5,
        method: 'item/fileChange/requestApproval',
        params: { threadId: 'tE', turnId: 'tE-turn', itemId: 'fc-1', reason: 'writes outside the sandbox', grantRoot: null },
        receivedAtMs: T0 + 1_200,
      }),
    ];
    api.emitAll(events);
    const r = renderApp(api);
    await r.waitFor('raise retries');
    await r.press('3', 'edit 1 file(s): src/retry.ts');
    expect(r.frame()).toMatch(/^files {6}src\/retry\.ts$/m);
    expect(r.frame()).toMatch(/^reason {5}writes outside the sandbox$/m);
    for (const line of diff.split('\n')) expect(r.lines()).toContain(line);
    expect(r.frame()).toContain('[a] accept  [A] accept for session  [d] decline  [c] cancel turn');
    await r.press('A', 'approved for the session: edit 1 file(s): src/retry.ts (ws1)');
    expect(api.actions()).toEqual([{ method: 'answerApproval', args: [`${WS}#5`, 'acceptForSession'] }]);
  });
});

describe('needs-you queue: questions', () => {
  const question: QuestionRecord = {
    key: `${WS}#9`,
    workspace: WS,
    requestId: 9,
    method: 'item/tool/requestUserInput',
    kind: 'userInput',
    threadId: 'tQ',
    turnId: 'tQ-turn',
    message: 'Which database should I migrate?',
    questions: [{ id: 'db', header: 'Database', question: 'Which database should I migrate?', options: ['staging', 'production'], isSecret: false }],
    receivedAtMs: T0 + 1_100,
  };

  function questionApi(): FakeApi {
    const api = new FakeApi();
    api.emitAll([...startedThread('tQ', 'migrate', T0 + 1_000), { type: 'question/requested', atMs: T0 + 1_100, question }]);
    return api;
  }

  it('Enter opens an input; typing and Enter answers with the typed text', async () => {
    const api = questionApi();
    const r = renderApp(api);
    await r.waitFor('migrate');
    await r.press('3', 'Enter: type an answer');
    expect(r.lines()[2]).toBe('› ws1 · migrate · question: Which database should I migrate?');
    expect(r.frame()).toContain('Database: Which database should I migrate?  (staging / production)');

    await r.press('\r', 'answer ›');
    await r.press('st', 'answer › st');
    // Keys typed into the answer are text, not commands ('a' would accept, 'q' quit).
    await r.press('a', 'answer › sta');
    await r.press('ging', 'answer › staging');
    expect(api.actions()).toEqual([]);
    await r.press('\r', 'answered ws1');
    expect(api.actions()).toEqual([{ method: 'answerQuestion', args: [question.key, { db: ['staging'] }] }]);
    await r.waitFor('Nothing needs you.');
  });

  it('Esc closes the input without answering', async () => {
    const api = questionApi();
    const r = renderApp(api);
    await r.waitFor('migrate');
    await r.press('3', 'Enter: type an answer');
    await r.press('\r', 'answer ›');
    await r.press('prod', 'answer › prod');
    r.stdin.write('\u001b');
    await r.waitFor('Enter: type an answer');
    expect(api.actions()).toEqual([]);
  });

  const another = (n: number, extra: Partial<QuestionRecord> = {}): QuestionRecord => ({
    ...question,
    key: `${WS}#${n}`,
    requestId: n,
    message: `question ${n}?`,
    questions: [{ id: `q${n}`, header: `Q${n}`, question: `question ${n}?`, options: [], isSecret: false }],
    receivedAtMs: T0 + 1_000 + n,
    ...extra,
  });

  it('the answer goes to the question it was typed for, even when an earlier one leaves the queue meanwhile', async () => {
    const api = new FakeApi();
    api.emitAll([...startedThread('tQ', 'migrate', T0 + 1_000), ...[1, 2, 3].map((n) => ({ type: 'question/requested' as const, atMs: T0 + 1_000 + n, question: another(n) }))]);
    const r = renderApp(api);
    await r.waitFor('migrate');
    await r.press('3', '› ws1 · migrate · question: question 1?');
    await r.press('j', '› ws1 · migrate · question: question 2?');
    await r.press('\r', 'answer ›');
    await r.press('for two', 'answer › for two');
    // Question 1 is withdrawn by its server (its turn was interrupted, say).
    api.emit({ type: 'serverRequest/resolved', atMs: T0 + 5_000, workspace: WS, threadId: 'tQ', requestId: 1 });
    await r.waitFor('3 Needs you (2)');
    expect(r.frame()).toContain('Q2: question 2?');
    expect(r.frame()).toContain('answer › for two');
    await r.press('\r', 'answered ws1');
    expect(api.actions()).toEqual([{ method: 'answerQuestion', args: [`${WS}#2`, { q2: ['for two'] }] }]);
  });

  it('when the question is withdrawn while typing, the input closes and says so', async () => {
    const api = new FakeApi();
    api.emitAll([...startedThread('tQ', 'migrate', T0 + 1_000), { type: 'question/requested', atMs: T0 + 1_001, question: another(1) }]);
    const r = renderApp(api);
    await r.waitFor('migrate');
    await r.press('3', 'Enter: type an answer');
    await r.press('\r', 'answer ›');
    await r.press('late', 'answer › late');
    api.emit({ type: 'serverRequest/resolved', atMs: T0 + 5_000, workspace: WS, threadId: 'tQ', requestId: 1 });
    await r.waitFor('Nothing needs you.', 'the question was answered or withdrawn meanwhile');
    // Keys are commands again, and Enter submits nothing.
    r.stdin.write('\r');
    await r.press('?', 'Keys — needs you view');
    expect(api.actions()).toEqual([]);
  });

  it('does not echo the answer to a secret question', async () => {
    const api = new FakeApi();
    const secret = another(1, { questions: [{ id: 'token', header: 'Token', question: 'API token?', options: [], isSecret: true }] });
    api.emitAll([...startedThread('tQ', 'migrate', T0 + 1_000), { type: 'question/requested', atMs: T0 + 1_001, question: secret }]);
    const r = renderApp(api);
    await r.waitFor('migrate');
    await r.press('3', 'Token: API token?');
    await r.press('\r', 'answer ›');
    await r.press('hunter2', 'answer › •••••••');
    expect(r.frames.some((f) => f.includes('hunter2'))).toBe(false);
    await r.press('\r', 'answered ws1');
    expect(api.actions()).toEqual([{ method: 'answerQuestion', args: [secret.key, { token: ['hunter2'] }] }]);
  });

  it('approval keys on a question do not answer anything', async () => {
    const api = questionApi();
    const r = renderApp(api);
    await r.waitFor('migrate');
    await r.press('3', 'Enter: type an answer');
    await r.press('a', 'no approval selected');
    expect(api.actions()).toEqual([]);
  });
});

describe('needs-you queue: requests without the fields only our bindings required', () => {
  it('a permissions approval without a reason says none was given, and is answered', async () => {
    const api = new FakeApi();
    api.emitAll([
      ...startedThread('tP', 'fetch fixtures', T0 + 1_000),
      // Codex's JSON Schema makes `reason` optional (its TypeScript bindings require it).
      normalizeServerRequest(WS, {
        id: 7,
        method: 'item/permissions/requestApproval',
        params: { threadId: 'tP', turnId: 'tP-turn', itemId: 'perm-1', cwd: '/work/ws1', startedAtMs: T0, permissions: { network: { enabled: true } } },
        receivedAtMs: T0 + 1_100,
      }),
    ]);
    const r = renderApp(api);
    await r.waitFor('fetch fixtures');
    await r.press('3', 'extra permissions');
    expect(r.frame()).toMatch(/^reason {5}\(none given\)$/m);
    await r.press('a', 'approved: extra permissions (ws1)');
    expect(api.actions()).toEqual([{ method: 'answerApproval', args: [`${WS}#7`, 'accept'] }]);
  });

  it('an MCP elicitation not tied to a turn is asked and answered', async () => {
    const api = new FakeApi();
    api.emitAll([
      ...startedThread('tM', 'file the ticket', T0 + 1_000),
      // No `turnId`: Codex could not tie the MCP server's request to a turn.
      normalizeServerRequest(WS, {
        id: 8,
        method: 'mcpServer/elicitation/request',
        params: { threadId: 'tM', serverName: 'tracker', mode: 'form', message: 'Which project?', requestedSchema: { type: 'object', properties: {} } },
        receivedAtMs: T0 + 1_100,
      }),
    ]);
    const r = renderApp(api);
    await r.waitFor('file the ticket');
    await r.press('3', 'tracker: Which project?');
    await r.press('\r', 'answer ›');
    await r.press('OPS', 'answer › OPS');
    await r.press('\r', 'answered ws1');
    expect(api.actions()).toEqual([{ method: 'answerQuestion', args: [`${WS}#8`, { response: ['OPS'] }] }]);
  });
});
