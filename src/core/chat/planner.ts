import type { AppServerConnection, ConnectionEvent } from '../connection/appServerConnection.js';
import { CodexClient } from '../connection/codexClient.js';
import type { JsonValue } from '../protocol/generated/serde_json/JsonValue.js';
import type { Plan } from '../contract/plan.js';
import { validatePlanValue, type PlanProblem } from '../contract/validatePlan.js';
import { SupervisorError } from '../errors.js';
import { ItemNotificationSchema, TurnNotificationSchema } from '../protocol/messages.js';
import type { SupervisorState } from '../state/model.js';
import { formatProblems } from './renderPlan.js';
import { dropNulls, strictPlanJsonSchema } from './strictPlanSchema.js';
import { snapshotDigest } from './snapshotDigest.js';

export const PLANNER_INSTRUCTIONS = [
  'You are the planner of cm-supervisor, a tool that supervises OpenAI Codex agents, one per workspace (repository).',
  'You never do the work yourself and you run no commands: you turn each request into a cm-supervisor plan, a JSON object',
  '{"version": 1, "actions": [...]} in which each action gives one workspace one prompt for its Codex agent.',
  'Rules:',
  '- Only use the workspaces listed in the current state, by their exact name.',
  '- A request that concerns several workspaces gets one action for each of them.',
  '- "thread": use "latest" (continue the workspace\'s latest thread) unless the request asks for new or separate work, then "new";',
  '  use a thread id only when the request points at that thread.',
  '- Every prompt is read by an agent that never saw this conversation: make it self-contained (what to do, where, when it is done).',
  '- Action ids are short and unique: letters, digits, ".", "_" or "-" (e.g. "api-tests").',
  '- Leave "id", "model", "effort", "approvalPolicy" and "sandbox" null unless the request asks for them.',
  'Answer with the plan JSON only.',
].join('\n');

export interface PlannerOptions {
  /** The planner's own app-server (e.g. `Supervisor.plannerConnection`), asked before every request. */
  connection: () => Promise<AppServerConnection>;
  /** A planner thread of an earlier run to resume; a new one is started if it cannot be. */
  threadId?: string | null;
  /** How long one planner turn may take. */
  turnTimeoutMs?: number;
  /** Bound of the state digest sent with each request. */
  digestChars?: number;
}

export interface PlannerResult {
  /** Valid against the plan contract; every action names a configured workspace. */
  plan: Plan;
  threadId: string;
  /** 2 when the first answer was invalid and the retry fixed it. */
  attempts: 1 | 2;
}

/** The planner could not produce a valid plan; `problems` holds the last answer's problems, if any. */
export class PlannerError extends SupervisorError {
  constructor(
    message: string,
    readonly problems: PlanProblem[] = [],
  ) {
    super(message, 1);
  }
}

type Answer = { ok: true; plan: Plan } | { ok: false; problems: PlanProblem[] };

/**
 * Turns a free-form request into a validated plan with a dedicated Codex thread: the request
 * and a digest of the state go in, `outputSchema` asks for a plan, the answer is checked with
 * the plan contract. An invalid answer is sent back once with its problems.
 */
export class Planner {
  private thread: string | null;
  /** The connection the thread is loaded on; a new app-server has to resume it first. */
  private loadedOn: AppServerConnection | null = null;
  private readonly schema = strictPlanJsonSchema();
  /** One request at a time: a thread runs one turn at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PlannerOptions) {
    this.thread = options.threadId ?? null;
  }

  /** The planner's thread, once it has one (worth remembering to resume it later). */
  get threadId(): string | null {
    return this.thread;
  }

  plan(request: string, state: SupervisorState): Promise<PlannerResult> {
    const run = this.queue.then(() => this.planNow(request, state));
    this.queue = run.catch(() => {});
    return run;
  }

  private async planNow(request: string, state: SupervisorState): Promise<PlannerResult> {
    const connection = await this.options.connection();
    const threadId = await this.ensureThread(connection);
    const workspaces = Object.values(state.workspaces).map((w) => ({ name: w.name, path: w.path }));
    const digest = snapshotDigest(state, { maxChars: this.options.digestChars ?? 6_000 });
    const first = checkAnswer(await this.runTurn(connection, threadId, requestText(request, digest)), workspaces);
    if (first.ok) return { plan: first.plan, threadId, attempts: 1 };
    const second = checkAnswer(await this.runTurn(connection, threadId, retryText(first.problems)), workspaces);
    if (second.ok) return { plan: second.plan, threadId, attempts: 2 };
    const n = second.problems.length;
    throw new PlannerError(
      `the planner's answer was not a valid plan, also after one retry (${n} problem${n === 1 ? '' : 's'}); nothing was dispatched:\n${formatProblems(second.problems)}`,
      second.problems,
    );
  }

  private async ensureThread(connection: AppServerConnection): Promise<string> {
    if (this.thread !== null && this.loadedOn === connection) return this.thread;
    // The connection's cwd is the planner's directory, so the thread starts there without `cwd`.
    const settings = { approvalPolicy: 'never', sandbox: 'read-only', developerInstructions: PLANNER_INSTRUCTIONS } as const;
    const client = new CodexClient(connection);
    if (this.thread !== null) {
      try {
        const resumed = await client.threadResume({ threadId: this.thread, excludeTurns: true, ...settings });
        this.loadedOn = connection;
        return resumed.thread.id;
      } catch {
        // Gone, or held by another process ("active writer"): a fresh thread serves as well.
      }
    }
    const started = await client.threadStart(settings);
    this.thread = started.thread.id;
    this.loadedOn = connection;
    return started.thread.id;
  }

  /** Runs one structured-output turn and resolves with its final agent message. */
  private runTurn(connection: AppServerConnection, threadId: string, text: string): Promise<string> {
    const timeoutMs = this.options.turnTimeoutMs ?? 180_000;
    return new Promise((resolve, reject) => {
      // Notifications may arrive before the turn/start reply names the turn: keep them by turn id.
      const messages = new Map<string, string>();
      const completed = new Map<string, { status: string; error: string | null }>();
      let turnId: string | null = null;
      let settled = false;
      const finish = (error: Error | null, answer?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        if (error) reject(error);
        else resolve(answer!);
      };
      const check = () => {
        const turn = turnId === null ? undefined : completed.get(turnId);
        if (!turn) return;
        if (turn.status !== 'completed') return finish(new PlannerError(`the planner's turn ${turn.status}${turn.error ? `: ${turn.error}` : ''}`));
        const answer = messages.get(turnId!);
        if (answer === undefined) return finish(new PlannerError('the planner finished its turn without an answer'));
        finish(null, answer);
      };
      const unsubscribe = connection.on((event: ConnectionEvent) => {
        if (event.type === 'disconnected') return finish(new PlannerError("the planner's app-server exited before it answered"));
        if (event.type !== 'notification') return;
        const { method, params } = event.notification;
        if (method === 'item/completed') {
          const parsed = ItemNotificationSchema.safeParse(params);
          if (parsed.success && parsed.data.threadId === threadId && parsed.data.item.type === 'agentMessage' && parsed.data.item.text !== undefined) {
            messages.set(parsed.data.turnId, parsed.data.item.text);
          }
        } else if (method === 'turn/completed') {
          const parsed = TurnNotificationSchema.safeParse(params);
          if (parsed.success && parsed.data.threadId === threadId) {
            completed.set(parsed.data.turn.id, { status: parsed.data.turn.status, error: parsed.data.turn.error?.message ?? null });
          }
        } else return;
        check();
      });
      const client = new CodexClient(connection);
      const timer = setTimeout(() => {
        if (turnId !== null) void client.turnInterrupt({ threadId, turnId }).catch(() => {});
        finish(new PlannerError(`the planner did not answer within ${Math.round(timeoutMs / 1000)}s`));
      }, timeoutMs);
      client
        .turnStart({ threadId, input: [{ type: 'text', text, text_elements: [] }], outputSchema: this.schema as JsonValue })
        .then(({ turn }) => {
          turnId = turn.id;
          check();
        })
        .catch((error: unknown) => finish(error instanceof Error ? error : new Error(String(error))));
    });
  }
}

function requestText(request: string, digest: string): string {
  return `Request: ${request}\n\nCurrent state of cm-supervisor (workspaces and their threads):\n${digest}`;
}

function retryText(problems: PlanProblem[]): string {
  return `Your answer was not a valid cm-supervisor plan:\n${formatProblems(problems)}\nAnswer the same request again with a corrected plan (JSON only).`;
}

/**
 * The planner's answer is untrusted text: JSON, then the plan contract (zod), then the
 * planner's own rule that only configured workspaces may be named (a plan could otherwise
 * start app-servers in any directory).
 */
function checkAnswer(text: string, workspaces: { name: string; path: string }[]): Answer {
  let raw: unknown;
  try {
    // Models without structured output tend to wrap JSON in a code fence.
    raw = JSON.parse(text.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1'));
  } catch {
    return { ok: false, problems: [{ path: '', message: `not JSON: ${JSON.stringify(text.slice(0, 200))}; answer with the plan JSON only` }] };
  }
  // Relative paths resolve against "/", and any path is refused below: only names are allowed.
  // Fields that need the user's opt-in are no error of the planner's: the chat shows them with
  // the proposal and checks them when it is confirmed.
  const validation = validatePlanValue(dropNulls(raw), { workspaces, baseDir: '/', allowUnsafe: true });
  if (!validation.ok) return validation;
  const names = workspaces.map((w) => w.name);
  const problems = validation.targets.flatMap((target, index) =>
    target.kind === 'directory'
      ? [{ path: `actions[${index}].workspace`, message: `"${validation.plan.actions[index]!.workspace}" is not a listed workspace; use one of: ${names.join(', ')}` }]
      : [],
  );
  if (problems.length > 0) return { ok: false, problems };
  // A path naming a configured workspace becomes its name, so the plan reads the same anywhere.
  const plan = validation.plan;
  const workspaceOf = (index: number) => validation.targets[index]!.workspace;
  return {
    ok: true,
    plan: plan.version === 1 ? { ...plan, actions: plan.actions.map((a, i) => ({ ...a, workspace: workspaceOf(i) })) } : { ...plan, actions: plan.actions.map((a, i) => ({ ...a, workspace: workspaceOf(i) })) },
  };
}
