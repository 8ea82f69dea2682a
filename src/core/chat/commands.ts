import { WORKSPACE_NAME_PATTERN } from '../config/config.js';
import { closest } from '../contract/suggest.js';

/** What a chat line asks for: a command that needs no model, or a request for the planner. */
export type ChatCommand =
  | { kind: 'dispatch'; workspaces: string[]; prompt: string }
  | { kind: 'status'; workspace: string | null }
  | { kind: 'feed'; needsInput: boolean }
  | { kind: 'ack'; signalId: string }
  | { kind: 'approve'; approvalKey: string | null }
  | { kind: 'decline'; approvalKey: string | null }
  | { kind: 'plan'; file: string }
  | { kind: 'mention'; workspace: string; message: string }
  | { kind: 'help' }
  | { kind: 'planner'; request: string };

export type ParsedChatLine = { ok: true; command: ChatCommand } | { ok: false; error: string };

export interface ChatCommandHelp {
  name: string;
  usage: string;
  description: string;
}

/** The commands that need no model, in the order `/help` lists them. */
export const CHAT_COMMANDS: readonly ChatCommandHelp[] = [
  { name: '/dispatch', usage: '/dispatch <ws>[,<ws>…] <prompt>', description: "start a turn with the prompt on each workspace's latest thread" },
  { name: '/status', usage: '/status [ws]', description: 'workspaces and threads: status, next step, blockers; open signals' },
  { name: '/feed', usage: '/feed [needs-input]', description: 'the latest activity, or only what waits for you' },
  { name: '/ack', usage: '/ack <signal>', description: 'acknowledge a signal (ids as in /status)' },
  { name: '/approve', usage: '/approve [key]', description: 'approve the selected approval (default: the oldest pending one)' },
  { name: '/decline', usage: '/decline [key]', description: 'decline the selected approval (default: the oldest pending one)' },
  { name: '/plan', usage: '/plan FILE', description: 'propose the plan in FILE (confirm to dispatch it)' },
  { name: '@', usage: '@<workspace> <message>', description: "a turn with the message on that workspace's latest thread" },
  { name: '/help', usage: '/help', description: 'this list' },
];

const SLASH_NAMES = CHAT_COMMANDS.filter((c) => c.name.startsWith('/')).map((c) => c.name);

const usage = (name: string): { ok: false; error: string } => ({
  ok: false,
  error: `usage: ${CHAT_COMMANDS.find((c) => c.name === name)!.usage}`,
});

const ok = (command: ChatCommand): ParsedChatLine => ({ ok: true, command });

/** The whitespace-separated words of `text` (empty for blank text). */
function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/**
 * Parses one chat line. Pure: no state is consulted, so workspace names are only checked for
 * their form here; whether they exist is the caller's question.
 */
export function parseChatLine(line: string): ParsedChatLine {
  const text = line.trim();
  if (text === '') return { ok: false, error: 'type a request for the planner, or /help for the commands' };
  if (text.startsWith('@')) return parseMention(text);
  // "/tmp/x is broken" is a request that starts with a path, not a command.
  const name = /^\/[A-Za-z-]*(?=\s|$)/.exec(text)?.[0];
  if (name === undefined) return ok({ kind: 'planner', request: text });
  const rest = text.slice(name.length).trim();
  const args = words(rest);
  switch (name.toLowerCase()) {
    case '/dispatch':
      return parseDispatch(rest);
    case '/status':
      if (args.length > 1 || (args[0] !== undefined && !WORKSPACE_NAME_PATTERN.test(args[0]))) return usage('/status');
      return ok({ kind: 'status', workspace: args[0] ?? null });
    case '/feed':
      if (args.length === 0) return ok({ kind: 'feed', needsInput: false });
      if (args.length === 1 && args[0]!.toLowerCase() === 'needs-input') return ok({ kind: 'feed', needsInput: true });
      return usage('/feed');
    case '/ack':
      return args.length === 1 ? ok({ kind: 'ack', signalId: args[0]! }) : usage('/ack');
    case '/approve':
    case '/decline': {
      if (args.length > 1) return usage(name.toLowerCase());
      const kind = name.toLowerCase() === '/approve' ? 'approve' : 'decline';
      return ok({ kind, approvalKey: args[0] ?? null });
    }
    case '/plan':
      // The rest of the line is the path, so a path with spaces works without quotes.
      return rest === '' ? usage('/plan') : ok({ kind: 'plan', file: rest });
    case '/help':
      return ok({ kind: 'help' });
    default: {
      const suggestion = name.length > 1 ? closest(name.toLowerCase(), SLASH_NAMES) : null;
      return {
        ok: false,
        error: `unknown command ${name}${suggestion ? ` (did you mean ${suggestion}?)` : ''}; known: ${SLASH_NAMES.join(', ')}, @<workspace> <message>`,
      };
    }
  }
}

function parseDispatch(rest: string): ParsedChatLine {
  const match = /^(\S+)\s+(\S[\s\S]*)$/.exec(rest);
  if (!match) return usage('/dispatch');
  const workspaces = match[1]!.split(',');
  if (workspaces.some((w) => !WORKSPACE_NAME_PATTERN.test(w))) return usage('/dispatch');
  const twice = workspaces.find((w, i) => workspaces.indexOf(w) !== i);
  if (twice !== undefined) return { ok: false, error: `workspace "${twice}" is listed twice; usage: /dispatch <ws>[,<ws>…] <prompt>` };
  return ok({ kind: 'dispatch', workspaces, prompt: match[2]!.trim() });
}

function parseMention(text: string): ParsedChatLine {
  const match = /^@(\S+)\s+(\S[\s\S]*)$/.exec(text);
  if (!match || !WORKSPACE_NAME_PATTERN.test(match[1]!)) return usage('@');
  return ok({ kind: 'mention', workspace: match[1]!, message: match[2]!.trim() });
}

/** The `/help` text. */
export function chatHelp(): string {
  const width = Math.max(...CHAT_COMMANDS.map((c) => c.usage.length));
  return [
    'commands (anything else goes to the planner, which proposes a plan for you to confirm):',
    ...CHAT_COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.description}`),
  ].join('\n');
}
