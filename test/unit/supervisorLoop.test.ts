import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { localHost } from '../../src/core/hosts/hostSpec.js';
import { Supervisor } from '../../src/core/loop/supervisor.js';
import { SupervisorError } from '../../src/core/errors.js';
import { persistedPart } from '../../src/core/persistence/stateStore.js';
import { openSignals, selectFeed } from '../../src/core/state/selectors.js';
import { threadSeen } from '../support/events.js';
import { fold, readyState } from '../support/replay.js';

const fake = fileURLToPath(new URL('../support/fakeAppServer.mjs', import.meta.url));
let supervisor: Supervisor | null = null;

afterEach(async () => {
  await supervisor?.stop();
  supervisor = null;
});

function start(args: string[], options: Partial<ConstructorParameters<typeof Supervisor>[0]> = {}) {
  supervisor = new Supervisor({
    hosts: [localHost({ name: 'fake', kind: 'command', command: [process.execPath, fake, ...args] })],
    workspaces: [{ name: 'ws', host: 'fake', path: process.cwd() }],
    codexBin: 'unused',
    connection: { stopGraceMs: 200, handshakeTimeoutMs: 5_000 },
    ...options,
  });
  return supervisor;
}

describe('Supervisor loop recovery (fake app-server)', () => {
  it('a server that dies at once is retried a bounded number of times, with one disconnected signal', async () => {
    const sup = start(['--die-at-once'], { restart: { maxAttempts: 2, baseDelayMs: 10 } });
    await sup.start();
    const state = await sup.waitUntil((s) => selectFeed(s).some((e) => e.text.includes('gave up')), 10_000);
    expect(state.workspaces.ws!.status).toBe('disconnected');
    expect(state.hosts.fake!.restartCount).toBe(2);
    const signals = openSignals(state).filter((s) => s.kind === 'disconnected');
    expect(signals).toHaveLength(1);
    expect(signals[0]!.message).toContain('exited during the handshake (code 3)');
    expect(signals[0]!.context.stderrTail).toContain('fatal: could not read config.toml: invalid key');
    expect(selectFeed(state).map((e) => e.text)).toEqual(
      expect.arrayContaining([expect.stringContaining('reconnecting to the app-server (attempt 1)'), expect.stringContaining('reconnecting to the app-server (attempt 2)')]),
    );
  });

  it('a server that stops answering pings is killed, reported and restarted', async () => {
    const sup = start(['--no-ping-reply'], { pollIntervalMs: 100, pingTimeoutMs: 300, restart: { baseDelayMs: 10, maxAttempts: 1 } });
    await sup.start();
    const firstPid = (await sup.snapshot()).hosts.fake!.pid;
    const down = await sup.waitUntil((s) => openSignals(s).some((x) => x.kind === 'disconnected'), 10_000);
    expect(openSignals(down).find((x) => x.kind === 'disconnected')!.message).toBe(
      'disconnected: app-server stopped answering (no reply to a ping within 0.3s) and was killed',
    );
    const up = await sup.waitUntil((s) => s.workspaces.ws!.status === 'ready' && s.hosts.fake!.pid !== firstPid, 10_000);
    expect(up.hosts.fake!.restartCount).toBe(1);
  });

  it("acting on a thread whose host is down is refused with why (exit 1); its diff, kept in the state, still reads", async () => {
    const restored = persistedPart(fold([threadSeen('t-1', Date.now(), 'ws')], readyState({ workspace: 'ws' })).state);
    const sup = start(['--die-at-once'], { restart: { maxAttempts: 1, baseDelayMs: 10 }, restored });
    await sup.start();
    await sup.waitUntil((s) => s.hosts.fake?.status !== 'starting', 10_000);
    for (const call of [() => sup.reply('t-1', 'hello'), () => sup.retryTurn('t-1'), () => sup.transcript('t-1'), () => sup.archiveThread('t-1')]) {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SupervisorError);
      expect((error as SupervisorError).exitCode).toBe(1);
      expect((error as Error).message).toContain('workspace "ws" is on host "fake", which is not connected');
    }
    expect(await sup.threadDiff('t-1')).toEqual({ threadId: 't-1', turnId: null, diff: '', files: [] });
  });

  it('stop() stops every server and reports the workspace stopped, not disconnected', async () => {
    const sup = start([]);
    await sup.start();
    await sup.stop();
    const state = await sup.snapshot();
    expect(state.workspaces.ws!.status).toBe('stopped');
    expect(openSignals(state)).toEqual([]);
  });

  it('answering an unknown approval or with a decision not offered is a clear usage error', async () => {
    const sup = start([]);
    await sup.start();
    await expect(sup.answerApproval('ws#99', 'accept')).rejects.toThrow('no pending approval "ws#99"');
    await expect(sup.ackSignal('s404')).rejects.toThrow('no signal with id "s404"');
  });

  it('subscribers see every change with consecutive sequence numbers', async () => {
    const sup = start([]);
    const seqs: number[] = [];
    sup.subscribe((c) => seqs.push(c.seq));
    await sup.start();
    expect(seqs.length).toBeGreaterThan(2);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
  });
});
