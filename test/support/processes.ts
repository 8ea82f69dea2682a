// Process-tree checks for "nothing survives the program" tests. Linux only: reads /proc.
//
// Capture childPids() while the program runs: once a parent dies its children are
// re-parented (to init or a subreaper) and no longer show up as its descendants.
import { readdirSync, readFileSync } from 'node:fs';

/** All descendants of `pid` (children, grandchildren, …), in breadth-first order. */
export function childPids(pid: number): number[] {
  const childrenOf = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const siblings = childrenOf.get(stat.ppid) ?? [];
    siblings.push(Number(entry));
    childrenOf.set(stat.ppid, siblings);
  }
  const result: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of childrenOf.get(next) ?? []) {
      result.push(child);
      queue.push(child);
    }
  }
  return result;
}

/**
 * Whether `pid` is a running process. A zombie counts as dead: it has exited and only waits
 * to be reaped, which kill(pid, 0) would not tell apart. (A recycled pid would read as alive;
 * pids are not reused that fast within one test.)
 */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

function readStat(pid: number): { state: string; ppid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // Gone between readdir and read, or never existed.
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and ')',
  // so split only what follows the last ')': state, ppid, …
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const ppid = Number(fields[1]);
  return state === undefined || Number.isNaN(ppid) ? undefined : { state, ppid };
}
