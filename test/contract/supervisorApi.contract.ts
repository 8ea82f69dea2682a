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
        api.dispatch({ version: 2, id: 'c-bad', actions: [{ id: 'x', workspace: 'nope', prompt: '' }, { id: 'y', workspace: 'api', prompt: 'fine', extra: 1 }] }),
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
  });
}
