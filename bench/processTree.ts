/**
 * Memory and CPU time of local processes, read from Linux /proc. Memory is taken of process
 * trees: an app-server and every process below it (codex starts helpers), so a side is charged
 * for everything it runs.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface TreeMemory {
  processes: number;
  /** Sum of VmRSS. Pages shared between processes (the binary's text) count once per process. */
  rssBytes: number;
  /**
   * Sum of RssAnon: the processes' own memory (heaps, stacks), without the file pages (the
   * binary's text) that VmRSS counts once per process although the kernel holds them once.
   * Unlike Pss or private pages it does not depend on what other codex processes the machine runs.
   */
  anonBytes: number;
}

/** The roots and all their descendants (each process once), at the moment of the call. */
export function treeMemory(roots: number[]): TreeMemory {
  const children = childrenByParent();
  const seen = new Set<number>();
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  let rssBytes = 0;
  let anonBytes = 0;
  let processes = 0;
  for (const pid of seen) {
    const status = read(`/proc/${pid}/status`);
    const rss = kilobytes(status, 'VmRSS');
    // Gone since the listing, or a zombie (no VmRSS line): nothing resident to count.
    if (rss === null) continue;
    processes++;
    rssBytes += rss * 1024;
    anonBytes += (kilobytes(status, 'RssAnon') ?? 0) * 1024;
  }
  return { processes, rssBytes, anonBytes };
}

/**
 * The memory once only the roots are left: codex starts short-lived helpers (a login shell
 * per new thread, to snapshot its environment) that may outlive the turn. Polls until they are
 * gone or `timeoutMs` passed (then the helpers still running are included).
 */
export async function settledTreeMemory(roots: number[], timeoutMs: number): Promise<TreeMemory> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const memory = treeMemory(roots);
    if (memory.processes <= roots.length || Date.now() >= deadline) return memory;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // `pid (comm) state ppid …`; comm may itself contain spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isInteger(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  return children;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function kilobytes(text: string, field: string): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

/** Linux reports CPU times in clock ticks of USER_HZ, which is 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) the processes used so far, in ms; a process that is gone counts 0. */
export function cpuTimeMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = read(`/proc/${pid}/stat`);
    if (stat === '') continue;
    // After `pid (comm) `: state is field 3, utime field 14, stime field 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}
