import type { SupervisorState, ThreadRecord } from '../state/model.js';
import { threadsOf } from '../state/selectors.js';
import { oneLine } from '../util/text.js';

export interface DigestOptions {
  /** Only this workspace. */
  workspace?: string;
  /** Threads shown per workspace, newest first. */
  threadsPerWorkspace?: number;
  /** The whole digest is cut to this many characters. */
  maxChars?: number;
}

/**
 * A compact text view of the state: workspaces (name, path, status) and their threads (id,
 * title, status, next step, blockers). Bounded, so it fits in a planner prompt with 200 threads.
 */
export function snapshotDigest(state: SupervisorState, options: DigestOptions = {}): string {
  const perWorkspace = options.threadsPerWorkspace ?? 5;
  const maxChars = options.maxChars ?? 6_000;
  const workspaces = Object.values(state.workspaces).filter((w) => !options.workspace || w.name === options.workspace);
  if (workspaces.length === 0) return 'no workspaces are configured';
  const lines: string[] = [];
  for (const ws of workspaces) {
    const threads = threadsOf(state, ws.name);
    lines.push(`- workspace ${ws.name} (${ws.path}): app-server ${ws.status}, ${threads.length === 0 ? 'no threads' : `${threads.length} thread(s)`}`);
    for (const thread of threads.slice(0, perWorkspace)) lines.push(`  - ${threadLine(thread)}`);
    if (threads.length > perWorkspace) lines.push(`  - … ${threads.length - perWorkspace} older thread(s)`);
  }
  const text = lines.join('\n');
  return text.length > maxChars ? `${text.slice(0, maxChars - 30).trimEnd()}\n… (cut at ${maxChars} chars)` : text;
}

function threadLine(thread: ThreadRecord): string {
  const status = thread.currentTurnId !== null ? 'running' : thread.status;
  const blockers = thread.digest.blockers.length > 0 ? `; blockers: ${thread.digest.blockers.map((b) => b.text).join('; ')}` : '';
  return `thread ${thread.id} "${oneLine(thread.title, 60)}" ${status}; next: ${oneLine(thread.digest.nextStep, 100)}${oneLine(blockers, 200)}`;
}
