import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { diffText } from '../../src/cli/format/threadText.js';
import { diffFiles } from '../../src/core/state/turnDiff.js';

const DIFF = 'diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old \u001b]52;c;aGk=\u0007\n+new\n';
const thread = { threadId: 'thread-abcdef', turnId: 'turn-123456', diff: DIFF, files: diffFiles(DIFF) };

describe('diffText', () => {
  it('plain: the files with +/-, then the diff; a control sequence in the diff is shown escaped, never sent', () => {
    expect(diffText(thread, new Chalk({ level: 0 }))).toBe(
      'turn 123456: 1 file changed\n  +1 -1  a.txt\n\ndiff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old \\x1b]52;c;aGk=\\x07\n+new\n',
    );
  });

  it('coloured: added lines green, removed red, hunks cyan, headers bold; only our own escape codes reach the terminal', () => {
    const text = diffText(thread, new Chalk({ level: 1 }));
    expect(text).toContain('\u001b[32m+new\u001b[39m');
    expect(text).toContain('\u001b[31m-old \\x1b]52;c;aGk=\\x07\u001b[39m');
    expect(text).toContain('\u001b[36m@@ -1 +1 @@\u001b[39m');
    expect(text).toContain('\u001b[1m+++ b/a.txt\u001b[22m');
    expect(text).toContain('  \u001b[32m+1\u001b[39m \u001b[31m-1\u001b[39m  a.txt');
    expect(text).not.toContain('\u001b]52');
  });

  it('a thread whose latest turn changed nothing says so', () => {
    expect(diffText({ threadId: 'thread-abcdef', turnId: null, diff: '', files: [] }, new Chalk({ level: 1 }))).toBe('thread abcdef: its latest turn changed no files\n');
  });
});
