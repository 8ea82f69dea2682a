import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KEYMAP } from '../../src/tui/keymap.js';
import { COMMAND_LINE, commandUsage } from '../../src/tui/ui/commandLine.js';
import { VIEW_NAMES } from '../../src/tui/ui/helpLines.js';

// A `|` inside a table cell must be escaped, in code too.
const cell = (text: string) => text.replace(/\|/g, '\\|');
const code = (keys: string) => keys.split(' / ').map((k) => `\`${cell(k)}\``).join(' / ');

/** The README's key table as the key table and the `:` command table make it (what `?` shows). */
function keysMarkdown(): string {
  const rows = KEYMAP.map((b) => `| ${code(b.keys)} | ${b.views === 'all' ? 'everywhere' : b.views.map((v) => VIEW_NAMES[v]).join(', ')} | ${b.description} |`);
  const commands = COMMAND_LINE.map((c) => `| \`${cell(commandUsage(c))}\`${c.aliases.map((a) => ` \`:${a}\``).join('')} | ${c.description} |`);
  return ['| keys | where | what |', '| --- | --- | --- |', ...rows, '', '| command | what |', '| --- | --- |', ...commands].join('\n');
}

describe('README', () => {
  it('lists every key and : command as `?` does (regenerate the block from this test when the tables change)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const expected = keysMarkdown();
    expect(readme.includes(expected), `README.md must contain:\n${expected}`).toBe(true);
  });
});
