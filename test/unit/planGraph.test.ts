import { describe, expect, it } from 'vitest';
import type { PlanV2 } from '../../src/core/contract/plan.js';
import { dependenciesOf, dependentsOf, findCycles, planOrder } from '../../src/core/contract/planGraph.js';

/** A plan from `id: after…` lines, e.g. plan('a', 'b:a', 'c:a,b'). */
function plan(...specs: string[]): PlanV2 {
  return {
    version: 2,
    actions: specs.map((spec) => {
      const [id, after] = spec.split(':');
      return { id: id!, workspace: 'w', prompt: 'p', thread: 'latest', kind: 'turn', ...(after ? { after: after.split(',') } : {}) };
    }),
  };
}

describe('planOrder: topological levels', () => {
  const cases: [string, PlanV2, string[][]][] = [
    ['no dependencies: one level, plan order', plan('b', 'a', 'c'), [['b', 'a', 'c']]],
    ['a chain', plan('c:b', 'b:a', 'a'), [['a'], ['b'], ['c']]],
    ['a diamond', plan('a', 'b:a', 'c:a', 'd:b,c'), [['a'], ['b', 'c'], ['d']]],
    ['the level is one above the deepest dependency', plan('a', 'b:a', 'c:a,b', 'x'), [['a', 'x'], ['b'], ['c']]],
    ['two independent chains', plan('a1', 'a2:a1', 'b1', 'b2:b1', 'b3:b2'), [['a1', 'b1'], ['a2', 'b2'], ['b3']]],
    ['unknown ids and self references are ignored', plan('a:nope', 'b:b,a'), [['a'], ['b']]],
    ['actions in a cycle are left out, with what waits for them', plan('a:b', 'b:a', 'c:a', 'd'), [['d']]],
  ];
  for (const [name, input, levels] of cases) it(name, () => expect(planOrder(input)).toEqual({ levels }));

  it('a 32-action plan in a 4-level chain', () => {
    const specs = Array.from({ length: 32 }, (_, i) => (i < 8 ? `s${i}` : `s${i}:s${i - 8}`));
    const { levels } = planOrder(plan(...specs));
    expect(levels.map((l) => l.length)).toEqual([8, 8, 8, 8]);
    expect(levels[3]).toContain('s31');
  });
});

describe('dependentsOf / dependenciesOf: transitively, in plan order', () => {
  const p = plan('a', 'b:a', 'c:b', 'd', 'e:d,c', 'f:a');
  const cases: [string, string[], string[]][] = [
    ['a', ['b', 'c', 'e', 'f'], []],
    ['b', ['c', 'e'], ['a']],
    ['d', ['e'], []],
    ['e', [], ['a', 'b', 'c', 'd']],
    ['f', [], ['a']],
    ['nope', [], []],
  ];
  for (const [id, dependents, dependencies] of cases) {
    it(id, () => {
      expect(dependentsOf(p, id)).toEqual(dependents);
      expect(dependenciesOf(p, id)).toEqual(dependencies);
    });
  }

  it('terminate on a cycle', () => {
    const cyclic = plan('a:b', 'b:a', 'c:b');
    expect(dependentsOf(cyclic, 'a')).toEqual(['b', 'c']);
    expect(dependenciesOf(cyclic, 'c')).toEqual(['a', 'b']);
  });
});

describe('findCycles', () => {
  const cases: [string, PlanV2, string[][]][] = [
    ['none', plan('a', 'b:a', 'c:a,b'), []],
    ['two actions', plan('x', 'a:b', 'b:a'), [['a', 'b']]],
    ['three, named from the first in plan order', plan('c:a', 'a:b', 'b:c'), [['c', 'a', 'b']]],
    ['two separate cycles', plan('a:b', 'b:a', 'c:d', 'd:c'), [['a', 'b'], ['c', 'd']]],
    ['one group with two loops: one shortest cycle for it', plan('a:b', 'b:a,c', 'c:a'), [['a', 'b']]],
    ['a self reference is not a cycle here', plan('a:a', 'b:a'), []],
    ['unknown ids are ignored', plan('a:zzz', 'b:a'), []],
  ];
  for (const [name, input, cycles] of cases) it(name, () => expect(findCycles(input.actions)).toEqual(cycles));

  it('a long chain closed into a cycle (no recursion limit)', () => {
    const n = 20_000;
    const nodes = Array.from({ length: n }, (_, i) => ({ id: `n${i}`, after: [`n${(i + 1) % n}`] }));
    const [cycle] = findCycles(nodes);
    expect(cycle).toHaveLength(n);
    expect(cycle!.slice(0, 2)).toEqual(['n0', 'n1']);
  });
});

describe('on long chains (no recursion limit)', () => {
  it('planOrder and dependenciesOf', () => {
    const n = 20_000;
    const long = plan(...Array.from({ length: n }, (_, i) => (i === 0 ? 'n0' : `n${i}:n${i - 1}`)));
    expect(planOrder(long).levels).toHaveLength(n);
    expect(dependenciesOf(long, `n${n - 1}`)).toHaveLength(n - 1);
  });
});
