import { bindingsFor, type View } from '../keymap.js';
import { COMMAND_LINE, commandUsage } from './commandLine.js';

export const VIEW_NAMES: Record<View, string> = { ops: 'operations', feed: 'feed', approvals: 'needs you', detail: 'thread', transcript: 'transcript', diff: 'diff', chat: 'chat' };

/** The help lines of a view: its keys, then the `:` commands, each from its table. */
export function helpLines(view: View): { keys: string; description: string }[] {
  const seen = new Set<string>();
  const keys = bindingsFor(view).filter((b) => !seen.has(b.keys) && seen.add(b.keys));
  return [
    ...keys.map((b) => ({ keys: b.keys, description: b.description })),
    { keys: '', description: '' },
    ...COMMAND_LINE.map((c) => ({ keys: commandUsage(c), description: `${c.description}${c.aliases.length ? ` (also :${c.aliases.join(', :')})` : ''}` })),
  ];
}

