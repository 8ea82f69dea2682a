import { Box, Text } from 'ink';
import { useToneColor } from '../theme.js';
import type { HeaderModel } from '../viewModel.js';

export function Header({ model, mode, width }: { model: HeaderModel; mode: string; width: number }) {
  const color = useToneColor();
  const version = model.codexVersions.length > 0 ? `codex ${model.codexVersions.join(', ')}` : 'codex ?';
  const ws = model.workspaces;
  const th = model.threads;
  const summary = ` · ${mode} · ${version} · ws ${ws.total} (${ws.ready} ready${ws.down ? `, ${ws.down} down` : ''}) · threads ${th.total} (${th.running} running, ${th.waiting} waiting)`;
  // Badges come first: at 80 columns the counts may be cut, who needs you may not.
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate-end">
        <Text bold>cm-supervisor</Text>
        {model.badges.map((b) => (
          <Text key={b.kind} color={color(b.tone)} bold>
            {` ${b.kind} ${b.count}`}
          </Text>
        ))}
        {model.limits && <Text color={color(model.limits.tone)}>{` · limits ${model.limits.text}`}</Text>}
        {summary}
      </Text>
    </Box>
  );
}
