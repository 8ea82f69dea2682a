import { describe, expect, it } from 'vitest';
import { resolveCodexBinary } from '../../src/core/codexBinary.js';
import type { FinalActionResult } from '../../src/core/dispatch/awaitCompletion.js';
import { resultsTable } from '../../src/cli/format/dispatchText.js';

const result = (id: string, status: FinalActionResult['status'], error: string | null, finalMessage: string | null = null): FinalActionResult => ({
  id,
  workspace: 'api',
  status,
  threadId: null,
  turnId: null,
  error,
  finalMessage,
  elapsedMs: 100,
});

describe('dispatch results table', () => {
  it('an action whose earlier turn was lost shows why in its status, and the table ends with the way to send it again', () => {
    const lost = { ...result('hang', 'interrupted', 'turn lost: the app-server exited with signal SIGKILL'), threadId: '01a24ab0-bade-7083-ae3d-49047bfc6de0', retryable: true, dispatchedAtMs: 1_000 };
    const lines = resultsTable([lost, { ...result('fine', 'skipped', null), dispatchedAtMs: 1_000 }], 170, 61_000).trimEnd().split('\n');
    expect(lines[1]).toMatch(/^hang\s+api\s+interrupted \(turn lost: the app-server exited with signal SIGKILL\)\s+-\s+fc6de0\s+dispatched 1m ago$/);
    expect(lines[2]).toMatch(/^fine\s+api\s+skipped\s+-\s+-\s+dispatched 1m ago; --force sends it again$/);
    expect(lines.at(-1)).toBe('its turn was lost or failed since the earlier dispatch: --retry-failed sends it again');
  });

  it('an error cut off in the DETAIL column is printed in full under the table', () => {
    const error = 'workspace "api" has no running app-server (restarting): codex not found at /opt/codex; set --codex-bin or CM_SUPERVISOR_CODEX_BIN';
    const text = resultsTable([result('one', 'failed', error), result('two', 'completed', null, 'Done')], 80);
    const lines = text.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^one\s+api\s+failed\s+0\.1s\s+-\s+workspace "api" has no running.*…$/);
    expect(lines.every((l) => l.length <= 80 || l.startsWith('one: '))).toBe(true);
    expect(lines.at(-1)).toBe(`one: ${error}`);
  });

  it('threads started together (UUIDv7 ids with the same time prefix) get distinct short ids', () => {
    const a = { ...result('a', 'completed', null, 'Done'), threadId: '01a24ab0-bade-7083-ae3d-49047bfc6de0' };
    const b = { ...result('b', 'completed', null, 'Done'), threadId: '01a24ab0-bb05-7500-accc-596c23f85d5a' };
    const lines = resultsTable([a, b], 100).split('\n');
    expect(lines[1]).toMatch(/^a\s+api\s+completed\s+0\.1s\s+fc6de0\s+Done$/);
    expect(lines[2]).toMatch(/^b\s+api\s+completed\s+0\.1s\s+f85d5a\s+Done$/);
  });

  it('errors that fit are not repeated', () => {
    const text = resultsTable([result('one', 'failed', 'turn failed')], 120);
    expect(text.match(/turn failed/g)).toHaveLength(1);
  });
});

describe('codex binary from --codex-bin or CM_SUPERVISOR_CODEX_BIN', () => {
  it('a relative path means the current directory (app-servers run in their workspace); a bare name is looked up on PATH', () => {
    expect(resolveCodexBinary('./bin/codex', {}).path).toBe(`${process.cwd()}/bin/codex`);
    expect(resolveCodexBinary(undefined, { CM_SUPERVISOR_CODEX_BIN: 'tools/codex' }).path).toBe(`${process.cwd()}/tools/codex`);
    expect(resolveCodexBinary('codex', {}).path).toBe('codex');
    expect(resolveCodexBinary('/usr/local/bin/codex', {}).path).toBe('/usr/local/bin/codex');
  });
});

describe('live lines of a v2 plan run', () => {
  it('show what an action waits on, until when a paused one pauses, and a retry\'s attempt', async () => {
    const { LiveLines } = await import('../../src/cli/format/dispatchText.js');
    const { planActionResult } = await import('../../src/core/dispatch/awaitPlanRun.js');
    const base = {
      workspace: 'api', host: 'local', after: [], attempts: [], waitingOn: [], resumesAtMs: null, pauseReason: null, stopReason: null, tokens: null,
      startedAtMs: null, endedAtMs: null, finalMessage: null, error: null, worktree: null, branch: null, worktreeCwd: null, baseCommit: null, diffstat: null,
    };
    const now = 1_800_000_000_000;
    const attempt = (n: number) => ({ n, turnId: `u${n}`, threadId: 't', startedAtMs: now - 1000, endedAtMs: null, outcome: 'running' as const, error: null, failure: null, goalSet: false });
    const reset = now + 30 * 60_000;
    const rows = [
      { ...base, id: 'test', after: ['build', 'lint'], status: 'waiting' as const, waitingOn: ['build', 'lint'] },
      { ...base, id: 'deploy', status: 'paused' as const, resumesAtMs: reset, pauseReason: 'quota', attempts: [attempt(1)] },
      { ...base, id: 'build', status: 'running' as const, startedAtMs: now - 5000, attempts: [attempt(1), attempt(2)] },
      { ...base, id: 'wt', status: 'running' as const, startedAtMs: now - 2000, attempts: [attempt(1)], worktree: '/h/wt', branch: 'cms/p/wt' },
      { ...base, id: 'done', status: 'completed' as const, startedAtMs: now - 3000, endedAtMs: now - 1000, attempts: [attempt(1)], worktree: '/h/d', branch: 'cms/p/done', diffstat: '1 file changed, 2 insertions(+), 0 deletions(-)' },
    ].map((a) => planActionResult(a, now));
    let out = '';
    new LiveLines({ err: (s: string) => (out += s), errControl: () => {} }).render(rows);
    const hhmm = new Date(reset).toTimeString().slice(0, 5);
    expect(out.split('\n')).toEqual([
      '  · test  api  waiting  -  waiting on build, lint',
      `  · deploy  api  paused  -  paused (quota, resumes ${hhmm})`,
      '  … build  api  running  5.0s  attempt 2',
      '  … wt  api  running  2.0s  cms/p/wt',
      '  ✓ done  api  completed  2.0s  cms/p/done (1 file changed, 2 insertions(+), 0 deletions(-))',
      '',
    ]);
  });
});

describe('results table of a v2 plan run', () => {
  it('says how many attempts a retried action took, and shows no time for a blocked one', () => {
    const lines = resultsTable([{ ...result('flaky', 'completed', null, 'Done'), attemptCount: 2 }, { ...result('after', 'blocked', 'blocked: broken did not complete'), attemptCount: 0 }], 170).trimEnd().split('\n');
    expect(lines[1]).toMatch(/^flaky\s+api\s+completed \(2 attempts\)\s+0\.1s\s+-\s+Done$/);
    expect(lines[2]).toMatch(/^after\s+api\s+blocked\s+-\s+-\s+blocked: broken did not complete$/);
  });
});
