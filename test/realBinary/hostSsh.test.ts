import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requireBundledCodexBinary } from '../../src/core/codexBinary.js';
import type { CodexDaemonMode, HostSpec } from '../../src/core/hosts/hostSpec.js';
import { Supervisor } from '../../src/core/loop/supervisor.js';
import { createOfflineCodexHome, type OfflineCodexHome } from '../../src/core/mockModel/codexHome.js';
import { startMockResponsesServer, type MockResponsesServer } from '../../src/core/mockModel/mockResponsesServer.js';
import type { SupervisorState } from '../../src/core/state/model.js';
import { openSignals, selectFeed } from '../../src/core/state/selectors.js';
import { processesMentioning, startCodexDaemon, type CodexDaemonHandle } from '../support/codexDaemon.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';

// A host reached over OpenSSH: a real sshd on 127.0.0.1 (started here, with its own keys), the
// real codex binary on the "remote" side, the mock model for its turns.

const WAIT_MS = 30_000;
const codexBin = requireBundledCodexBinary();

interface Env {
  sshd: SshdHandle;
  mock: MockResponsesServer;
  home: OfflineCodexHome;
  repo: string;
  daemon: CodexDaemonHandle | null;
  supervisor: Supervisor | null;
}
let env: Env | null = null;

afterEach(async () => {
  if (!env) return;
  const { sshd, mock, home, repo, daemon, supervisor } = env;
  env = null;
  await supervisor?.stop();
  await daemon?.stop();
  // Nothing is left: no ssh client, no remote app-server (it exits when its stdin closes).
  await expect.poll(() => [...processesMentioning(home.dir), ...processesWithEnv('CODEX_HOME', home.dir)], { timeout: WAIT_MS }).toEqual([]);
  await sshd.stop();
  await mock.close();
  await home.cleanup();
  await rm(repo, { recursive: true, force: true });
});

async function setUp(): Promise<Env> {
  const sshd = await startSshd();
  const mock = await startMockResponsesServer();
  const home = await createOfflineCodexHome({ baseUrl: mock.baseUrl });
  const repo = await mkdtemp(join(tmpdir(), 'cm-remote-repo-'));
  env = { sshd, mock, home, repo, daemon: null, supervisor: null };
  return env;
}

/** The host as `host add remote ssh://… --ssh-option … --codex-bin … --env …` configures it. */
function remoteHost(e: Env, codexDaemon: CodexDaemonMode = 'attach'): HostSpec {
  return { name: 'remote', kind: 'ssh', ssh: e.sshd.target, sshOptions: e.sshd.sshOptions, codexBin, codexDaemon, env: e.home.env, command: null };
}

async function supervise(e: Env, host: HostSpec): Promise<Supervisor> {
  // No local environment: everything the remote app-server needs travels in the host's env.
  const sup = new Supervisor({ hosts: [host], workspaces: [{ name: 'far', host: 'remote', path: e.repo }], codexBin: '/nonexistent/local-codex', pollIntervalMs: 300, restart: { baseDelayMs: 200 } });
  e.supervisor = sup;
  await sup.start();
  return sup;
}

const open = (s: SupervisorState, kind: string) => openSignals(s).find((x) => x.kind === kind && x.workspace === 'far');

describe('an ssh host (real sshd on 127.0.0.1)', () => {
  it('completes a turn, answers an approval, survives a killed ssh connection, and leaves nothing behind', async () => {
    const e = await setUp();
    const sup = await supervise(e, remoteHost(e));
    const up = await sup.snapshot();
    // No Codex daemon over there: `codex app-server proxy` fails, so a private app-server through ssh.
    expect(up.hosts.remote).toMatchObject({ kind: 'ssh', status: 'ready', transport: 'private', codexVersion: '0.171.0', target: e.sshd.url });

    const first = await sup.dispatch({
      version: 1,
      id: 's1',
      actions: [{ id: 'hello', workspace: 'far', prompt: 'summarize the remote repo', thread: 'new' }],
    });
    const threadId = first.results[0]!.threadId!;
    await sup.waitUntil((s) => s.jobs['s1:hello']?.status === 'completed', WAIT_MS);

    await sup.dispatch({ version: 1, id: 's2', actions: [{ id: 'touch', workspace: 'far', prompt: `[exec touch ${e.repo}/over-ssh.txt] mark it`, thread: threadId }] });
    const asked = await sup.waitUntil((s) => !!open(s, 'needs_approval'), WAIT_MS);
    expect(open(asked, 'needs_approval')!.context.command).toContain(`touch ${e.repo}/over-ssh.txt`);
    await sup.answerApproval(open(asked, 'needs_approval')!.context.approvalKey!, 'accept');
    await sup.waitUntil((s) => s.jobs['s2:touch']?.status === 'completed', WAIT_MS);
    expect(existsSync(join(e.repo, 'over-ssh.txt'))).toBe(true);

    // The link drops (the server side of the connection is killed).
    const sshPid = (await sup.snapshot()).hosts.remote!.pid!;
    expect(e.sshd.killConnections().length).toBeGreaterThan(0);
    const down = await sup.waitUntil((s) => !!open(s, 'disconnected'), WAIT_MS);
    expect(open(down, 'disconnected')!.message).toBe('disconnected: the app-server on remote lost its ssh connection');
    const back = await sup.waitUntil((s) => s.hosts.remote!.status === 'ready' && s.threads[threadId]!.status !== 'notLoaded', WAIT_MS);
    expect(back.hosts.remote!.pid).not.toBe(sshPid);
    expect(open(back, 'disconnected')).toBeUndefined();
    const feed = selectFeed(back, { workspace: 'far' }).map((f) => f.text);
    expect(feed).toContainEqual(expect.stringMatching(/^reconnecting to host remote \(attempt 1\) in \d/));
    expect(feed).toContainEqual(expect.stringMatching(/^host remote reconnected \(private app-server over ssh, pid \d+\)$/));

    // The resumed thread takes new work over the new connection.
    await sup.dispatch({ version: 1, id: 's3', actions: [{ id: 'again', workspace: 'far', prompt: 'carry on', thread: threadId }] });
    await sup.waitUntil((s) => s.jobs['s3:again']?.status === 'completed', WAIT_MS);
  });

  it("attaches to Codex's daemon over there through `ssh host codex app-server proxy`", async () => {
    const e = await setUp();
    e.daemon = await startCodexDaemon(e.home.env, codexBin);
    const sup = await supervise(e, remoteHost(e));
    expect((await sup.snapshot()).hosts.remote).toMatchObject({ status: 'ready', transport: 'attached' });
    await sup.dispatch({ version: 1, id: 'p1', actions: [{ id: 'a', workspace: 'far', prompt: 'through the proxy', thread: 'new' }] });
    const done = await sup.waitUntil((s) => s.jobs['p1:a']?.status === 'completed', WAIT_MS);
    expect(done.jobs['p1:a']!.finalMessage).toBe('Done: through the proxy');
  });

  it('an unreachable host fails with what, where and how to fix, and keeps retrying', async () => {
    const e = await setUp();
    const host: HostSpec = { ...remoteHost(e, 'never'), ssh: { ...e.sshd.target, port: 1 } };
    const sup = await supervise(e, host);
    const state = await sup.snapshot();
    expect(state.hosts.remote!.status).not.toBe('ready');
    const message = open(state, 'disconnected')!.message;
    expect(message).toContain(`host "remote" (${e.sshd.user}@127.0.0.1:1) is unreachable`);
    expect(message).toContain('Connection refused');
    expect(message).toContain('ssh -o BatchMode=yes');
    await expect(sup.dispatch({ version: 1, id: 'u', actions: [{ id: 'x', workspace: 'far', prompt: 'hi', thread: 'new' }] })).resolves.toMatchObject({
      results: [{ status: 'failed', error: expect.stringContaining('workspace "far" is on host "remote", which is not connected') }],
    });
  });
});

/** Pids of processes whose environment has NAME=VALUE (Linux /proc; only our own user's are readable). */
function processesWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}`;
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) return [];
    try {
      return readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(needle) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}
