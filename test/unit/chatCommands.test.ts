import { describe, expect, it } from 'vitest';
import { chatHelp, parseChatLine } from '../../src/core/chat/commands.js';
import { dropNulls, strictPlanJsonSchema } from '../../src/core/chat/strictPlanSchema.js';
import { validatePlanValue } from '../../src/core/contract/validatePlan.js';

const command = (line: string) => {
  const parsed = parseChatLine(line);
  if (!parsed.ok) throw new Error(`expected a command, got: ${parsed.error}`);
  return parsed.command;
};
const error = (line: string) => {
  const parsed = parseChatLine(line);
  if (parsed.ok) throw new Error(`expected an error, got ${JSON.stringify(parsed.command)}`);
  return parsed.error;
};

describe('parseChatLine', () => {
  it('parses every command', () => {
    expect(command('/dispatch api,web run the tests  now')).toEqual({ kind: 'dispatch', workspaces: ['api', 'web'], prompt: 'run the tests  now' });
    expect(command('  /dispatch api fix it\nplease ')).toEqual({ kind: 'dispatch', workspaces: ['api'], prompt: 'fix it\nplease' });
    expect(command('/status')).toEqual({ kind: 'status', workspace: null });
    expect(command('/status web')).toEqual({ kind: 'status', workspace: 'web' });
    expect(command('/feed')).toEqual({ kind: 'feed', needsInput: false });
    expect(command('/feed needs-input')).toEqual({ kind: 'feed', needsInput: true });
    expect(command('/ack s12')).toEqual({ kind: 'ack', signalId: 's12' });
    expect(command('/approve')).toEqual({ kind: 'approve', approvalKey: null });
    expect(command('/approve web#3')).toEqual({ kind: 'approve', approvalKey: 'web#3' });
    expect(command('/decline')).toEqual({ kind: 'decline', approvalKey: null });
    expect(command('/plan ./plans/my plan.json')).toEqual({ kind: 'plan', file: './plans/my plan.json' });
    expect(command('@api hello there')).toEqual({ kind: 'mention', workspace: 'api', message: 'hello there' });
    expect(command('/help')).toEqual({ kind: 'help' });
    expect(command('/STATUS')).toEqual({ kind: 'status', workspace: null });
  });

  it('sends everything else to the planner, including lines that start with a path', () => {
    expect(command('fix the failing tests in api and web')).toEqual({ kind: 'planner', request: 'fix the failing tests in api and web' });
    expect(command('/tmp/x is full, clean it up')).toEqual({ kind: 'planner', request: '/tmp/x is full, clean it up' });
  });

  it('explains malformed commands with their usage', () => {
    expect(error('/dispatch')).toBe('usage: /dispatch <ws>[,<ws>…] <prompt>');
    expect(error('/dispatch api')).toBe('usage: /dispatch <ws>[,<ws>…] <prompt>');
    expect(error('/dispatch api,,web go')).toBe('usage: /dispatch <ws>[,<ws>…] <prompt>');
    expect(error('/dispatch api,api go')).toContain('workspace "api" is listed twice');
    expect(error('/status a b')).toBe('usage: /status [ws]');
    expect(error('/feed everything')).toBe('usage: /feed [needs-input]');
    expect(error('/ack')).toBe('usage: /ack <signal>');
    expect(error('/ack s1 s2')).toBe('usage: /ack <signal>');
    expect(error('/approve a b')).toBe('usage: /approve [key]');
    expect(error('/decline a b')).toBe('usage: /decline [key]');
    expect(error('/plan')).toBe('usage: /plan FILE');
    expect(error('@api')).toBe('usage: @<workspace> <message>');
    expect(error('@ hi')).toBe('usage: @<workspace> <message>');
    expect(error('   ')).toContain('/help');
  });

  it('names the known commands for an unknown one, with a suggestion', () => {
    const message = error('/stauts');
    expect(message).toContain('unknown command /stauts (did you mean /status?)');
    for (const name of ['/dispatch', '/status', '/feed', '/ack', '/approve', '/decline', '/plan', '/help', '@<workspace>']) expect(message).toContain(name);
    expect(error('/frobnicate now')).toMatch(/^unknown command \/frobnicate; known: /);
  });

  it('lists every command in /help', () => {
    const help = chatHelp();
    for (const usage of ['/dispatch <ws>[,<ws>…] <prompt>', '/status [ws]', '/feed [needs-input]', '/ack <signal>', '/approve [key]', '/decline [key]', '/plan FILE', '@<workspace> <message>', '/help']) {
      expect(help).toContain(usage);
    }
  });
});

describe('the strict plan schema for structured output', () => {
  const objects = (node: unknown): Record<string, unknown>[] => {
    if (typeof node !== 'object' || node === null) return [];
    const self = node as Record<string, unknown>;
    const children = Object.values(self).flatMap((v) => (Array.isArray(v) ? v.flatMap(objects) : objects(v)));
    return self.properties ? [self, ...children] : children;
  };

  it('lists every property as required, allows no others, and makes optional ones nullable', () => {
    const schema = strictPlanJsonSchema();
    const found = objects(schema);
    // The plan, an action, and an action's retry, target and budget.
    expect(found).toHaveLength(5);
    for (const object of found) {
      expect(object.additionalProperties).toBe(false);
      expect(object.required).toEqual(Object.keys(object.properties as object));
    }
    const plan = found[0]!.properties as Record<string, { enum?: unknown[] }>;
    expect(plan.version).toMatchObject({ type: 'number', enum: [2] });
    // A map cannot be strict: the planner sets no hostConcurrency.
    expect(Object.keys(plan)).toEqual(['version', 'id', 'concurrency', 'actions']);
    const action = found[1]!.properties as Record<string, { anyOf?: unknown[] }>;
    expect(action.thread!.anyOf).toContainEqual({ type: 'null' });
    expect(action.after!.anyOf).toEqual([{ type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } }, { type: 'null' }]);
    expect(action.prompt!.anyOf).toBeUndefined();
    expect(JSON.stringify(schema)).not.toMatch(/"(default|const|minLength|minimum|maximum|propertyNames|\$id|\$schema)"/);
  });

  it('an answer in the strict form validates with the contract once nulls are dropped', () => {
    const answer = {
      version: 1,
      id: null,
      actions: [{ id: 'a', workspace: 'api', prompt: 'go', thread: null, model: null, effort: null, approvalPolicy: null, sandbox: null }],
    };
    const validation = validatePlanValue(dropNulls(answer), { workspaces: [{ name: 'api', path: '/tmp/api' }], baseDir: '/' });
    expect(validation.ok && validation.plan.actions[0]!.thread).toBe('latest');
  });

  it('a v2 answer in the strict form, with a dependency, validates the same way', () => {
    const none = { model: null, effort: null, approvalPolicy: null, sandbox: null, retry: null, worktree: null, kind: null, target: null, budget: null, goal: null };
    const answer = {
      version: 2,
      id: null,
      concurrency: null,
      actions: [
        { id: 'build', workspace: 'api', prompt: 'Build it', thread: null, after: null, ...none },
        { id: 'test', workspace: 'api', prompt: 'Test it', thread: 'latest', after: ['build'], ...none, retry: { attempts: 2, backoffSec: null } },
      ],
    };
    const validation = validatePlanValue(dropNulls(answer), { workspaces: [{ name: 'api', path: '/tmp/api' }], baseDir: '/' });
    if (!validation.ok) throw new Error(JSON.stringify(validation.problems));
    expect(validation.plan).toEqual({
      version: 2,
      actions: [
        { id: 'build', workspace: 'api', prompt: 'Build it', thread: 'latest', kind: 'turn' },
        { id: 'test', workspace: 'api', prompt: 'Test it', thread: 'latest', kind: 'turn', after: ['build'], retry: { attempts: 2, backoffSec: 30 } },
      ],
    });
  });
});
