import type { PlanV2 } from './plan.js';

/**
 * The dependency graph of a v2 plan (`after`), as pure functions of the plan: the validator
 * finds cycles with it, the scheduler reads the order from it.
 */

/** One node: an action id and the ids it waits for. Unknown ids are ignored (the validator names them). */
export interface GraphNode {
  id: string;
  after?: readonly string[] | undefined;
}

/**
 * The cycles among the `after` edges, one per strongly connected group of actions, each as the
 * ids along it starting from its first action in plan order: `[a, b]` means a waits for b and b
 * for a. An action that lists itself is no cycle here (the validator says so on its own).
 */
export function findCycles(nodes: readonly GraphNode[]): string[][] {
  const index = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (!index.has(n.id)) index.set(n.id, i);
  });
  const edges = nodes.map((n) => [...new Set(n.after ?? [])].flatMap((id) => (id !== n.id && index.has(id) ? [index.get(id)!] : [])));
  const cycles: string[][] = [];
  for (const group of stronglyConnected(edges)) {
    if (group.length < 2) continue;
    const members = new Set(group);
    const start = Math.min(...group);
    cycles.push(pathBack(start, edges, members).map((i) => nodes[i]!.id));
  }
  return cycles.sort((a, b) => index.get(a[0]!)! - index.get(b[0]!)!);
}

/** A shortest path within `members` from `start` back to it (breadth first), without repeating `start`. */
function pathBack(start: number, edges: number[][], members: Set<number>): number[] {
  const previous = new Map<number, number>();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    const at = queue[q]!;
    for (const next of edges[at]!) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [at];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return path;
      }
      if (!previous.has(next)) {
        previous.set(next, at);
        queue.push(next);
      }
    }
  }
  return [start];
}

/** Tarjan's algorithm, iteratively (a plan may have many actions in a chain). */
function stronglyConnected(edges: number[][]): number[][] {
  const order = new Array<number>(edges.length).fill(-1);
  const low = new Array<number>(edges.length).fill(0);
  const onStack = new Array<boolean>(edges.length).fill(false);
  const stack: number[] = [];
  const groups: number[][] = [];
  let counter = 0;
  for (let root = 0; root < edges.length; root++) {
    if (order[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const [node, edge] = frame;
      if (edge === 0) {
        order[node] = low[node] = counter++;
        stack.push(node);
        onStack[node] = true;
      }
      if (edge < edges[node]!.length) {
        frame[1]++;
        const next = edges[node]![edge]!;
        if (order[next] === -1) work.push([next, 0]);
        else if (onStack[next]) low[node] = Math.min(low[node]!, order[next]!);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]]!, low[node]!);
      if (low[node] === order[node]) {
        const group: number[] = [];
        let member: number;
        do {
          member = stack.pop()!;
          onStack[member] = false;
          group.push(member);
        } while (member !== node);
        groups.push(group);
      }
    }
  }
  return groups;
}

/**
 * The actions in dependency levels: level 0 waits for nothing, level n waits only for actions of
 * lower levels (at least one of level n-1). Within a level, plan order. For a valid plan (no
 * cycles; unknown ids are ignored); an action caught in a cycle is left out.
 */
export function planOrder(plan: PlanV2): { levels: string[][] } {
  const ids = new Set(plan.actions.map((a) => a.id));
  const dependencies = plan.actions.map((a) => [...new Set(a.after ?? [])].filter((d) => d !== a.id && ids.has(d)));
  const waiting = new Map<string, number[]>();
  dependencies.forEach((ds, i) => ds.forEach((d) => listAt(waiting, d).push(i)));
  // Kahn's algorithm: an action's level is known once all its dependencies' levels are.
  const level = new Array<number>(plan.actions.length).fill(0);
  const missing = dependencies.map((ds) => ds.length);
  const ready = plan.actions.flatMap((_, i) => (missing[i] === 0 ? [i] : []));
  for (let q = 0; q < ready.length; q++) {
    const at = ready[q]!;
    for (const next of waiting.get(plan.actions[at]!.id) ?? []) {
      level[next] = Math.max(level[next]!, level[at]! + 1);
      if (--missing[next]! === 0) ready.push(next);
    }
  }
  const levels: string[][] = [];
  plan.actions.forEach((action, i) => {
    if (missing[i] === 0) (levels[level[i]!] ??= []).push(action.id);
  });
  return { levels };
}

/** Every action that waits for `id`, directly or through others, in plan order: what a failure of `id` blocks. */
export function dependentsOf(plan: PlanV2, id: string): string[] {
  const waiting = new Map<string, string[]>();
  for (const action of plan.actions) for (const d of action.after ?? []) listAt(waiting, d).push(action.id);
  return reachable(plan, id, (at) => waiting.get(at) ?? []);
}

/** The actions `id` waits for, directly or through others, in plan order. */
export function dependenciesOf(plan: PlanV2, id: string): string[] {
  const byId = new Map(plan.actions.map((a) => [a.id, a]));
  return reachable(plan, id, (at) => byId.get(at)?.after ?? []);
}

function reachable(plan: PlanV2, from: string, next: (id: string) => readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = [from];
  for (let q = 0; q < queue.length; q++) {
    for (const id of next(queue[q]!)) {
      if (seen.has(id)) continue;
      seen.add(id);
      queue.push(id);
    }
  }
  return plan.actions.map((a) => a.id).filter((a) => a !== from && seen.has(a));
}

function listAt<T>(map: Map<string, T[]>, key: string): T[] {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  return list;
}
