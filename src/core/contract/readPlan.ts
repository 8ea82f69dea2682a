import { readFile, stat } from 'node:fs/promises';
import { MAX_PLAN_BYTES, type PlanProblem } from './plan.js';

/**
 * Reading a plan's bytes (a file, or stdin) into text. Every failure is a problem for the user,
 * never an exception: the caller prints it and exits 2 before anything starts.
 */
export type PlanRead = { ok: true; text: string } | { ok: false; problems: PlanProblem[] };

const LIMIT = `1 MB limit (${MAX_PLAN_BYTES} bytes)`;

function problem(message: string): PlanRead {
  return { ok: false, problems: [{ path: '', message }] };
}

/** A plan file: checked by stat first, so an oversized file is not read at all. */
export async function readPlanFile(file: string): Promise<PlanRead> {
  let size: number;
  try {
    const stats = await stat(file);
    if (!stats.isFile()) return problem(`${file} is not a file; give the path of a plan .json file`);
    size = stats.size;
  } catch (error) {
    return problem(fileError(file, error));
  }
  if (size > MAX_PLAN_BYTES) return problem(`plan file ${file} is ${size} bytes, over the ${LIMIT}; split it into several plans`);
  try {
    return decodePlanBytes(await readFile(file), `plan file ${file}`);
  } catch (error) {
    return problem(fileError(file, error));
  }
}

function fileError(file: string, error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return `plan file ${file} not found; check the path`;
    case 'ELOOP':
      return `plan file ${file} is a symbolic link loop (a link that leads back to itself); point it at a plan file`;
    case 'ENOTDIR':
      return `plan file ${file} not found: a part of the path is not a directory; check the path`;
    case 'EACCES':
    case 'EPERM':
      return `plan file ${file} cannot be read: permission denied`;
    default:
      return `plan file ${file} cannot be read: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * A plan from a stream (stdin), counted while it arrives: reading stops at the limit, so a huge
 * input is neither waited for nor held. (Reading fd 0 at once fails with EAGAIN on a pipe that
 * has no data yet.)
 */
export async function readPlanStream(stream: AsyncIterable<Buffer | string>, source = 'the plan on stdin'): Promise<PlanRead> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      // Leaving the loop destroys the stream: the rest is never read.
      if (size > MAX_PLAN_BYTES) return problem(`${source} is over the ${LIMIT}; reading stopped there; split it into several plans`);
      chunks.push(bytes);
    }
  } catch (error) {
    return problem(`${source} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  return decodePlanBytes(Buffer.concat(chunks, size), source);
}

/** UTF-8 text, or a problem naming the offset of the first byte that is not UTF-8. */
export function decodePlanBytes(bytes: Uint8Array, source: string): PlanRead {
  const bad = invalidUtf8Offset(bytes);
  if (bad >= 0) {
    const hex = bytes[bad]!.toString(16).padStart(2, '0');
    return problem(`${source} is not valid UTF-8 at byte ${bad} (0x${hex}; bytes counted from 0); save the plan as UTF-8`);
  }
  // A byte order mark is no part of the JSON.
  return { ok: true, text: new TextDecoder('utf-8').decode(bytes) };
}

/**
 * The offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or -1. TextDecoder's `fatal` mode
 * only says that the text is invalid, not where.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    // Continuation bytes after the lead, and the range of the first one (the rest are 80..BF).
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) length = 1;
    else if (lead === 0xe0) [length, low] = [2, 0xa0];
    else if (lead === 0xed) [length, high] = [2, 0x9f];
    else if (lead >= 0xe1 && lead <= 0xef) length = 2;
    else if (lead === 0xf0) [length, low] = [3, 0x90];
    else if (lead === 0xf4) [length, high] = [3, 0x8f];
    else if (lead >= 0xf1 && lead <= 0xf3) length = 3;
    else return i;
    for (let k = 1; k <= length; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return i;
    }
    i += length + 1;
  }
  return -1;
}
