import { SupervisorError } from '../../core/errors.js';
import { approvalSubject, decisionWord } from '../../core/state/digest.js';
import type { ApprovalDecision } from '../../core/state/events.js';
import type { ApprovalRecord } from '../../core/state/model.js';
import { findThread } from '../../core/state/selectors.js';
import { oneLine } from '../../core/util/text.js';
import { openApi } from '../apiHandle.js';
import type { GlobalOptions } from '../globalOptions.js';
import type { CliIo } from '../io.js';

export interface ApproveCliOptions {
  all?: boolean;
  decision?: ApprovalDecision;
  json?: boolean;
}

function describe(a: ApprovalRecord): string {
  return `${a.key}  ${a.workspace}: ${approvalSubject(a)}`;
}

/** `approve KEY|--all [--decision D]`: answers approvals that wait, as the TUI's Needs you does. */
export async function approveCommand(globals: GlobalOptions, key: string | undefined, opts: ApproveCliOptions, io: CliIo): Promise<number> {
  if (key !== undefined && opts.all) throw new SupervisorError('give an approval KEY or --all, not both', 2);
  const decision = opts.decision ?? 'accept';
  const handle = await openApi(globals, { holder: 'approve', serve: false });
  try {
    const waiting = Object.values((await handle.api.snapshot()).pendingApprovals).sort((a, b) => a.receivedAtMs - b.receivedAtMs);
    const list = waiting.length > 0 ? `waiting:\n${waiting.map((a) => `  ${describe(a)}`).join('\n')}` : 'no approval is waiting';
    if (key === undefined && !opts.all) throw new SupervisorError(`give the KEY of an approval, or --all; ${list}`, 2);
    const chosen = opts.all ? waiting : waiting.filter((a) => a.key === key);
    if (key !== undefined && chosen.length === 0) throw new SupervisorError(`no approval "${key}" is waiting (answered, or never asked); ${list}`, 2);
    // An approval offers only some decisions (a permissions request has no "for the session").
    const refused = chosen.filter((a) => !a.availableDecisions.includes(decision));
    if (key !== undefined && refused.length > 0) {
      throw new SupervisorError(`approval ${key} does not offer "${decision}"; it offers: ${refused[0]!.availableDecisions.join(', ')}`, 2);
    }
    const answered: ApprovalRecord[] = [];
    for (const a of chosen) {
      if (refused.includes(a)) continue;
      await handle.api.answerApproval(a.key, decision);
      answered.push(a);
    }
    if (opts.json) {
      const row = (a: ApprovalRecord) => ({ key: a.key, workspace: a.workspace, threadId: a.threadId, subject: approvalSubject(a) });
      io.out(`${JSON.stringify({ decision, answered: answered.map(row), skipped: refused.map(row) }, null, 2)}\n`);
    } else {
      if (chosen.length === 0) io.out('no approval is waiting\n');
      for (const a of answered) io.out(`${decisionWord(decision)}: ${describe(a)}\n`);
      for (const a of refused) io.out(`skipped (it does not offer "${decision}"): ${describe(a)}\n`);
    }
    return 0;
  } finally {
    await handle.close();
  }
}

/** `interrupt THREAD`: stops the thread's running turn. */
export async function interruptCommand(globals: GlobalOptions, ref: string, opts: { json?: boolean }, io: CliIo): Promise<number> {
  const handle = await openApi(globals, { holder: 'interrupt', serve: false });
  try {
    const found = findThread(await handle.api.snapshot(), ref);
    if ('problem' in found) throw new SupervisorError(found.problem, 2);
    const { thread } = found;
    if (thread.currentTurnId === null) throw new SupervisorError(`thread ${thread.id} (${thread.workspace}: ${oneLine(thread.title, 60)}) has no running turn`, 1);
    await handle.api.interruptTurn(thread.id, thread.currentTurnId);
    io.out(
      opts.json
        ? `${JSON.stringify({ threadId: thread.id, turnId: thread.currentTurnId, workspace: thread.workspace, interrupted: true }, null, 2)}\n`
        : `interrupted ${thread.workspace}: ${oneLine(thread.title, 60)} (${thread.id})\n`,
    );
    return 0;
  } finally {
    await handle.close();
  }
}
