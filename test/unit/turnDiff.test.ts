import { describe, expect, it } from 'vitest';
import { boundDiff, diffFiles, MAX_TURN_DIFF, type DiffFile } from '../../src/core/state/turnDiff.js';

const NEW_FILE = `diff --git a/hello.txt b/hello.txt
new file mode 100644
index 0000000000000000000000000000000000000000..3b18e512dba79e4c8300dd08aeb37f8e728b8dad
--- /dev/null
+++ b/hello.txt
@@ -0,0 +1 @@
+hello world
`;

const EDIT = `diff --git a/src/app.ts b/src/app.ts
index 1111111..2222222 100644
--- a/src/app.ts
+++ b/src/app.ts
@@ -1,4 +1,5 @@
 import x from 'x';
--- not a header: a removed line that starts with two dashes
+++ not a header: an added line that starts with two pluses
-const a = 1;
+const a = 2;
+const b = 3;
@@ -10,2 +11,2 @@ function f() {
-  return a;
+  return a + b;
 }
`;

const DELETED = `diff --git a/old.md b/old.md
deleted file mode 100644
index 3333333..0000000
--- a/old.md
+++ /dev/null
@@ -1,2 +0,0 @@
-# Old
-gone
`;

const RENAMED = `diff --git a/a.txt b/b.txt
similarity index 90%
rename from a.txt
rename to b.txt
index 4444444..5555555 100644
--- a/a.txt
+++ b/b.txt
@@ -1 +1 @@
-one
+uno
`;

const BINARY = `diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..6666666
Binary files /dev/null and b/logo.png differ
`;

const SPACES = `diff --git a/my dir/it's a file.txt b/my dir/it's a file.txt
index 7777777..8888888 100644
--- a/my dir/it's a file.txt
+++ b/my dir/it's a file.txt
@@ -1 +1,2 @@
 keep
+more
`;

const QUOTED = `diff --git "a/tab\\there \\"q\\".txt" "b/tab\\there \\"q\\".txt"
index 9999999..aaaaaaa 100644
--- "a/tab\\there \\"q\\".txt"
+++ "b/tab\\there \\"q\\".txt"
@@ -1 +1 @@
-x
+y
`;

const PLAIN = `--- a/one.txt\t2026-12-06 12:00:00
+++ b/one.txt\t2026-12-06 12:01:00
@@ -1 +1 @@
-a
+b
--- a/two.txt
+++ b/two.txt
@@ -1,0 +1,2 @@
+c
+d
`;

describe('diffFiles', () => {
  it.each<[string, string, DiffFile[]]>([
    ['nothing', '', []],
    ['a new file (as Codex 0.171 sends it)', NEW_FILE, [{ path: 'hello.txt', added: 1, removed: 0 }]],
    ['an edit whose content looks like headers, two hunks', EDIT, [{ path: 'src/app.ts', added: 4, removed: 3 }]],
    ['a deleted file', DELETED, [{ path: 'old.md', added: 0, removed: 2 }]],
    ['a rename with an edit', RENAMED, [{ path: 'b.txt', added: 1, removed: 1 }]],
    ['a binary file', BINARY, [{ path: 'logo.png', added: 0, removed: 0 }]],
    ['a path with spaces and a quote', SPACES, [{ path: "my dir/it's a file.txt", added: 1, removed: 0 }]],
    ["git's C-quoted path", QUOTED, [{ path: 'tab\there "q".txt', added: 1, removed: 1 }]],
    ['a plain unified diff of two files', PLAIN, [{ path: 'one.txt', added: 1, removed: 1 }, { path: 'two.txt', added: 2, removed: 0 }]],
    [
      'several files in order',
      NEW_FILE + EDIT + DELETED,
      [
        { path: 'hello.txt', added: 1, removed: 0 },
        { path: 'src/app.ts', added: 4, removed: 3 },
        { path: 'old.md', added: 0, removed: 2 },
      ],
    ],
    ['a diff cut inside a hunk: what it holds', EDIT.slice(0, EDIT.indexOf('+const b')), [{ path: 'src/app.ts', added: 2, removed: 2 }]],
  ])('%s', (_name, diff, files) => {
    expect(diffFiles(diff)).toEqual(files);
  });
});

describe('boundDiff', () => {
  it('leaves a diff up to MAX_TURN_DIFF alone', () => {
    const diff = 'x'.repeat(MAX_TURN_DIFF);
    expect(boundDiff(diff)).toBe(diff);
  });

  it('cuts a longer one at a line end, says how big it was, and stays within the bound (cutting twice changes nothing)', () => {
    const line = `+${'y'.repeat(99)}\n`;
    const diff = NEW_FILE.replace('+hello world\n', line.repeat(2000));
    const bounded = boundDiff(diff);
    expect(bounded.length).toBeLessThanOrEqual(MAX_TURN_DIFF);
    expect(bounded.endsWith(`\n… (diff truncated: ${Math.round(diff.length / 1024)} KB in all)\n`)).toBe(true);
    expect(bounded.split('\n').slice(7, -2).every((l) => `${l}\n` === line)).toBe(true);
    expect(boundDiff(bounded)).toBe(bounded);
    // The cut diff still names its file.
    expect(diffFiles(bounded)[0]!.path).toBe('hello.txt');
  });
});
