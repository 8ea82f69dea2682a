import { Box, Text } from 'ink';
import type { View } from '../keymap.js';
import { useToneColor } from '../theme.js';

const TABS: { view: View; label: string }[] = [
  { view: 'ops', label: '1 Operations' },
  { view: 'feed', label: '2 Feed' },
  { view: 'approvals', label: '3 Needs you' },
  { view: 'chat', label: '4 Chat' },
];

export function TabBar({ view, needsYou, width }: { view: View; needsYou: number; width: number }) {
  const color = useToneColor();
  const active = view === 'detail' ? 'ops' : view;
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate-end">
        {TABS.map((t) => (
          <Text key={t.view} inverse={t.view === active} color={t.view === 'approvals' && needsYou > 0 ? color('warn') : undefined}>
            {` ${t.label}${t.view === 'approvals' ? ` (${needsYou})` : ''} `}
          </Text>
        ))}
        <Text color={color('dim')}>{'   ? help  : command  q quit'}</Text>
      </Text>
    </Box>
  );
}
