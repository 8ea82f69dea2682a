import type { ThreadItem } from '../protocol/messages.js';
import { displayCommand, oneLine, stripControl } from '../util/text.js';

/** The text inputs of a user message, in order (images and mentions have none). */
export function userTexts(item: Pick<ThreadItem, 'content'>): string[] {
  // Only a user message's inputs are objects; text is among them beside images and mentions.
  return (item.content ?? []).flatMap((c) => (typeof c === 'object' && c.type === 'text' && c.text !== undefined ? [c.text] : []));
}

/** The item as one clean line of up to 300 characters (`null`: not an item we summarize). */
export function itemLine(item: ThreadItem): string | null {
  switch (item.type) {
    case 'userMessage':
      return oneLine(userTexts(item).join(' '), 300);
    case 'agentMessage':
      return oneLine(item.text ?? '', 300);
    case 'commandExecution':
      return oneLine(displayCommand(item.command ?? ''), 200);
    case 'fileChange':
      return oneLine((item.changes ?? []).map((c) => c.path).join(', '), 200);
    case 'mcpToolCall':
    case 'dynamicToolCall':
      return oneLine(`${item.server ?? ''} ${item.tool ?? ''}`, 200);
    default:
      return null;
  }
}

/** The lines of a command's output a transcript shows: its end, where the outcome is. */
const OUTPUT_TAIL_LINES = 20;

/**
 * The item as a person reads it in a transcript: whole messages with their line breaks, a
 * command with its exit code and the end of its output; terminal controls stripped (agent and
 * command text is untrusted). '' for items that have no text of their own.
 */
export function itemText(item: ThreadItem & { summary?: string[] }): string {
  switch (item.type) {
    case 'userMessage':
      return stripControl(userTexts(item).join('\n'));
    case 'agentMessage':
    case 'plan':
      return stripControl(item.text ?? '');
    case 'reasoning':
      return stripControl((item.summary ?? []).join('\n'));
    case 'commandExecution': {
      const exit = typeof item.exitCode === 'number' ? ` (exit ${item.exitCode})` : '';
      const output = stripControl(item.aggregatedOutput ?? '').trimEnd();
      const lines = output === '' ? [] : output.split('\n');
      const tail = lines.length > OUTPUT_TAIL_LINES ? [`… (${lines.length - OUTPUT_TAIL_LINES} lines before)`, ...lines.slice(-OUTPUT_TAIL_LINES)] : lines;
      return [`$ ${oneLine(displayCommand(item.command ?? ''), 500)}${exit}`, ...tail].join('\n');
    }
    default:
      return itemLine(item) ?? '';
  }
}
