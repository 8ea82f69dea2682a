import type { ReactElement } from 'react';
import { Box, Text } from 'ink';
import type { SupervisorState } from '../../core/state/model.js';
import { displayCommand } from '../../core/util/text.js';
import { relativeTime } from '../../core/util/time.js';
import { useToneColor } from '../theme.js';
import { threadStatus } from '../viewModel.js';
import { DecisionKeys } from './ApprovalsView.js';
import { Line } from './Line.js';

const ITEM_GLYPHS: Record<string, string> = { userMessage: '›', agentMessage: '‹', commandExecution: '$', fileChange: '±', mcpToolCall: '⚙', dynamicToolCall: '⚙' };

export function DetailView({ state, threadId, nowMs, width, height }: { state: SupervisorState; threadId: string; nowMs: number; width: number; height: number }) {
  const color = useToneColor();
  const t = state.threads[threadId];
  if (!t) return <Text color={color('dim')}>This thread is gone. Esc to go back.</Text>;
  const status = threadStatus(t);
  const approval = t.pendingApprovalKeys.map((k) => state.pendingApprovals[k]).find(Boolean);
  const header: ReactElement[] = [
    <Line key="title" text={`${t.title}`} bold />,
    <Line key="meta" text={`${t.workspace} · ${t.id} · ${status.word}${t.tokenUsage ? ` · ${t.tokenUsage.totalTokens} tokens` : ''}`} tone={status.tone} />,
    <Line key="task" text={`task   ${t.digest.currentTask ?? '-'}`} />,
    <Line key="next" text={`next   ${t.digest.nextStep}`} />,
  ];
  if (t.lastError) header.push(<Line key="err" text={`error  ${t.lastError.message}${t.lastError.codexErrorKind ? ` (${t.lastError.codexErrorKind})` : ''}`} tone="error" />);
  for (const b of t.digest.blockers.filter((b) => b.kind !== 'error')) header.push(<Line key={`b-${b.text}`} text={`block  ${b.text}`} tone="warn" />);
  if (approval) {
    header.push(<Line key="ap" text={`approve? ${approval.command ? displayCommand(approval.command) : approval.files.join(', ')}${approval.reason ? ` — ${approval.reason}` : ''}`} tone="warn" bold />);
    header.push(<DecisionKeys key="keys" available={approval.availableDecisions} />);
  }
  const plan = t.plan.map((s, i) => <Line key={`p${i}`} text={`${s.status === 'completed' ? '☑' : s.status === 'inProgress' ? '▸' : '☐'} ${s.step}`} tone={s.status === 'completed' ? 'dim' : 'plain'} />);
  const room = Math.max(0, height - header.length - plan.length - 2);
  const items = t.recentItems.slice(-room);
  return (
    <Box flexDirection="column" height={height} width={width}>
      {header}
      {plan.length > 0 && <Text color={color('dim')}>plan</Text>}
      {plan}
      <Text color={color('dim')}>{`recent items (${t.recentItems.length})`}</Text>
      {items.map((item) => (
        <Line
          key={item.id}
          text={`${relativeTime(item.atMs, nowMs).padEnd(8)} ${ITEM_GLYPHS[item.type] ?? '·'} ${item.text}${item.status && item.status !== 'completed' ? ` [${item.status}]` : ''}`}
          tone={item.status === 'failed' || item.status === 'declined' ? 'error' : item.type === 'agentMessage' ? 'info' : 'plain'}
        />
      ))}
    </Box>
  );
}
