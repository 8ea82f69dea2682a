// The SupervisorApi contract: what every implementation (the in-process Supervisor, the
// daemon's socket client) must do alike, checked against the real codex app-server.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateChange, SupervisorApi } from '../../src/core/api/supervisorApi.js';
import { PlanValidationError, SupervisorError } from '../../src/core/errors.js';
import type { SupervisorState } from '../../src/core/state/model.js';
import { openSignals } from '../../src/core/state/selectors.js';
import { addFilePrompt } from '../support/mockPrompts.js';
import type { RealCodexEnv } from '../support/realCodex.js';

export interface ContractSetup {
  api: SupervisorApi;
  env: RealCodexEnv;
  /** Two configured workspaces, `api` then `web`, both started. */
  workspaces: { name: string; path: string }[];
  cleanup(): Promise<void>;
}

const WAIT_MS = 30_000;

/** Resolves with the first snapshot the predicate accepts (polls; works for any implementation). */
export async function waitForState(api: SupervisorApi, predicate: (s: SupervisorState) => boolean, timeoutMs = WAIT_MS): Promise<SupervisorState> {
  let last: SupervisorState | null = null;
  await expect
    .poll(
      async () => {
        last = await api.snapshot();
        return predicate(last);
      },
      { timeout: timeoutMs, interval: 50 },
    )
    .toBe(true);
  return last!;
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to reject, it resolved');
}

export function describeSupervisorApiContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`SupervisorApi contract: ${name}`, () => {
    let ctx: ContractSetup;
    let api: SupervisorApi;
    const ws = (n: string) => ctx.workspaces.find((w) => w.name === n)!.path;

    beforeAll(async () => {
      ctx = await setup();
      api = ctx.api;
    });
    afterAll(async () => {
      await ctx?.cleanup();
    });

    it('snapshot lists the configured workspaces, ready on their host, and the host with its Codex version', async () => {
      const state = await waitForState(api, (s) => ['api', 'web'].every((n) => s.workspaces[n]?.status === 'ready'));
      expect(Object.keys(state.workspaces).sort()).toEqual(['api', 'web']);
      for (const w of ctx.workspaces) {
        expect(state.workspaces[w.name]).toMatchObject({ name: w.name, host: 'local', path: w.path, status: 'ready' });
      }
      expect(state.hosts.local).toMatchObject({ status: 'ready', transport: 'private', codexVersion: '0.171.0', pid: expect.any(Number) });
    });

    it('dispatch of two actions: both jobs complete with their final messages', async () => {
      const result = await api.dispatch({
        version: 1,
        id: 'c-two',
        actions: [
          { id: 'a', workspace: 'api', prompt: 'summarize the repo', thread: 'new' },
          { id: 'b', workspace: 'web', prompt: 'list the routes', thread: 'new' },
        ],
      });
      expect(result.planId).toBe('c-two');
      expect(result.results).toEqual([
        expect.objectContaining({ id: 'a', workspace: 'api', status: 'dispatched', jobKey: 'c-two:a', threadId: expect.any(String), turnId: expect.any(String), error: null }),
        expect.objectContaining({ id: 'b', workspace: 'web', status: 'dispatched', jobKey: 'c-two:b', threadId: expect.any(String), turnId: expect.any(String), error: null }),
      ]);
      const state = await waitForState(api, (s) => s.jobs['c-two:a']?.status === 'completed' && s.jobs['c-two:b']?.status === 'completed');
      expect(state.jobs['c-two:a']).toMatchObject({ finalMessage: 'Done: summarize the repo', threadId: result.results[0]!.threadId });
      expect(state.jobs['c-two:b']).toMatchObject({ finalMessage: 'Done: list the routes', threadId: result.results[1]!.threadId });
      const thread = state.threads[result.results[0]!.threadId!]!;
      expect(thread.digest.currentTask).toBe('summarize the repo');
      expect(thread.digest.lastActivity?.text).toBe('replied: Done: summarize the repo');
    });

    it('an approval: a needs_approval signal and a needs-input feed entry; accepting runs the command and resolves both', async () => {
      const marker = join(ws('web'), 'contract-approved.txt');
      const result = await api.dispatch({
        version: 1,
        id: 'c-exec',
        actions: [{ id: 'touch', workspace: 'web', prompt: `[exec touch ${marker}] create the marker`, thread: 'new' }],
      });
      const threadId = result.results[0]!.threadId!;
      const state = await waitForState(api, (s) => openSignals(s).some((x) => x.kind === 'needs_approval' && x.threadId === threadId));
      const signal = openSignals(state).find((x) => x.kind === 'needs_approval' && x.threadId === threadId)!;
      const key = signal.context.approvalKey!;
      expect(signal.context.command).toContain(`touch ${marker}`);
      expect(state.pendingApprovals[key]).toMatchObject({ workspace: 'web', kind: 'command', threadId });
      expect(state.jobs['c-exec:touch']!.status).toBe('waiting_for_user');
      const needsInput = await api.feed({ needsInput: true });
      expect(needsInput).toEqual([expect.objectContaining({ workspace: 'web', kind: 'approval', needsInput: true, requestKey: key })]);
      expect(existsSync(marker)).toBe(false);

      await api.answerApproval(key, 'accept');
      const after = await waitForState(api, (s) => s.jobs['c-exec:touch']?.status === 'completed');
      expect(after.signals[signal.id]!.resolvedAtMs).not.toBeNull();
      expect(after.pendingApprovals[key]).toBeUndefined();
      expect(existsSync(marker)).toBe(true);
      expect(await api.feed({ needsInput: true })).toEqual([]);
      // Answered twice: the approval is gone.
      const again = await rejection(api.answerApproval(key, 'accept'));
      expect(again).toBeInstanceOf(SupervisorError);
      expect((again as SupervisorError).exitCode).toBe(2);
    });

    it('feed filters: workspace, kinds, text, limit', async () => {
      await api.dispatch({ version: 1, id: 'c-feed', actions: [{ id: 'f', workspace: 'api', prompt: 'feedcheck unique words', thread: 'new' }] });
      await waitForState(api, (s) => s.jobs['c-feed:f']?.status === 'completed');
      const all = await api.feed();
      expect(all.length).toBeGreaterThan(3);
      const seqs = all.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

      const apiOnly = await api.feed({ workspace: 'api' });
      expect(apiOnly.length).toBeGreaterThan(0);
      expect(apiOnly.every((e) => e.workspace === 'api')).toBe(true);
      expect(apiOnly.length).toBeLessThan(all.length);

      const completed = await api.feed({ kinds: ['turn_completed'] });
      expect(completed.length).toBeGreaterThanOrEqual(3);
      expect(completed.every((e) => e.kind === 'turn_completed')).toBe(true);

      const text = await api.feed({ text: 'FEEDCHECK unique' });
      expect(text.length).toBeGreaterThan(0);
      expect(text.every((e) => e.text.toLowerCase().includes('feedcheck unique'))).toBe(true);
      expect(text.map((e) => e.kind)).toContain('turn_completed');

      const limited = await api.feed({ limit: 2 });
      expect(limited).toEqual(all.slice(-2));
      expect(await api.feed({ workspace: 'nope' })).toEqual([]);
    });

    it('ackSignal sets acknowledgedAtMs; an unknown signal id is a usage error', async () => {
      const state = await api.snapshot();
      const signal = openSignals(state).find((s) => s.kind === 'completed' && s.acknowledgedAtMs === null);
      expect(signal).toBeDefined();
      const before = Date.now();
      await api.ackSignal(signal!.id);
      const after = await api.snapshot();
      expect(after.signals[signal!.id]!.acknowledgedAtMs).toBeGreaterThanOrEqual(before - 1_000);
      // Acknowledged, not resolved: the condition itself has not cleared.
      expect(after.signals[signal!.id]!.resolvedAtMs).toBeNull();
      const unknown = await rejection(api.ackSignal('s-does-not-exist'));
      expect(unknown).toBeInstanceOf(SupervisorError);
      expect((unknown as SupervisorError).exitCode).toBe(2);
      expect(unknown.message).toContain('no signal with id "s-does-not-exist"');
    });

    it('an unknown approval or question key rejects with a SupervisorError, exit code 2', async () => {
      const approval = await rejection(api.answerApproval('nope:1', 'accept'));
      expect(approval).toBeInstanceOf(SupervisorError);
      expect(approval).not.toBeInstanceOf(PlanValidationError);
      expect((approval as SupervisorError).exitCode).toBe(2);
      expect(approval.message).toContain('no pending approval "nope:1"');
      const question = await rejection(api.answerQuestion('nope:2', { q: ['x'] }));
      expect(question).toBeInstanceOf(SupervisorError);
      expect((question as SupervisorError).exitCode).toBe(2);
      expect(question.message).toContain('no open question "nope:2"');
    });

    it('an invalid plan rejects with a PlanValidationError naming each problem by path; nothing is dispatched', async () => {
      const before = await api.snapshot();
      const requests = ctx.env.mock.requests.length;
      const error = await rejection(
        api.dispatch({ version: 3, id: 'c-bad', actions: [{ id: 'x', workspace: 'nope', prompt: '' }, { id: 'y', workspace: 'api', prompt: 'fine', extra: 1 }] }),
      );
      expect(error).toBeInstanceOf(PlanValidationError);
      const problems = (error as PlanValidationError).problems;
      expect(problems.map((p) => p.path).sort()).toEqual(['actions[0].prompt', 'actions[0].workspace', 'actions[1].extra', 'version']);
      expect(problems.every((p) => p.message.length > 0)).toBe(true);
      expect((error as PlanValidationError).exitCode).toBe(2);
      expect(error.message).toContain('nothing was dispatched');
      const after = await api.snapshot();
      expect(Object.keys(after.jobs).sort()).toEqual(Object.keys(before.jobs).sort());
      expect(Object.keys(after.jobs).some((k) => k.startsWith('c-bad:'))).toBe(false);
      expect(ctx.env.mock.requests.length).toBe(requests);
    });

    it("a plan widening what an agent may do is refused without the caller's opt-in and dispatched with it; so is a chat proposal", async () => {
      const requests = ctx.env.mock.requests.length;
      const plan = { version: 1, id: 'c-unsafe', actions: [{ id: 'u', workspace: 'api', prompt: 'unsafe check', thread: 'new', sandbox: 'danger-full-access' }] };
      const error = await rejection(api.dispatch(plan));
      expect(error).toBeInstanceOf(PlanValidationError);
      expect((error as PlanValidationError).exitCode).toBe(2);
      expect((error as PlanValidationError).problems).toEqual([{ path: 'actions[0].sandbox', message: expect.stringContaining('pass --allow-unsafe') }]);
      expect(ctx.env.mock.requests.length).toBe(requests);
      const allowed = await api.dispatch(plan, { allowUnsafe: true });
      expect(allowed.results[0]).toMatchObject({ id: 'u', status: 'dispatched' });
      await waitForState(api, (s) => s.jobs['c-unsafe:u']?.status === 'completed');

      const file = join(ws('api'), 'c-unsafe-plan.json');
      await writeFile(file, JSON.stringify({ version: 1, actions: [{ id: 'p', workspace: 'api', prompt: 'chat unsafe check', thread: 'new', approvalPolicy: 'never' }] }));
      const proposed = await api.chatSend(`/plan ${file}`);
      const proposal = proposed.proposal!;
      expect(proposal.text).toContain('it widens what the agents may do');
      expect(proposal.text).toContain('actions[0].approvalPolicy: "never"');
      const refused = await api.chatDecide(proposal.id, 'confirm');
      expect(refused).toMatchObject({ status: 'invalid', dispatched: null });
      expect(refused.messages.map((m) => m.text).join('\n')).toMatch(/actions\[0\]\.approvalPolicy: .*--allow-unsafe/);
      const confirmed = await api.chatDecide(proposal.id, 'confirm', undefined, { allowUnsafe: true });
      expect(confirmed.status).toBe('ok');
      const started = confirmed.dispatched!.results[0]!;
      expect((await waitForState(api, (s) => s.jobs[started.jobKey]?.status === 'completed')).jobs[started.jobKey]!.finalMessage).toBe('Done: chat unsafe check');
    });

    it('subscribe delivers every change with strictly increasing seq; unsubscribing stops them', async () => {
      const changes: StateChange[] = [];
      const unsubscribe = api.subscribe((c) => changes.push(c));
      const result = await api.dispatch({ version: 1, id: 'c-sub', actions: [{ id: 's', workspace: 'api', prompt: 'subscribe check', thread: 'new' }] });
      await waitForState(api, (s) => s.jobs['c-sub:s']?.status === 'completed');
      await expect.poll(() => changes.some((c) => c.eventType === 'turn/completed'), { timeout: WAIT_MS }).toBe(true);
      unsubscribe();
      expect(changes.map((c) => c.eventType)).toEqual(expect.arrayContaining(['job/queued', 'job/dispatched', 'turn/started', 'turn/completed']));
      expect(changes.some((c) => c.eventType === 'resync')).toBe(false);
      for (let i = 1; i < changes.length; i++) expect(changes[i]!.seq).toBeGreaterThan(changes[i - 1]!.seq);
      const completed = changes.find((c) => c.eventType === 'turn/completed')!;
      expect(completed.raised).toEqual([expect.objectContaining({ kind: 'completed', threadId: result.results[0]!.threadId })]);
      // The snapshot is at least as new as the last change seen.
      expect((await api.snapshot()).seq).toBeGreaterThanOrEqual(changes.at(-1)!.seq);

      const count = changes.length;
      await api.dispatch({ version: 1, id: 'c-unsub', actions: [{ id: 'u', workspace: 'api', prompt: 'after unsubscribe', thread: 'new' }] });
      await waitForState(api, (s) => s.jobs['c-unsub:u']?.status === 'completed');
      expect(changes.length).toBe(count);
    });

    it('chat: a slash command and a mention answer alike and land in the shared history', async () => {
      const help = await api.chatSend('/help');
      expect(help).toMatchObject({ status: 'ok', proposal: null, dispatched: null });
      expect(help.messages[0]).toMatchObject({ role: 'user', text: '/help' });
      expect(help.messages.slice(1).map((m) => m.text).join('\n')).toContain('@<workspace> <message>');
      const unknown = await api.chatSend('@nope hello');
      expect(unknown.status).toBe('invalid');
      const mention = await api.chatSend('@api chat mention check');
      expect(mention.status).toBe('ok');
      const started = mention.dispatched!.results[0]!;
      expect(started).toMatchObject({ workspace: 'api', status: 'dispatched' });
      const state = await waitForState(api, (s) => s.jobs[started.jobKey]?.status === 'completed');
      expect(state.jobs[started.jobKey]!.finalMessage).toBe('Done: chat mention check');
      const history = state.chat.map((m) => m.id);
      for (const m of [...help.messages, ...mention.messages]) expect(history).toContain(m.id);
      expect((await api.chatDecide('no-such-proposal', 'confirm')).status).toBe('invalid');
    });

    it('interruptTurn stops a running turn: its job is interrupted', async () => {
      const result = await api.dispatch({ version: 1, id: 'c-int', actions: [{ id: 'i', workspace: 'api', prompt: '[silent] never answers', thread: 'new' }] });
      const { threadId, turnId } = result.results[0]!;
      await waitForState(api, (s) => s.jobs['c-int:i']?.status === 'running');
      await api.interruptTurn(threadId!, turnId!);
      const state = await waitForState(api, (s) => s.jobs['c-int:i']?.status === 'interrupted');
      expect(state.threads[threadId!]!.currentTurnId).toBeNull();
      expect(state.threads[threadId!]!.lastTurn).toMatchObject({ id: turnId, status: 'interrupted' });
      const unknown = await rejection(api.interruptTurn('no-such-thread', 'no-such-turn'));
      expect(unknown).toBeInstanceOf(SupervisorError);
      expect((unknown as SupervisorError).exitCode).toBe(2);
    });
    /** Dispatches one prompt on a new thread of `api` and waits until its job reaches `status`; its ids. */
    async function oneTurn(id: string, prompt: string, status: string, extra: Record<string, unknown> = {}) {
      const result = await api.dispatch({ version: 1, id, actions: [{ id: 'a', workspace: 'api', prompt, thread: 'new', ...extra }] });
      const { threadId, turnId } = result.results[0]!;
      await waitForState(api, (s) => s.jobs[`${id}:a`]?.status === status);
      return { threadId: threadId!, turnId: turnId! };
    }

    async function usageError(promise: Promise<unknown>, exitCode: 1 | 2, text: string) {
      const error = await rejection(promise);
      expect(error).toBeInstanceOf(SupervisorError);
      expect((error as SupervisorError).exitCode).toBe(exitCode);
      expect(error.message).toContain(text);
    }

    it('reply to an idle thread starts a turn that completes; the transcript lists both turns, oldest first', async () => {
      const { threadId, turnId } = await oneTurn('c-reply', 'first words', 'completed');
      const started = await api.reply(threadId, 'second words');
      expect(started).toEqual({ threadId, turnId: expect.any(String), mode: 'started' });
      expect(started.turnId).not.toBe(turnId);
      const state = await waitForState(api, (s) => s.threads[threadId]?.lastTurn?.id === started.turnId && s.threads[threadId]?.lastTurn?.status === 'completed');
      expect(state.threads[threadId]!.lastAgentMessage).toBe('Done: second words');
      expect((await api.feed({ kinds: ['dispatch'] })).map((e) => e.text)).toContain('you replied: second words');

      const transcript = await api.transcript(threadId);
      expect(transcript).toMatchObject({ threadId, workspace: 'api' });
      expect(transcript.turns.map((t) => [t.id, t.status])).toEqual([
        [turnId, 'completed'],
        [started.turnId, 'completed'],
      ]);
      expect(transcript.turns[1]!.items.map((i) => [i.type, i.text])).toEqual([
        ['userMessage', 'second words'],
        ['agentMessage', 'Done: second words'],
      ]);
      expect(transcript.turns[1]!.startedAtMs).toEqual(expect.any(Number));

      await usageError(api.reply(threadId, '  \n '), 2, 'the reply is empty');
      await usageError(api.reply('no-such-thread', 'hello'), 2, 'no thread "no-such-thread"');
      await usageError(api.transcript('no-such-thread'), 2, 'no thread "no-such-thread"');
    });

    it('reply while a turn runs steers it: the same turn takes the words and completes', async () => {
      const { threadId, turnId } = await oneTurn('c-steer', '[silent] hang until steered', 'running');
      const steered = await api.reply(threadId, 'steered words');
      expect(steered).toEqual({ threadId, turnId, mode: 'steered' });
      const state = await waitForState(api, (s) => s.jobs['c-steer:a']?.status === 'completed');
      expect(state.jobs['c-steer:a']!.finalMessage).toBe('Done: steered words');
      expect(ctx.env.mock.requests.at(-1)!.lastUserText).toBe('steered words');
    });

    it("retryTurn sends the failed turn's input again as a new turn; a thread whose last turn completed has nothing to retry", async () => {
      const { threadId, turnId } = await oneTurn('c-retry', '[fail] retry me', 'failed');
      const sent = ctx.env.mock.requests.filter((r) => r.lastUserText === '[fail] retry me').length;
      const retried = await api.retryTurn(threadId);
      expect(retried).toEqual({ threadId, turnId: expect.any(String), mode: 'started' });
      expect(retried.turnId).not.toBe(turnId);
      // The same input reached the model again (and fails again: the mock always fails it).
      await expect.poll(() => ctx.env.mock.requests.filter((r) => r.lastUserText === '[fail] retry me').length, { timeout: WAIT_MS }).toBe(sent + 1);
      await waitForState(api, (s) => s.threads[threadId]?.lastTurn?.id === retried.turnId && s.threads[threadId]?.lastTurn?.status === 'failed');
      expect((await api.feed({ kinds: ['dispatch'] })).map((e) => e.text)).toContain('you retried the failed turn: [fail] retry me');

      const done = await oneTurn('c-retry-done', 'all good', 'completed');
      await usageError(api.retryTurn(done.threadId), 1, 'is completed; retry sends again only a failed or interrupted turn');
      await usageError(api.retryTurn('no-such-thread'), 2, 'no thread "no-such-thread"');
    });

    it('threadDiff: the diff of a turn that wrote a file, with its files; a thread that changed nothing has none', async () => {
      const { threadId, turnId } = await oneTurn('c-diff', addFilePrompt('hello.txt', ['hello world', 'second line']), 'completed', { sandbox: 'workspace-write' });
      expect(existsSync(join(ws('api'), 'hello.txt'))).toBe(true);
      const diff = await api.threadDiff(threadId);
      expect(diff).toMatchObject({ threadId, turnId, files: [{ path: 'hello.txt', added: 2, removed: 0 }] });
      expect(diff.diff).toContain('+++ b/hello.txt\n@@ -0,0 +1,2 @@\n+hello world\n+second line\n');

      const quiet = await oneTurn('c-nodiff', 'change nothing', 'completed');
      expect(await api.threadDiff(quiet.threadId)).toEqual({ threadId: quiet.threadId, turnId: null, diff: '', files: [] });
      await usageError(api.threadDiff('no-such-thread'), 2, 'no thread "no-such-thread"');
    });

    it('archiveThread: the thread leaves the state and the feed says so; it is unknown from then on', async () => {
      const { threadId } = await oneTurn('c-archive', 'to be archived', 'completed');
      await api.archiveThread(threadId);
      const state = await waitForState(api, (s) => s.threads[threadId] === undefined);
      expect(state.activityFeed.at(-1)).toMatchObject({ threadId, text: 'archived: to be archived' });
      await usageError(api.archiveThread(threadId), 2, `no thread "${threadId}"`);
    });
  });
}
