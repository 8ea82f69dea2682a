import { describe, expect, it } from 'vitest';
import { diffstatSummary, summarize } from '../../src/core/git/diffstat.js';
import { parseNumstat, parsePathList, parseStatus, parseWorktreeList } from '../../src/core/git/porcelain.js';

describe('git porcelain parsers', () => {
  it('worktree list --porcelain -z: main checkout, branch worktree, detached, prunable, locked, bare', () => {
    const text = [
      'worktree /repo', 'HEAD 1111111111111111111111111111111111111111', 'branch refs/heads/main', '',
      'worktree /home/w/worktrees/p/a b', 'HEAD 2222222222222222222222222222222222222222', 'branch refs/heads/cms/p/a', 'locked', '',
      'worktree /tmp/detached', 'HEAD 3333333333333333333333333333333333333333', 'detached', 'prunable gitdir file points to non-existent location', '',
      'worktree /bare.git', 'bare', '',
      'worktree /fresh', 'HEAD 0000000000000000000000000000000000000000', 'branch refs/heads/main', '',
    ].join('\0');
    expect(parseWorktreeList(text)).toEqual([
      { path: '/repo', head: '1'.repeat(40), branch: 'main', bare: false, detached: false, prunable: false, locked: false },
      { path: '/home/w/worktrees/p/a b', head: '2'.repeat(40), branch: 'cms/p/a', bare: false, detached: false, prunable: false, locked: true },
      { path: '/tmp/detached', head: '3'.repeat(40), branch: null, bare: false, detached: true, prunable: true, locked: false },
      { path: '/bare.git', head: null, branch: null, bare: true, detached: false, prunable: false, locked: false },
      { path: '/fresh', head: null, branch: 'main', bare: false, detached: false, prunable: false, locked: false },
    ]);
    expect(parseWorktreeList('')).toEqual([]);
  });

  it('diff --numstat -z: counts, binary files, paths with tabs and newlines', () => {
    expect(parseNumstat('3\t1\tsrc/a.ts\0-\t-\timg.png\0' + '2\t0\tweird\tname\nx\0')).toEqual([
      { path: 'src/a.ts', insertions: 3, deletions: 1 },
      { path: 'img.png', insertions: null, deletions: null },
      { path: 'weird\tname\nx', insertions: 2, deletions: 0 },
    ]);
    expect(parseNumstat('')).toEqual([]);
  });

  it('status --porcelain=v1 -z: modified, untracked, staged, a rename with its source skipped', () => {
    expect(parseStatus(' M a.ts\0?? new file.txt\0A  staged.ts\0R  to.ts\0from.ts\0 D gone.ts\0')).toEqual([
      { code: ' M', path: 'a.ts' },
      { code: '??', path: 'new file.txt' },
      { code: 'A ', path: 'staged.ts' },
      { code: 'R ', path: 'to.ts' },
      { code: ' D', path: 'gone.ts' },
    ]);
    expect(parsePathList('a\0b c\0')).toEqual(['a', 'b c']);
  });

  it('diffstat text: per file, untracked and binary marked, the summary worded as git does', () => {
    const stat = summarize([
      { path: 'a.ts', insertions: 3, deletions: 1, untracked: false },
      { path: 'logo.png', insertions: null, deletions: null, untracked: true },
      { path: 'new.md', insertions: 1, deletions: 0, untracked: true },
    ]);
    expect(stat).toMatchObject({ files: 3, insertions: 4, deletions: 1 });
    expect(stat.text).toBe(
      ['a.ts     | +3 -1', 'logo.png | binary (new, untracked)', 'new.md   | +1 -0 (new, untracked)', '3 files changed, 4 insertions(+), 1 deletion(-)'].join('\n'),
    );
    expect(summarize([]).text).toBe('no changes');
    expect(diffstatSummary({ files: 1, insertions: 1, deletions: 0 })).toBe('1 file changed, 1 insertion(+), 0 deletions(-)');
  });
});
