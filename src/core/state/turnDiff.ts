/** One file of a diff with its added and removed lines. */
export interface DiffFile {
  path: string;
  added: number;
  removed: number;
}

/**
 * A turn's unified diff is kept whole up to this size: it is stored per thread, persisted by the
 * daemon and streamed to its clients with every `turn/diff/updated` (sent after each edit, with
 * the turn's whole diff so far), so one big rewrite must not make every one of those heavy.
 */
export const MAX_TURN_DIFF = 64 * 1024;

export const TRUNCATED_MARKER = '… (diff truncated';

/**
 * The diff as kept: whole, or cut at a line end with a line saying so, at most MAX_TURN_DIFF
 * characters in all (so bounding twice changes nothing).
 */
export function boundDiff(diff: string): string {
  if (diff.length <= MAX_TURN_DIFF) return diff;
  const room = MAX_TURN_DIFF - 100;
  const lineEnd = diff.lastIndexOf('\n', room - 1);
  const kept = diff.slice(0, lineEnd > 0 ? lineEnd + 1 : room);
  return `${kept}${kept.endsWith('\n') ? '' : '\n'}${TRUNCATED_MARKER}: ${Math.round(diff.length / 1024)} KB in all)\n`;
}

/**
 * The files of a unified diff (git's, as Codex sends it) with their added and removed lines,
 * in order. Hunks are read by their line counts, so content that looks like a header (a removed
 * line `-- x`) is counted as content. A cut diff yields what it holds.
 */
export function diffFiles(diff: string): DiffFile[] {
  const files: DiffFile[] = [];
  let current: DiffFile | null = null;
  let oldLeft = 0;
  let newLeft = 0;
  // The file a `diff --git` line opened, until its `+++` header names it: a plain unified diff
  // (no `diff --git` lines) starts each file at its header instead.
  let opened: DiffFile | null = null;
  let minus: string | null = null;
  const lines = diff.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (oldLeft > 0 || newLeft > 0) {
      if (line.startsWith('+')) newLeft--;
      else if (line.startsWith('-')) oldLeft--;
      else if (line.startsWith(' ') || line === '') {
        oldLeft--;
        newLeft--;
      } else if (line.startsWith('\\')) continue;
      else {
        // A hunk shorter than its header said: read the line as a header.
        oldLeft = newLeft = 0;
        i--;
        continue;
      }
      if (current && line.startsWith('+')) current.added++;
      else if (current && line.startsWith('-')) current.removed++;
      continue;
    }
    if (line.startsWith('diff --git ')) {
      // Binary and mode-only changes have no `---`/`+++` header: this line names them.
      current = opened = { path: gitTarget(line.slice('diff --git '.length)) ?? '?', added: 0, removed: 0 };
      files.push(current);
      minus = null;
    } else if (line.startsWith('--- ')) {
      minus = headerPath(line.slice(4));
    } else if (line.startsWith('+++ ')) {
      const path: string = headerPath(line.slice(4)) ?? minus ?? opened?.path ?? '?';
      if (opened) opened.path = path;
      else {
        current = { path, added: 0, removed: 0 };
        files.push(current);
      }
      opened = null;
    } else if (line.startsWith('rename to ')) {
      if (current) current.path = unquote(line.slice('rename to '.length));
    } else if (line.startsWith('@@')) {
      const m = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
      if (m) {
        oldLeft = m[1] === undefined ? 1 : Number(m[1]);
        newLeft = m[2] === undefined ? 1 : Number(m[2]);
      }
    }
  }
  return files;
}

/** `a/x b/x` → `x`: the second path, when both halves name the same file (else the part after ` b/`). */
function gitTarget(rest: string): string | null {
  if (rest.startsWith('"')) {
    const end = closingQuote(rest);
    const second = rest.slice(end + 2);
    return stripPrefix(unquote(second));
  }
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest.slice(2, half) === rest.slice(half + 3)) return rest.slice(half + 3);
  const at = rest.indexOf(' b/');
  return at >= 0 ? rest.slice(at + 3) : null;
}

/** A `---`/`+++` header's path without its `a/`/`b/` prefix; null for /dev/null. */
function headerPath(raw: string): string | null {
  // git ends a path that has spaces with a tab before any timestamp; plain diffs add a date.
  const text = raw.startsWith('"') ? unquote(raw.slice(0, closingQuote(raw) + 1)) : raw.split('\t')[0]!;
  if (text === '/dev/null') return null;
  return stripPrefix(text);
}

function stripPrefix(path: string): string {
  return /^[ab]\//.test(path) ? path.slice(2) : path;
}

function closingQuote(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return s.length - 1;
}

/** git's C-style quoted path (`"a/sp\"ace\303\251"`) as text; an unquoted one unchanged. */
function unquote(s: string): string {
  if (!s.startsWith('"') || !s.endsWith('"') || s.length < 2) return s;
  const bytes: number[] = [];
  const body = s.slice(1, -1);
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body[i + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i++;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
