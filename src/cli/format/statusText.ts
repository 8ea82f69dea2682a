import { activitySeries, tokensUsed } from '../../core/state/activity.js';
import { hostHealth, rateLimitWords, transportWords } from '../../core/state/hostText.js';
import { openSignals, signalCounts, threadsOf } from '../../core/state/selectors.js';
import type { SupervisorState, WorkspaceRecord } from '../../core/state/model.js';
import { formatTokens, oneLine, sparkline } from '../../core/util/text.js';
import { relativeTime } from '../../core/util/time.js';

/** The status document `status --json` prints: stable field names, no internal bookkeeping. */
export function statusDocument(state: SupervisorState, mode: 'in-process' | 'daemon', nowMs: number) {
  return {
    mode,
    counts: { signals: signalCounts(state) },
    hosts: Object.values(state.hosts).map((h) => ({ ...h, workspaces: Object.values(state.workspaces).flatMap((w) => (w.host === h.name ? [w.name] : [])) })),
    workspaces: Object.values(state.workspaces).map((w) => workspaceDocument(state, w, nowMs)),
    openSignals: openSignals(state),
    pendingApprovals: Object.values(state.pendingApprovals),
    openQuestions: Object.values(state.openQuestions),
    jobs: Object.values(state.jobs),
  };
}

function workspaceDocument(state: SupervisorState, w: WorkspaceRecord, nowMs: number) {
  const threads = threadsOf(state, w.name);
  return {
    ...w,
    tokens: tokensUsed(threads),
    // Events per minute over the last 30 minutes, oldest first.
    activity: activitySeries(w.activity, nowMs),
    threads: threads.map((t) => ({
      id: t.id,
      title: t.title,
      status: t.status,
      waitingOnApproval: t.waitingOnApproval,
      waitingOnUserInput: t.waitingOnUserInput,
      currentTurnId: t.currentTurnId,
      lastTurn: t.lastTurn,
      tokenUsage: t.tokenUsage,
      digest: t.digest,
    })),
  };
}

export function statusText(state: SupervisorState, nowMs: number, mode: 'in-process' | 'daemon'): string {
  const lines: string[] = [];
  const counts = signalCounts(state);
  const badges = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  const workspaces = Object.values(state.workspaces);
  lines.push(`cm-supervisor (${mode}) — ${workspaces.length} workspace(s), ${Object.keys(state.threads).length} thread(s)${badges.length ? ` — ${badges.join(', ')}` : ''}`);
  if (workspaces.length === 0) lines.push('no workspaces configured: add one with `cm-supervisor workspace add PATH`');
  const used = new Set(workspaces.map((w) => w.host));
  const hosts = Object.values(state.hosts).filter((h) => used.has(h.name));
  if (hosts.length > 0) {
    lines.push('');
    lines.push('hosts:');
    for (const h of hosts) {
      const served = workspaces.filter((w) => w.host === h.name).map((w) => w.name);
      lines.push(`  ${h.name}  [${h.status}]  ${[h.target, transportWords(h), hostHealth(h)].filter(Boolean).join(' · ')}`);
      lines.push(`    serves: ${served.join(', ')}`);
      const limits = rateLimitWords(h.rateLimits, nowMs);
      if (limits) lines.push(`    limits: ${limits}`);
      if (h.lastError && h.status !== 'ready') lines.push(`    error: ${oneLine(h.lastError.message, 300)}`);
    }
  }
  for (const w of workspaces) {
    lines.push('');
    const threads = threadsOf(state, w.name);
    const tokens = tokensUsed(threads);
    const series = activitySeries(w.activity, nowMs);
    const lastHalfHour = series.some((n) => n > 0) ? `  last 30 min |${sparkline(series)}|` : '';
    lines.push(`${w.name}  [${w.status}]  ${w.host === 'local' ? w.path : `${w.host}:${w.path}`}${tokens > 0 ? `  ${formatTokens(tokens)} tokens` : ''}${lastHalfHour}`);
    if (threads.length === 0) lines.push('  (no threads)');
    for (const t of threads) {
      const flags = t.waitingOnApproval ? ' waiting-on-approval' : t.waitingOnUserInput ? ' waiting-on-input' : '';
      lines.push(`  ${oneLine(t.title, 60)}  [${t.status}${flags}]  ${t.id}`);
      if (t.digest.currentTask) lines.push(`    task:     ${oneLine(t.digest.currentTask, 100)}`);
      if (t.digest.lastActivity) lines.push(`    last:     ${relativeTime(t.digest.lastActivity.atMs, nowMs)} — ${t.digest.lastActivity.text}`);
      lines.push(`    next:     ${t.digest.nextStep}`);
      for (const b of t.digest.blockers) lines.push(`    blocker:  ${b.text}`);
    }
  }
  const signals = openSignals(state);
  if (signals.length > 0) {
    lines.push('');
    lines.push('open signals:');
    for (const s of signals) {
      lines.push(`  ${s.id}  ${s.kind}  ${s.workspace}  ${relativeTime(s.createdAtMs, nowMs)}  ${oneLine(s.message, 120)}${s.acknowledgedAtMs ? ' (acknowledged)' : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
