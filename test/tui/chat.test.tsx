import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Plan } from '../../src/core/contract/plan.js';
import { renderApp } from '../support/renderApp.js';
import { everyStatusApi } from '../support/scenarios.js';

afterEach(() => cleanup());

const plan: Plan = {
  version: 1,
  actions: [
    { id: 'a', workspace: 'ws1', prompt: 'run the tests', thread: 'latest' },
    { id: 'b', workspace: 'ws2', prompt: 'fix the lint', thread: 'latest' },
  ],
};

describe('chat pane', () => {
  it('sends a typed line and shows the conversation', async () => {
    const api = everyStatusApi();
    const r = renderApp(api, { width: 100, height: 30 });
    await r.waitFor('old session');
    await r.press('4', 'Ask the supervisor');
    await r.press('i', '›');
    await r.press('/status ws1');
    await r.press('\r', 'you: /status ws1', 'supervisor: echo: /status ws1');
    expect(api.actions().filter((c) => c.method === 'chatSend').map((c) => c.args[0])).toEqual(['/status ws1']);
  });

  it('a proposal is dispatched with Enter, rejected with n, or edited as JSON with e', async () => {
    const api = everyStatusApi();
    api.chatProposal = { id: 'p1', plan };
    api.chatScript = () => [{ role: 'planner', text: 'proposed plan p1, 2 actions', proposalId: 'p1', plan }];
    const r = renderApp(api, { width: 100, height: 30 });
    await r.waitFor('old session');
    await r.press('4', 'Ask the supervisor');
    await r.press('i', '›');
    await r.press('run the tests in ws1 and fix the lint in ws2');
    await r.press('\r', 'planner: proposed plan p1', 'proposal p1: Enter/y dispatch');
    await r.press('\r', 'result: dispatched p1');
    expect(api.actions().find((c) => c.method === 'chatDecide')?.args).toEqual(['p1', 'confirm', undefined, { allowUnsafe: false }]);

    await r.press('i', '›');
    await r.press('again');
    await r.press('\r', 'proposal p1: Enter/y dispatch');
    await r.press('n', 'result: rejected p1');
    await vi.waitFor(() => expect(api.actions().filter((c) => c.method === 'chatDecide').at(-1)?.args).toEqual(['p1', 'reject', undefined, { allowUnsafe: false }]));

    await r.press('i', '›');
    await r.press('once more');
    await r.press('\r', 'proposal p1: Enter/y dispatch');
    await r.press('e', '"prompt":"fix the lint"');
    // Replace the whole JSON with an edited plan and submit it.
    const edited = { ...plan, actions: [plan.actions[0]!] };
    await r.press('\u0015'); // Ctrl-U clears the line
    await r.press(JSON.stringify(edited));
    // "result: dispatched p1" is already on screen from the first proposal: wait for the call itself.
    await r.press('\r');
    await vi.waitFor(() => expect(api.actions().filter((c) => c.method === 'chatDecide').at(-1)?.args).toEqual(['p1', 'confirm', edited, { allowUnsafe: false }]));
  });

  it('confirming carries config.json\'s allowUnsafePlans as the opt-in', async () => {
    const api = everyStatusApi();
    api.chatProposal = { id: 'p3', plan };
    const r = renderApp(api, { width: 100, height: 30, allowUnsafePlans: true });
    await r.waitFor('old session');
    await r.press('4', 'Ask the supervisor');
    await r.press('i', '›');
    await r.press('plan something');
    await r.press('\r', 'proposal p3: Enter/y dispatch');
    await r.press('\r', 'result: dispatched p3');
    expect(api.actions().find((c) => c.method === 'chatDecide')?.args).toEqual(['p3', 'confirm', undefined, { allowUnsafe: true }]);
  });

  it('an edit that is not JSON says so and keeps the input open', async () => {
    const api = everyStatusApi();
    api.chatProposal = { id: 'p2', plan };
    const r = renderApp(api, { width: 100, height: 30 });
    await r.waitFor('old session');
    await r.press('4', 'Ask the supervisor');
    await r.press('i', '›');
    await r.press('plan something');
    await r.press('\r', 'proposal p2');
    await r.press('e', '"thread":"latest"}]}');
    await r.press('}}');
    await r.press('\r', 'not valid JSON');
    expect(api.actions().some((c) => c.method === 'chatDecide')).toBe(false);
  });

  it('agent text with terminal escapes never reaches the chat pane', async () => {
    const api = everyStatusApi();
    api.chatScript = () => [{ role: 'supervisor', text: 'evil \u001b]0;title\u0007\u001b[2Jtext' }];
    const r = renderApp(api, { width: 100, height: 30 });
    await r.waitFor('old session');
    await r.press('4', 'Ask the supervisor');
    await r.press('i', '›');
    await r.press('hi');
    await r.press('\r', 'supervisor: evil text');
    expect(r.frame()).not.toContain('\u001b');
  });
});
