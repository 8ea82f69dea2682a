import { Box, Text } from 'ink';
import type { ChatMessage } from '../../core/state/model.js';
import { stripControl } from '../../core/util/text.js';
import { useToneColor } from '../theme.js';
import type { Tone } from '../viewModel.js';
import { Line } from './Line.js';

const ROLE_TONES: Record<ChatMessage['role'], Tone> = { user: 'accent', supervisor: 'plain', planner: 'info', result: 'ok', error: 'error' };
const ROLE_LABELS: Record<ChatMessage['role'], string> = { user: 'you', supervisor: 'supervisor', planner: 'planner', result: 'result', error: 'error' };

/** The chat history, newest at the bottom, each message's lines cut at the width. */
export function ChatView({
  messages,
  input,
  pendingProposal,
  busy,
  width,
  height,
}: {
  messages: ChatMessage[];
  input: string | null;
  pendingProposal: string | null;
  busy: boolean;
  width: number;
  height: number;
}) {
  const color = useToneColor();
  const lines: { key: string; text: string; tone: Tone; bold: boolean }[] = [];
  for (const m of messages) {
    stripControl(m.text)
      .split('\n')
      .forEach((text, i) => lines.push({ key: `${m.id}:${i}`, text: i === 0 ? `${ROLE_LABELS[m.role]}: ${text}` : `  ${text}`, tone: ROLE_TONES[m.role], bold: i === 0 && m.role === 'user' }));
  }
  // One row stays for the input line (or the hint).
  const shown = lines.slice(-Math.max(0, height - 1));
  return (
    <Box flexDirection="column" width={width} height={height}>
      {messages.length === 0 && (
        <Text color={color('dim')} wrap="truncate-end">
          Ask the supervisor: "run the tests in api and fix the lint in web", or /help for commands.
        </Text>
      )}
      {shown.map((l) => (
        <Line key={l.key} text={l.text} tone={l.tone} bold={l.bold} />
      ))}
      <Box flexGrow={1} />
      {input !== null ? (
        <Text wrap="truncate-start">
          <Text color={color('accent')}>› </Text>
          {input}
          <Text inverse> </Text>
        </Text>
      ) : (
        <Text color={busy ? color('info') : pendingProposal ? color('warn') : color('dim')} wrap="truncate-end">
          {busy ? 'working…' : pendingProposal ? `proposal ${pendingProposal}: Enter/y dispatch · e edit · n reject` : 'Enter or i: type a message · /help'}
        </Text>
      )}
    </Box>
  );
}
