import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor, type SupervisorOptions } from '../../src/core/loop/supervisor.js';
import type { SupervisorState } from '../../src/core/state/model.js';
import { openSignals, selectFeed } from '../../src/core/state/selectors.js';
import { startRealCodexEnv, type RealCodexEnv } from '../support/realCodex.js';

const WAIT_MS = 30_000;
let env: RealCodexEnv | null = null;
let supervisor: Supervisor | null = null;

afterEach(async () => {
  await supervisor?.stop();
  await env?.cleanup();
  supervisor = null;
  env = null;
});

async function startSupervisor(names: string[], options: Partial<SupervisorOptions> = {}, envOptions = {}) {
  env = await startRealCodexEnv(envOptions);
  const workspaces = [];
  for (const name of names) workspaces.push({ name, path: await env.workspace(name) });
  supervisor = new Supervisor({ workspaces, codexBin: env.codexBin, env: env.home.env, pollIntervalMs: 200, ...options });
  await supervisor.start();
  return { supervisor, env, workspaces };
}

const openOf = (s: SupervisorState, kind: string, workspace: string) => openSignals(s).find((x) => x.kind === kind && x.workspace === workspace);

describe('Supervisor against the real codex app-server', () => {
  it('two workspaces: one completes, one waits for approval; answering it runs the command', async () => {
    const { supervisor: sup, workspaces } = await startSupervisor(['api', 'web']);
    const web = workspaces[1]!.path;
    const result = await sup.dispatch({
      version: 1,
      id: 'p1',
      actions: [
        { id: 'a', workspace: 'api', prompt: 'summarize the repo', thread: 'new' },
        { id: 'b', workspace: 'web', prompt: `[exec touch ${web}/approved.txt] create the marker`, thread: 'new' },
      ],
    });
    expect(result.results.map((r) => r.status)).toEqual(['dispatched', 'dispatched']);

    const state = await sup.waitUntil((s) => !!openOf(s, 'completed', 'api') && !!openOf(s, 'needs_approval', 'web'), WAIT_MS);
    const completed = openOf(state, 'completed', 'api')!;
    expect(completed.message).toContain('Done: summarize the repo');
    const apiThread = state.threads[result.results[0]!.threadId!]!;
    expect(apiThread.digest.currentTask).toBe('summarize the repo');
    expect(apiThread.digest.lastActivity?.text).toBe('replied: Done: summarize the repo');
    expect(apiThread.digest.nextStep).toBe('idle: awaiting instructions');
    expect(state.jobs['p1:a']).toMatchObject({ status: 'completed', finalMessage: 'Done: summarize the repo' });

    const approvalSignal = openOf(state, 'needs_approval', 'web')!;
    expect(approvalSignal.context).toMatchObject({ command: expect.stringContaining(`touch ${web}/approved.txt`), cwd: web, reason: expect.any(String) });
    const webThread = state.threads[result.results[1]!.threadId!]!;
    expect(webThread.waitingOnApproval).toBe(true);
    expect(webThread.digest.nextStep).toBe(`waiting for your approval: \`touch ${web}/approved.txt\``);
    expect(state.jobs['p1:b']!.status).toBe('waiting_for_user');
    const needsInput = selectFeed(state, { needsInput: true });
    expect(needsInput).toHaveLength(1);
    expect(needsInput[0]).toMatchObject({ workspace: 'web', kind: 'approval', needsInput: true });

    await sup.answerApproval(approvalSignal.context.approvalKey!, 'accept');
    const after = await sup.waitUntil((s) => s.jobs['p1:b']?.status === 'completed', WAIT_MS);
    expect(after.signals[approvalSignal.id]!.resolvedAtMs).not.toBeNull();
    expect(existsSync(`${web}/approved.txt`)).toBe(true);
    expect(selectFeed(after, { needsInput: true })).toEqual([]);
    expect(after.threads[webThread.id]!.recentItems.find((i) => i.type === 'commandExecution')).toMatchObject({ status: 'completed', text: expect.stringContaining('(exit 0)') });
  });

  it('threads already on disk are listed at start, unless listing is turned off (as dispatch does)', async () => {
    const { supervisor: first, env: codex, workspaces } = await startSupervisor(['api']);
    const result = await first.dispatch({ version: 1, actions: [{ id: 'l', workspace: 'api', prompt: 'remember me', thread: 'new' }] });
    const threadId = result.results[0]!.threadId!;
    await first.waitUntil((s) => s.jobs[result.results[0]!.jobKey]?.status === 'completed', WAIT_MS);
    await first.stop();

    const options = { workspaces, codexBin: codex.codexBin, env: codex.home.env };
    supervisor = new Supervisor(options);
    await supervisor.start();
    expect((await supervisor.snapshot()).threads[threadId]).toMatchObject({ workspace: 'api', title: 'remember me', status: 'notLoaded' });
    await supervisor.stop();

    supervisor = new Supervisor({ ...options, listKnownThreads: false });
    await supervisor.start();
    expect((await supervisor.snapshot()).threads).toEqual({});
  });

  it('upstream HTTP 500 becomes a failed signal with the error text', async () => {
    const { supervisor: sup } = await startSupervisor(['api']);
    const result = await sup.dispatch({ version: 1, actions: [{ id: 'x', workspace: 'api', prompt: '[fail] break please', thread: 'new' }] });
    const state = await sup.waitUntil((s) => !!openOf(s, 'failed', 'api'), WAIT_MS);
    const failed = openOf(state, 'failed', 'api')!;
    expect(failed.context.codexErrorKind).toBe('internalServerError');
    expect(failed.context.errorMessage).toEqual(expect.any(String));
    expect(failed.message).toContain(failed.context.errorMessage!.slice(0, 40));
    const thread = state.threads[result.results[0]!.threadId!]!;
    expect(thread.digest.blockers).toContainEqual({ kind: 'error', text: expect.stringContaining('error: ') });
    expect(state.jobs[result.results[0]!.jobKey]!.status).toBe('failed');
  });

  it('a silent upstream becomes stalled after stallAfter, and resolves when the turn ends', async () => {
    const { supervisor: sup } = await startSupervisor(['api'], { stallAfterMs: 1_000 }, { streamIdleTimeoutMs: 3_000 });
    await sup.dispatch({ version: 1, actions: [{ id: 's', workspace: 'api', prompt: '[silent] wait forever', thread: 'new' }] });
    const state = await sup.waitUntil((s) => !!openOf(s, 'stalled', 'api'), WAIT_MS);
    const stalled = openOf(state, 'stalled', 'api')!;
    expect(stalled.context.stalledForMs).toBeGreaterThanOrEqual(1_000);
    expect(selectFeed(state, { faults: true }).map((e) => e.kind)).toContain('stalled');
    // Codex gives up on the idle stream: the turn fails and the stall is over.
    const after = await sup.waitUntil((s) => !!openOf(s, 'failed', 'api'), WAIT_MS);
    expect(after.signals[stalled.id]!.resolvedAtMs).not.toBeNull();
  });

  it("kill -9 of the host's app-server: its workspaces disconnected, restarted, thread resumed, signals resolved", async () => {
    const { supervisor: sup } = await startSupervisor(['api', 'web'], { restart: { baseDelayMs: 100 } });
    const result = await sup.dispatch({ version: 1, actions: [{ id: 'k', workspace: 'api', prompt: '[silent] long task', thread: 'new' }] });
    const threadId = result.results[0]!.threadId!;
    await sup.waitUntil((s) => s.threads[threadId]?.currentTurnId !== null && s.threads[threadId]?.currentTurnId !== undefined, WAIT_MS);
    const before = await sup.snapshot();
    // One app-server serves both workspaces.
    const pid = before.hosts.local!.pid!;
    expect(before.hosts.local).toMatchObject({ status: 'ready', transport: 'private' });
    process.kill(pid, 'SIGKILL');

    const down = await sup.waitUntil((s) => !!openOf(s, 'disconnected', 'api'), WAIT_MS);
    const disconnected = openOf(down, 'disconnected', 'api')!;
    expect(disconnected.message).toContain('killed by SIGKILL');
    expect(openOf(down, 'failed', 'api')?.message).toContain('turn lost');
    expect(down.jobs[result.results[0]!.jobKey]!.status).toBe('interrupted');
    expect(openOf(down, 'disconnected', 'web')).toBeDefined();

    const up = await sup.waitUntil((s) => s.workspaces.api!.status === 'ready' && s.threads[threadId]!.status === 'idle', WAIT_MS);
    expect(up.hosts.local!.pid).not.toBe(pid);
    expect(up.hosts.local!.restartCount).toBe(1);
    expect(up.signals[disconnected.id]!.resolvedAtMs).not.toBeNull();
    expect(up.workspaces.web!.status).toBe('ready');
    expect(openOf(up, 'disconnected', 'web')).toBeUndefined();

    // The resumed thread takes new work on the new process.
    const again = await sup.dispatch({ version: 1, actions: [{ id: 'k2', workspace: 'api', prompt: 'carry on', thread: threadId }] });
    expect(again.results[0]).toMatchObject({ status: 'dispatched', threadId });
    await sup.waitUntil((s) => s.jobs[again.results[0]!.jobKey]?.status === 'completed', WAIT_MS);
  });

  it('stopping gives running turns of a private app-server the grace to finish, then interrupts the rest and says why', async () => {
    const { supervisor: sup } = await startSupervisor(['api', 'web']);
    const result = await sup.dispatch({
      version: 1,
      id: 'g',
      actions: [
        { id: 'quick', workspace: 'api', prompt: '[slow] finishes within the grace', thread: 'new' },
        { id: 'stuck', workspace: 'web', prompt: '[silent] never finishes', thread: 'new' },
      ],
    });
    await sup.waitUntil((s) => result.results.every((r) => s.threads[r.threadId!]?.currentTurnId !== null && s.threads[r.threadId!]?.currentTurnId !== undefined), WAIT_MS);
    await sup.stop({ graceMs: 4_000, reason: 'stopped by quitting the TUI' });
    const state = await sup.snapshot();
    expect(state.jobs['g:quick']).toMatchObject({ status: 'completed' });
    expect(state.jobs['g:stuck']).toMatchObject({ status: 'interrupted', error: 'interrupted (stopped by quitting the TUI)' });
    expect(openOf(state, 'failed', 'web')!.message).toBe('interrupted (stopped by quitting the TUI): [silent] never finishes');
    expect(selectFeed(state, { workspace: 'web' }).map((e) => e.text)).toContain('interrupted (stopped by quitting the TUI)');
    // Said once, though the app-server reports the interrupted turn too.
    expect(selectFeed(state, { workspace: 'web' }).filter((e) => e.kind === 'turn_interrupted')).toHaveLength(1);
  });
});
