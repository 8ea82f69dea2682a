import type { SupervisorState } from '../core/state/model.js';
import { displayCommand, formatTokens } from '../core/util/text.js';
import { relativeTime } from '../core/util/time.js';
import type { DocLine } from './document.js';
import { ITEM_GLYPHS } from './itemGlyphs.js';
import { threadStatus } from './viewModel.js';

const DECISIONS: [string, string, string][] = [
  ['a', 'accept', 'accept'],
  ['A', 'acceptForSession', 'accept for session'],
  ['d', 'decline', 'decline'],
  ['c', 'cancel', 'cancel turn'],
];

/**
 * A thread as the detail view shows it: its title and state, task, next step, the error and
 * blockers in full, a pending approval and its keys, the plan, then its recent items, newest last.
 */
export function detailDocument(state: SupervisorState, threadId: string, nowMs: number): DocLine[] {
  const t = state.threads[threadId];
  if (!t) return [{ text: 'This thread is gone. Esc to go back.', tone: 'dim' }];
  const status = threadStatus(t);
  const lines: DocLine[] = [
    { text: t.title, bold: true },
    { text: `${t.workspace} · ${t.id} · ${status.word}${t.tokenUsage ? ` · ${formatTokens(t.tokenUsage.totalTokens)} tokens` : ''}`, tone: status.tone },
    { text: `task   ${t.digest.currentTask ?? '-'}`, hang: 7 },
    { text: `next   ${t.digest.nextStep}`, hang: 7 },
  ];
  if (t.lastError) lines.push({ text: `error  ${t.lastError.message}${t.lastError.codexErrorKind ? ` (${t.lastError.codexErrorKind})` : ''}`, tone: 'error', hang: 7 });
  for (const b of t.digest.blockers.filter((b) => b.kind !== 'error')) lines.push({ text: `block  ${b.text}`, tone: 'warn', hang: 7 });
  const approval = t.pendingApprovalKeys.map((k) => state.pendingApprovals[k]).find(Boolean);
  if (approval) {
    lines.push({ text: `approve? ${approval.command ? displayCommand(approval.command) : approval.files.join(', ')}${approval.reason ? ` — ${approval.reason}` : ''}`, tone: 'warn', bold: true, hang: 9 });
    const keys = DECISIONS.filter(([, decision]) => approval.availableDecisions.includes(decision)).map(([key, , label]) => `[${key}] ${label}`);
    lines.push({ text: keys.join('  '), tone: 'info' });
  }
  if (t.plan.length > 0) {
    lines.push({ text: 'plan', tone: 'dim' });
    for (const s of t.plan) lines.push({ text: `${s.status === 'completed' ? '☑' : s.status === 'inProgress' ? '▸' : '☐'} ${s.step}`, tone: s.status === 'completed' ? 'dim' : 'plain', hang: 2 });
  }
  lines.push({ text: `recent items (${t.recentItems.length})`, tone: 'dim' });
  for (const item of t.recentItems) {
    lines.push({
      text: `${relativeTime(item.atMs, nowMs).padEnd(8)} ${ITEM_GLYPHS[item.type] ?? '·'} ${item.text}${item.status && item.status !== 'completed' ? ` [${item.status}]` : ''}`,
      tone: item.status === 'failed' || item.status === 'declined' ? 'error' : item.type === 'agentMessage' ? 'info' : 'plain',
      hang: 11,
    });
  }
  return lines;
}
