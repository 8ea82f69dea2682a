import { mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PLAN_BYTES } from '../../src/core/contract/plan.js';
import { readPlanFile, readPlanStream } from '../../src/core/contract/readPlan.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-readplan-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const message = (read: Awaited<ReturnType<typeof readPlanFile>>) => (read.ok ? null : read.problems.map((p) => `${p.path}|${p.message}`).join('\n'));

describe('reading a plan file: every failure is a problem, none an exception', () => {
  it('a missing file, a directory, a symbolic link loop, an oversized file (by its size, unread)', async () => {
    expect(message(await readPlanFile(join(dir, 'missing.json')))).toBe(`|plan file ${join(dir, 'missing.json')} not found; check the path`);
    expect(message(await readPlanFile(dir))).toBe(`|${dir} is not a file; give the path of a plan .json file`);
    await symlink(join(dir, 'b'), join(dir, 'a'));
    await symlink(join(dir, 'a'), join(dir, 'b'));
    expect(message(await readPlanFile(join(dir, 'a')))).toContain(`plan file ${join(dir, 'a')} is a symbolic link loop`);
    // A sparse file: its size is known without writing (or reading) 2 GB.
    const huge = join(dir, 'huge.json');
    await writeFile(huge, '');
    await truncate(huge, 2 * 1024 ** 3);
    expect(message(await readPlanFile(huge))).toBe(`|plan file ${huge} is ${2 * 1024 ** 3} bytes, over the 1 MB limit (1048576 bytes); split it into several plans`);
  });

  it('UTF-8 text is returned, without a byte order mark', async () => {
    const file = join(dir, 'bom.json');
    await writeFile(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"version":1,"x":"é"}')]));
    expect(await readPlanFile(file)).toEqual({ ok: true, text: '{"version":1,"x":"é"}' });
  });
});

describe('reading a plan from a stream', () => {
  it('stops reading as soon as the limit is passed: the rest is never pulled', async () => {
    let pulled = 0;
    let closed = false;
    async function* tenMegabytes() {
      try {
        for (let i = 0; i < 160; i++) {
          pulled++;
          yield Buffer.alloc(64 * 1024, 0x20);
        }
      } finally {
        closed = true;
      }
    }
    const read = await readPlanStream(tenMegabytes());
    expect(read).toEqual({ ok: false, problems: [{ path: '', message: 'the plan on stdin is over the 1 MB limit (1048576 bytes); reading stopped there; split it into several plans' }] });
    expect(pulled).toBe(MAX_PLAN_BYTES / (64 * 1024) + 1);
    expect(closed).toBe(true);
  });

  it('pieces that split a character are joined before decoding; an error of the stream is a problem', async () => {
    const bytes = Buffer.from('{"prompt":"café"}');
    const split = bytes.indexOf(0xc3) + 1;
    async function* pieces() {
      yield bytes.subarray(0, split);
      yield bytes.subarray(split);
    }
    expect(await readPlanStream(pieces())).toEqual({ ok: true, text: '{"prompt":"café"}' });
    async function* broken(): AsyncGenerator<Buffer> {
      yield Buffer.from('{');
      throw new Error('EIO: i/o error, read');
    }
    expect(await readPlanStream(broken())).toEqual({ ok: false, problems: [{ path: '', message: 'the plan on stdin cannot be read: EIO: i/o error, read' }] });
  });
});
