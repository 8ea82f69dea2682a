import { Box, Text } from 'ink';
import type { SupervisorState } from '../../core/state/model.js';
import { displayCommand } from '../../core/util/text.js';
import { useToneColor } from '../theme.js';
import { queueItemTitle, type QueueItem } from '../viewModel.js';
import { visibleWindow } from '../window.js';
import { Line } from './Line.js';

const DECISION_KEYS: [string, string, string][] = [
  ['a', 'accept', 'accept'],
  ['A', 'acceptForSession', 'accept for session'],
  ['d', 'decline', 'decline'],
  ['c', 'cancel', 'cancel turn'],
];

export function DecisionKeys({ available }: { available: string[] }) {
  const color = useToneColor();
  return (
    <Text wrap="truncate-end">
      {DECISION_KEYS.map(([key, decision, label]) => {
        const enabled = available.includes(decision);
        return (
          <Text key={decision} color={enabled ? color('info') : color('dim')} strikethrough={!enabled}>
            {`[${key}] ${label}  `}
          </Text>
        );
      })}
    </Text>
  );
}

export function ApprovalsView({
  state,
  queue,
  selected,
  answering,
  width,
  height,
}: {
  state: SupervisorState;
  queue: QueueItem[];
  selected: number;
  answering: string | null;
  width: number;
  height: number;
}) {
  const color = useToneColor();
  if (queue.length === 0) {
    return (
      <Box height={height} width={width}>
        <Text color={color('dim')}>Nothing needs you. Approvals and questions from every workspace appear here.</Text>
      </Box>
    );
  }
  const listHeight = Math.min(queue.length, Math.max(1, Math.floor(height / 3)));
  const { start, end } = visibleWindow(queue.length, selected, listHeight);
  const item = queue[selected];
  return (
    <Box flexDirection="column" height={height} width={width}>
      {queue.slice(start, end).map((q, i) => (
        <Line key={q.kind === 'approval' ? q.approval.key : q.question.key} text={`${start + i === selected ? '›' : ' '} ${queueItemTitle(state, q)}`} tone={start + i === selected ? 'warn' : 'plain'} bold={start + i === selected} />
      ))}
      <Text color={color('dim')}>{'─'.repeat(Math.max(0, width))}</Text>
      {item && <QueueItemDetail state={state} item={item} answering={answering} height={height - listHeight - 1} />}
    </Box>
  );
}

function QueueItemDetail({ state, item, answering, height }: { state: SupervisorState; item: QueueItem; answering: string | null; height: number }) {
  const color = useToneColor();
  if (item.kind === 'approval') {
    const a = item.approval;
    const thread = state.threads[a.threadId];
    const diffLines = (a.diff ?? '').split('\n');
    const fixed = 6;
    return (
      <Box flexDirection="column" height={height}>
        <Line text={`workspace  ${a.workspace}    thread  ${thread?.title ?? a.threadId}`} />
        {a.kind === 'command' && <Line text={`command    ${displayCommand(a.command ?? '(not given)')}`} bold />}
        {a.kind === 'fileChange' && <Line text={`files      ${a.files.join(', ') || '(see diff)'}`} bold />}
        {a.kind === 'permissions' && <Line text={`permissions ${JSON.stringify(a.permissions)}`} bold />}
        <Line text={`cwd        ${a.cwd ?? '-'}`} />
        <Line text={`reason     ${a.reason ?? '(none given)'}`} />
        <DecisionKeys available={a.availableDecisions} />
        {a.diff
          ? diffLines.slice(0, Math.max(0, height - fixed)).map((line, i) => (
              <Line key={i} text={line} tone={line.startsWith('+') ? 'ok' : line.startsWith('-') ? 'error' : 'dim'} />
            ))
          : null}
      </Box>
    );
  }
  const q = item.question;
  // A secret (a token, a password) is never echoed on a screen that may be shared.
  const secret = q.questions.some((question) => question.isSecret);
  return (
    <Box flexDirection="column" height={height}>
      <Line text={`workspace  ${q.workspace}    thread  ${state.threads[q.threadId]?.title ?? q.threadId}`} />
      {q.questions.map((question) => (
        <Line key={question.id} text={`${question.header}: ${question.question}${question.options.length ? `  (${question.options.join(' / ')})` : ''}`} bold />
      ))}
      {answering !== null ? (
        <Text>
          <Text color={color('info')}>answer › </Text>
          {secret ? '•'.repeat([...answering].length) : answering}
          <Text inverse> </Text>
        </Text>
      ) : (
        <Text color={color('info')}>Enter: type an answer</Text>
      )}
    </Box>
  );
}
