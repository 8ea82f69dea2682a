// Property-based tests of the plan validator and reader: any input either validates or is
// refused with problems that each have a path (the CLI exits 2 with them); nothing throws, and
// a refused plan starts no process.
import fc from 'fast-check';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePlanBytes, invalidUtf8Offset } from '../../src/core/contract/readPlan.js';
import { planOrder } from '../../src/core/contract/planGraph.js';
import { validatePlanText, validatePlanValue, type PlanContext, type PlanValidation } from '../../src/core/contract/validatePlan.js';
import { PlanValidationError } from '../../src/core/errors.js';
import { Supervisor } from '../../src/core/loop/supervisor.js';

// Made before the arbitraries, which name these directories.
const root = mkdtempSync(join(tmpdir(), 'cm-plan-prop-'));
for (const dir of ['api', 'web', 'plans/inside', 'outside']) mkdirSync(join(root, dir), { recursive: true });
const inside = join(root, 'plans/inside');
const outside = join(root, 'outside');
const context: PlanContext = { workspaces: [{ name: 'api', path: join(root, 'api') }, { name: 'web', path: join(root, 'web') }], baseDir: join(root, 'plans') };
afterAll(async () => rm(root, { recursive: true, force: true }));

/** Values near the valid ones (so many plans get far into the validator), mixed with anything. */
const near = <T>(valid: T[], junk: fc.Arbitrary<unknown> = fc.jsonValue()) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: junk });

const WORKSPACES = ['api', 'web', './inside', '../outside', '../../../..', inside, outside, join(root, 'api')];

/** An action of valid values only: whether it validates depends on what it asks for (and the opt-in). */
const validActionArb = fc.record(
  {
    id: fc.constantFrom('a', 'b', 'build.1'),
    workspace: fc.constantFrom(...WORKSPACES),
    prompt: fc.constantFrom('do it', 'run the tests'),
    thread: fc.constantFrom('new', 'latest', '019a0000-0000-7000-8000-000000000000'),
    effort: fc.constantFrom('none', 'low', 'xhigh'),
    approvalPolicy: fc.constantFrom('untrusted', 'on-request', 'never'),
    sandbox: fc.constantFrom('read-only', 'workspace-write', 'danger-full-access'),
  },
  { requiredKeys: ['id', 'workspace', 'prompt'] },
);

const noisyActionArb = fc.record(
  {
    id: near(['a', 'b', 'no spaces', '', 'x'.repeat(65)], fc.string()),
    workspace: near([...WORKSPACES, 'apj', '/', '~/x', ''], fc.string()),
    prompt: near(['do it', '   ', ''], fc.string()),
    thread: near(['new', 'latest', 'abc']),
    model: near(['gpt-5', '']),
    effort: near(['low', 'max']),
    approvalPolicy: near(['never', 'always', null]),
    sandbox: near(['danger-full-access', 'none', null]),
    priority: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

const ACTION_IDS = ['a', 'b', 'c', 'd'];

/** A v2 action: the v1 fields plus dependencies (cycles and unknown ids included) and policies, valid or not. */
const v2ActionArb = fc.record(
  {
    id: fc.constantFrom(...ACTION_IDS),
    workspace: fc.constantFrom('api', 'web', './inside'),
    prompt: fc.constant('do it'),
    thread: near(['new', 'latest']),
    after: near([[], ['a'], ['b'], ['a', 'b'], ['c'], ['d', 'a'], ['zz']], fc.array(fc.constantFrom(...ACTION_IDS))),
    retry: near([{ attempts: 0 }, { attempts: 3, backoffSec: 1 }, { attempts: -1 }, { attempts: 11 }]),
    worktree: near([true, false, 'fix-1']),
    kind: near(['turn', 'review']),
    target: near([{ after: 'a' }, { after: 'b' }, { after: 'zz' }]),
    budget: near([{ tokens: 1000 }, { tokens: 0 }]),
    goal: near(['tests pass', '']),
  },
  { requiredKeys: ['id', 'workspace', 'prompt'] },
);

const v2PlanArb = fc.record(
  {
    version: fc.constant(2),
    id: fc.constantFrom('nightly', 'p-2'),
    concurrency: near([1, 4, 0]),
    hostConcurrency: near([{ local: 2 }, { gpu: 1 }]),
    actions: fc.uniqueArray(v2ActionArb, { minLength: 1, maxLength: 4, selector: (a) => a.id }),
  },
  { requiredKeys: ['version', 'actions'] },
);

const planArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ version: fc.constant(1), id: fc.constantFrom('nightly', 'p-2'), actions: fc.array(validActionArb, { minLength: 1, maxLength: 3 }) }, { requiredKeys: ['version', 'actions'] }) },
  { weight: 3, arbitrary: v2PlanArb },
  {
    weight: 2,
    arbitrary: fc.record(
      { version: near([1, 2, 3, '1']), id: near(['nightly', 'bad id']), actions: fc.oneof({ weight: 4, arbitrary: fc.array(fc.oneof(validActionArb, noisyActionArb), { maxLength: 4 }) }, fc.jsonValue()), extra: fc.jsonValue() },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue() },
);

/** A plan's text as a person or a program may have mangled it: cut short, or any string. */
const textArb = fc.oneof(
  planArb.chain((plan) => fc.nat({ max: JSON.stringify(plan)?.length ?? 0 }).map((cut) => (JSON.stringify(plan) ?? '').slice(0, cut))),
  planArb.map((plan) => JSON.stringify(plan, null, 2) ?? ''),
  fc.string(),
);

/** A problem's path: the whole plan (''), into a field of the plan, or an unknown key the plan has. */
function pointsIntoPlan(path: string, raw: unknown): boolean {
  if (path === '' || ['version', 'id', 'actions', 'concurrency', 'hostConcurrency'].some((key) => path === key || path.startsWith(`${key}.`) || path.startsWith(`${key}[`))) return true;
  return typeof raw === 'object' && raw !== null && Object.keys(raw).includes(path);
}

/** What every outcome must look like; and without the opt-in, nothing valid widens an agent's permissions. */
function checkOutcome(result: PlanValidation, allowUnsafe: boolean, raw: unknown): void {
  if (result.ok) {
    expect(result.targets).toHaveLength(result.plan.actions.length);
    // A valid v2 plan can be run to the end: no cycle, every dependency one of its actions.
    if (result.plan.version === 2) {
      const ids = result.plan.actions.map((a) => a.id);
      expect(planOrder(result.plan).levels.flat().sort()).toEqual([...ids].sort());
      for (const action of result.plan.actions) for (const d of action.after ?? []) expect(ids).toContain(d);
    }
    if (!allowUnsafe) {
      expect(result.widenings).toEqual([]);
      for (const action of result.plan.actions) {
        expect(action.sandbox).not.toBe('danger-full-access');
        expect(action.approvalPolicy).not.toBe('never');
      }
    }
    return;
  }
  expect(result.problems.length).toBeGreaterThan(0);
  for (const problem of result.problems) {
    expect(pointsIntoPlan(problem.path, raw), `path ${JSON.stringify(problem.path)}`).toBe(true);
    expect(problem.message.trim().length).toBeGreaterThan(0);
  }
}

function parsedOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

describe('plan validator (property-based)', () => {
  it('any value: validates, or every problem has a path and a message; never throws', () => {
    fc.assert(
      fc.property(planArb, fc.boolean(), (plan, allowUnsafe) => {
        checkOutcome(validatePlanValue(plan, { ...context, allowUnsafe }), allowUnsafe, plan);
      }),
      { numRuns: 400 },
    );
  });

  it('any text: the same, also when cut short or not JSON', () => {
    fc.assert(
      fc.property(textArb, fc.boolean(), (text, allowUnsafe) => {
        checkOutcome(validatePlanText(text, { ...context, allowUnsafe }), allowUnsafe, parsedOrNull(text));
      }),
      { numRuns: 400 },
    );
  });

  it('a plan refused by the validator is refused by dispatch (exit code 2, the same problems) and starts no process', async () => {
    const connects: string[] = [];
    // Never started: every workspace is a directory here, and `connect` would start an app-server.
    const supervisor = new Supervisor({
      workspaces: [],
      codexBin: '/nonexistent/codex',
      connect: (spec) => {
        connects.push(spec.name);
        throw new Error('no process may start for a refused plan');
      },
    });
    const refused = planArb.filter((plan) => !validatePlanValue(plan, { workspaces: [], hosts: [], baseDir: context.baseDir }).ok);
    await fc.assert(
      fc.asyncProperty(refused, async (plan) => {
        const expected = validatePlanValue(plan, { workspaces: [], hosts: [], baseDir: context.baseDir });
        const error = await supervisor.dispatch(plan, { baseDir: context.baseDir }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(PlanValidationError);
        expect((error as PlanValidationError).exitCode).toBe(2);
        expect(!expected.ok && (error as PlanValidationError).problems).toEqual(!expected.ok && expected.problems);
      }),
      { numRuns: 200 },
    );
    expect(connects).toEqual([]);
    expect((await supervisor.snapshot()).jobs).toEqual({});
  });
});

describe('plan bytes (property-based)', () => {
  it('the offset found is the first byte where UTF-8 breaks: the bytes before it decode, the whole does not', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const valid = (bytes: Uint8Array) => {
      try {
        decoder.decode(bytes);
        return true;
      } catch {
        return false;
      }
    };
    // Mostly text with a few stray bytes, so valid multi-byte characters meet broken ones.
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(fc.string({ unit: 'binary', maxLength: 20 }), fc.uint8Array({ maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 20 })).map(
        ([a, junk, b]) => new Uint8Array(Buffer.concat([Buffer.from(a), junk, Buffer.from(b)])),
      ),
    );
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        const at = invalidUtf8Offset(bytes);
        expect(at === -1).toBe(valid(bytes));
        if (at >= 0) {
          expect(valid(bytes.subarray(0, at))).toBe(true);
          const read = decodePlanBytes(bytes, 'the plan');
          expect(read.ok).toBe(false);
          expect(!read.ok && read.problems[0]!.message).toContain(`at byte ${at} (0x${bytes[at]!.toString(16).padStart(2, '0')}`);
        } else {
          expect(decodePlanBytes(bytes, 'the plan')).toEqual({ ok: true, text: new TextDecoder().decode(bytes) });
        }
      }),
      { numRuns: 1000 },
    );
  });
});
