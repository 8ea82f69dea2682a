import { describe, expect, it } from 'vitest';
import type { CaughtUpTurn, SupervisorEvent } from '../../../src/core/state/events.js';
import type { SupervisorState } from '../../../src/core/state/model.js';
import { openSignals, selectFeed, workspaceForCwd } from '../../../src/core/state/selectors.js';
import { fold, T0 } from '../../support/replay.js';
import { agentMessage, commandApproval, threadSeen, turnCompleted, turnStarted, userMessage } from '../../support/events.js';

const HOST = 'build1';
const at = T0 + 10_000;

/** One host serving two workspaces, connected with `transport`. */
function twoWorkspaces(transport: 'attached' | 'private'): SupervisorState {
  return fold([
    { type: 'host/added', atMs: T0, name: HOST, kind: 'ssh', target: 'ssh://me@build1' },
    { type: 'workspace/added', atMs: T0, name: 'api', host: HOST, path: '/srv/api', stallAfterMs: 60_000 },
    { type: 'workspace/added', atMs: T0, name: 'web', host: HOST, path: '/srv/web', stallAfterMs: 60_000 },
    { type: 'connection/ready', atMs: T0, host: HOST, pid: 99, codexVersion: '0.171.0', transport },
  ]).state;
}

/** api runs a turn waiting on an approval; web is idle. */
function busy(transport: 'attached' | 'private'): SupervisorState {
  return fold(
    [
      threadSeen('tA', T0 + 1, 'api'),
      turnStarted('tA', 'uA', T0 + 2, 'api'),
      userMessage('tA', 'uA', 'install deps', T0 + 3, 'api'),
      commandApproval({ requestId: 0, threadId: 'tA', turnId: 'uA', atMs: T0 + 4, workspace: 'api', command: 'npm install' }),
      threadSeen('tW', T0 + 5, 'web'),
    ],
    twoWorkspaces(transport),
  ).state;
}

const feedTexts = (state: SupervisorState, workspace?: string) => selectFeed(state, workspace ? { workspace } : {}).map((e) => e.text);

describe('hosts own connections', () => {
  it("a host's status is every one of its workspaces' status; a drop raises disconnected on each", () => {
    const state = busy('private');
    expect(state.workspaces.api!.status).toBe('ready');
    fold([{ type: 'connection/disconnected', atMs: at, host: HOST, exit: 'lost its ssh connection', stderrTail: [] }], state);
    expect([state.workspaces.api!.status, state.workspaces.web!.status]).toEqual(['disconnected', 'disconnected']);
    const disconnected = openSignals(state).filter((s) => s.kind === 'disconnected');
    expect(disconnected.map((s) => [s.workspace, s.message]).sort()).toEqual([
      ['api', 'disconnected: the app-server on build1 lost its ssh connection'],
      ['web', 'disconnected: the app-server on build1 lost its ssh connection'],
    ]);
    fold([{ type: 'connection/ready', atMs: at + 500, host: HOST, pid: 100, codexVersion: '0.171.0', transport: 'private' }], state);
    expect(openSignals(state).filter((s) => s.kind === 'disconnected')).toEqual([]);
  });

  it("a private app-server's drop loses its turns; Codex's daemon keeps them: the approval says where it waits", () => {
    const lost = busy('private');
    fold([{ type: 'connection/disconnected', atMs: at, host: HOST, exit: 'lost its ssh connection', stderrTail: [] }], lost);
    expect(lost.threads.tA).toMatchObject({ currentTurnId: null, lastTurn: { status: 'interrupted' } });

    const kept = busy('attached');
    const { effects } = fold([{ type: 'connection/disconnected', atMs: at, host: HOST, exit: 'closed the connection', stderrTail: [] }], kept);
    expect(kept.threads.tA!.currentTurnId).toBe('uA');
    expect(openSignals(kept).filter((s) => s.kind === 'failed')).toEqual([]);
    expect(effects.filter((e) => e.type === 'notify')).toHaveLength(2);
    // It cannot be answered from here until we are back; the feed says so rather than dropping it silently.
    expect(Object.keys(kept.pendingApprovals)).toEqual([]);
    expect(feedTexts(kept, 'api')).toContain("still waiting in Codex's daemon on build1: `npm install` — asked again when cm-supervisor reconnects");
    expect(kept.workspaces.api!.resumeThreadIds.sort()).toEqual(['tA']);
    expect(kept.workspaces.web!.resumeThreadIds).toEqual(['tW']);
    expect(kept.threads.tA!.digest.blockers).toEqual([{ kind: 'disconnected', text: 'app-server disconnected' }]);
  });

  it('stopping on purpose: a private host ends its turns quietly, an attached one leaves them running', () => {
    const lost = busy('private');
    fold([{ type: 'connection/stopped', atMs: at, host: HOST }], lost);
    expect(lost.threads.tA!.currentTurnId).toBeNull();
    expect(openSignals(lost).filter((s) => s.kind === 'failed')).toEqual([]);

    const kept = busy('attached');
    fold([{ type: 'connection/stopped', atMs: at, host: HOST }], kept);
    expect(kept.threads.tA!.currentTurnId).toBe('uA');
    expect(kept.hosts[HOST]).toMatchObject({ status: 'stopped', awaySinceMs: at, transport: 'attached' });
  });

  it('restoring a saved state: private hosts lost their live work, attached ones resume it', () => {
    for (const transport of ['private', 'attached'] as const) {
      const saved = busy(transport);
      const state = fold([{ type: 'supervisor/restored', atMs: at }], { ...saved, pendingApprovals: {} }).state;
      expect(state.hosts[HOST]).toMatchObject({ status: 'stopped', pid: null });
      expect(state.workspaces.api!.resumeThreadIds).toContain('tA');
      if (transport === 'private') {
        expect(state.threads.tA!.currentTurnId).toBeNull();
        expect(feedTexts(state, 'api').at(-1)).toBe('turn lost: the app-server went down with the previous cm-supervisor');
      } else {
        expect(state.threads.tA!.currentTurnId).toBe('uA');
        expect(feedTexts(state, 'api').some((t) => t.startsWith('turn lost'))).toBe(false);
      }
    }
  });

  it('host/health records ping and memory', () => {
    const state = twoWorkspaces('private');
    fold([{ type: 'host/health', atMs: at, host: HOST, pingMs: 3, rssBytes: 150 * 1024 * 1024 }], state);
    expect(state.hosts[HOST]).toMatchObject({ pingMs: 3, rssBytes: 150 * 1024 * 1024 });
  });

  it('threads are routed to the workspace whose directory holds their cwd (the nearest one)', () => {
    const state = fold([{ type: 'workspace/added', atMs: T0, name: 'api-docs', host: HOST, path: '/srv/api/docs', stallAfterMs: 1 }], twoWorkspaces('attached')).state;
    expect(workspaceForCwd(state, HOST, '/srv/api')).toBe('api');
    expect(workspaceForCwd(state, HOST, '/srv/api/src/lib')).toBe('api');
    expect(workspaceForCwd(state, HOST, '/srv/api/docs/x')).toBe('api-docs');
    expect(workspaceForCwd(state, HOST, '/srv/apiary')).toBeNull();
    expect(workspaceForCwd(state, 'local', '/srv/api')).toBeNull();
  });
});

describe('catching up after being away', () => {
  const caughtUp = (threadId: string, turn: Omit<CaughtUpTurn, 'completedAtMs'> | null, completedAtMs: number | null, workspace = 'api'): SupervisorEvent => ({
    type: 'thread/caughtUp',
    atMs: at + 1_000,
    workspace,
    thread: { id: threadId, title: 'install deps', cwd: '/srv/api', status: { type: 'idle' }, updatedAtMs: completedAtMs ?? at },
    lastTurn: turn && { ...turn, completedAtMs },
  });
  const away = () => fold([{ type: 'connection/stopped', atMs: at, host: HOST }], busy('attached')).state;

  it('a turn we saw running that completed meanwhile is told as completed while you were away', () => {
    const state = away();
    const { effects } = fold([caughtUp('tA', { id: 'uA', status: 'completed', error: null, finalMessage: 'installed 12 packages' }, at + 500)], state);
    expect(state.threads.tA).toMatchObject({ currentTurnId: null, lastTurn: { id: 'uA', status: 'completed' } });
    const completed = openSignals(state).find((s) => s.kind === 'completed')!;
    expect(completed.message).toBe('completed while you were away: install deps — installed 12 packages');
    expect(effects).toContainEqual({ type: 'notify', signalId: completed.id });
    expect(feedTexts(state, 'api').at(-1)).toBe('completed while you were away: installed 12 packages');
  });

  it('a failure meanwhile raises failed; a turn still running is followed; telling it twice tells it once', () => {
    const state = away();
    fold([caughtUp('tA', { id: 'uA', status: 'failed', error: { message: 'stream disconnected' }, finalMessage: null }, at + 500)], state);
    expect(openSignals(state).find((s) => s.kind === 'failed')!.message).toBe('failed while you were away: install deps — stream disconnected');
    const feedLength = state.activityFeed.length;
    fold([caughtUp('tA', { id: 'uA', status: 'failed', error: { message: 'stream disconnected' }, finalMessage: null }, at + 500)], state);
    expect(state.activityFeed).toHaveLength(feedLength);

    const running = away();
    fold([caughtUp('tA', { id: 'uA2', status: 'inProgress', error: null, finalMessage: null }, null)], running);
    expect(running.threads.tA!.currentTurnId).toBe('uA2');
  });

  it('a report overtaken by the turn\'s own events changes nothing: a turn that ended is not running again', () => {
    const state = fold([turnCompleted('tA', 'uA', 'completed', at + 1, null, 'api')], busy('attached')).state;
    fold([caughtUp('tA', { id: 'uA', status: 'inProgress', error: null, finalMessage: null }, null)], state);
    expect(state.threads.tA).toMatchObject({ currentTurnId: null, lastTurn: { id: 'uA', status: 'completed' } });
  });

  it("another client's turn on a known thread is news; old history of a thread met for the first time is not", () => {
    const state = away();
    fold([caughtUp('tW', { id: 'uW', status: 'completed', error: null, finalMessage: 'done elsewhere' }, at + 500, 'web')], state);
    expect(feedTexts(state, 'web').at(-1)).toBe('completed while you were away: done elsewhere');

    fold([caughtUp('tOld', { id: 'uOld', status: 'completed', error: null, finalMessage: 'long ago' }, T0 - 86_400_000)], state);
    expect(state.threads.tOld).toMatchObject({ lastTurn: { id: 'uOld', status: 'completed' }, currentTurnId: null });
    expect(feedTexts(state).some((t) => t.includes('long ago'))).toBe(false);

    fold([caughtUp('tNew', { id: 'uNew', status: 'completed', error: null, finalMessage: 'started by the TUI' }, at + 600)], state);
    expect(feedTexts(state, 'api').at(-1)).toBe('completed while you were away: started by the TUI');
  });

  it('on a first connection, history from before it is not news; a turn that ended since is (another client, followed late)', () => {
    const state = twoWorkspaces('attached');
    fold([caughtUp('tX', { id: 'uX', status: 'completed', error: null, finalMessage: 'from yesterday' }, T0 - 86_400_000)], state);
    expect(openSignals(state)).toEqual([]);
    fold([caughtUp('tY', { id: 'uY', status: 'completed', error: null, finalMessage: 'just now' }, T0 + 3_000)], state);
    expect(feedTexts(state, 'api').at(-1)).toBe('completed: just now');
  });
});

describe('approvals answered elsewhere', () => {
  it('a request resolved while its turn runs was answered by another client; after the turn ended it closed with it', () => {
    const state = busy('attached');
    fold([{ type: 'serverRequest/resolved', atMs: at, workspace: 'api', threadId: 'tA', requestId: 0 }], state);
    expect(state.pendingApprovals).toEqual({});
    expect(feedTexts(state, 'api').at(-1)).toBe('answered elsewhere: `npm install`');
    expect(openSignals(state).filter((s) => s.kind === 'needs_approval')).toEqual([]);

    const ended = busy('attached');
    fold(
      [
        agentMessage('tA', 'uA', 'stopped', at),
        turnCompleted('tA', 'uA', 'interrupted', at + 1, null, 'api'),
        { type: 'serverRequest/resolved', atMs: at + 2, workspace: 'api', threadId: 'tA', requestId: 0 },
      ],
      ended,
    );
    expect(feedTexts(ended, 'api').at(-1)).toBe('closed with its turn: `npm install`');
  });

  it('our own answer is not reported as answered elsewhere, and answering a resolved request does nothing', () => {
    const state = busy('attached');
    const answered = fold([{ type: 'approval/answered', atMs: at, key: 'api#0', decision: 'accept' }], state);
    expect(answered.effects).toContainEqual({ type: 'answerServerRequest', workspace: 'api', requestId: 0, result: { decision: 'accept' } });
    fold([{ type: 'serverRequest/resolved', atMs: at + 1, workspace: 'api', threadId: 'tA', requestId: 0 }], state);
    expect(feedTexts(state, 'api').filter((t) => t.includes('elsewhere'))).toEqual([]);
    expect(fold([{ type: 'approval/answered', atMs: at + 2, key: 'api#0', decision: 'decline' }], state).effects).toEqual([]);
  });
});
