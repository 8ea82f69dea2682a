import { dirname, resolve } from 'node:path';
import type { ChatReply, DecideOptions, DispatchResult, Proposal, SendOptions, SupervisorApi } from '../api/supervisorApi.js';
import type { Plan } from '../contract/plan.js';
import { readPlanFile } from '../contract/readPlan.js';
import { closest } from '../contract/suggest.js';
import { validatePlanText, validatePlanValue, type PlanValidation } from '../contract/validatePlan.js';
import { planIdOf } from '../dispatch/dispatchPlan.js';
import { SupervisorError } from '../errors.js';
import { decisionWord, approvalSubject } from '../state/digest.js';
import type { ApprovalDecision, SupervisorEvent } from '../state/events.js';
import type { ChatMessage, ChatRole, SupervisorState } from '../state/model.js';
import { openSignals, planWorkspaces } from '../state/selectors.js';
import { oneLine } from '../util/text.js';
import { relativeTime } from '../util/time.js';
import { chatHelp, parseChatLine, type ChatCommand } from './commands.js';
import type { PlannerResult } from './planner.js';
import { formatProblems, renderPlan } from './renderPlan.js';
import { chatUpdatesFrom, planRunStartedText } from './results.js';
import { snapshotDigest } from './snapshotDigest.js';

export type ChatEvent = Extract<SupervisorEvent, { type: 'chat/message' }>;

export interface ChatServiceDeps {
  api: SupervisorApi;
  /** Turns free-form requests into plans (a `Planner`). */
  planner: { plan(request: string, state: SupervisorState): Promise<PlannerResult> };
  /** Records a chat message in the state (e.g. `Supervisor.recordChat`). */
  emit: (event: ChatEvent) => void;
  /** `/plan FILE` paths are relative to this (the user's directory); default: the cwd. */
  baseDir?: string;
  now?: () => number;
}

type Extra = { proposalId?: string; plan?: Plan };

/** The messages of one call, recorded as they are said. */
class Exchange {
  readonly messages: ChatMessage[] = [];
  proposal: Proposal | null = null;
  dispatched: DispatchResult | null = null;

  constructor(private readonly record: (role: ChatRole, text: string, extra?: Extra) => ChatMessage) {}

  say(role: ChatRole, text: string, extra?: Extra): void {
    this.messages.push(this.record(role, text, extra));
  }

  end(status: ChatReply['status'], error?: string): ChatReply {
    if (error !== undefined) this.say('error', error);
    return { status, messages: this.messages, proposal: this.proposal, dispatched: this.dispatched };
  }
}

const QUIET_EVENTS = new Set<string>(['item/progress', 'tokenUsage/updated', 'chat/message', 'health/tick']);

/**
 * The conversation with the supervisor: slash commands run against the `SupervisorApi`,
 * free-form requests go to the planner and come back as proposals, confirmed proposals are
 * dispatched, and the outcome of the chat's own work is reported back (`update`/`follow`).
 * Every message is recorded in the state through `emit`.
 */
export class ChatService {
  private readonly proposals = new Map<string, Proposal>();
  /** Plan ids this chat dispatched → their proposal id (null for slash commands). */
  private readonly tracked = new Map<string, string | null>();
  private lastSeen: SupervisorState | null = null;
  private updating: Promise<unknown> = Promise.resolve();
  private counter = 0;
  private readonly now: () => number;
  private readonly baseDir: string;

  constructor(private readonly deps: ChatServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.baseDir = deps.baseDir ?? process.cwd();
  }

  /** Handles one line the user typed. Never throws: failures come back as error messages. */
  async send(line: string, options: SendOptions = {}): Promise<ChatReply> {
    const ex = this.exchange();
    ex.say('user', line.trim());
    const parsed = parseChatLine(line);
    if (!parsed.ok) return ex.end('invalid', parsed.error);
    return this.guard(ex, () => this.run(parsed.command, options, ex));
  }

  /**
   * Dispatches a pending proposal, or the user's edited version of it (validated first, with
   * the opt-in of whoever confirms for fields that widen what an agent may do).
   */
  async confirm(proposalId: string, editedPlan?: unknown, options: DecideOptions = {}): Promise<ChatReply> {
    const ex = this.exchange();
    ex.say('user', `confirm ${proposalId}${editedPlan === undefined ? '' : ' (edited)'}`, { proposalId });
    const proposal = this.pending(proposalId, ex);
    if (!proposal) return ex.end('invalid');
    return this.guard(ex, async () => {
      // An edit without an id keeps the proposal's, so confirming stays idempotent per proposal.
      const candidate = editedPlan === undefined ? proposal.plan : withDefaultId(editedPlan, proposal.plan.id);
      const allowUnsafe = options.allowUnsafe === true;
      const validation = await this.validate(candidate, proposal.baseDir, allowUnsafe);
      if (!validation.ok) return ex.end('invalid', `the plan is invalid; nothing was dispatched:\n${formatProblems(validation.problems)}`);
      // Another confirm may have won while this one validated.
      if (proposal.status !== 'pending') return ex.end('invalid', `proposal ${proposalId} was already ${proposal.status}`);
      proposal.status = 'confirmed';
      proposal.plan = validation.plan;
      return this.dispatch(validation.plan, { baseDir: proposal.baseDir, allowUnsafe, ...(options.timeoutSec !== undefined ? { timeoutSec: options.timeoutSec } : {}) }, proposal.id, ex);
    });
  }

  async reject(proposalId: string): Promise<ChatReply> {
    const ex = this.exchange();
    ex.say('user', `reject ${proposalId}`, { proposalId });
    const proposal = this.pending(proposalId, ex);
    if (!proposal) return ex.end('invalid');
    proposal.status = 'rejected';
    ex.say('supervisor', `proposal ${proposalId} rejected; nothing was dispatched`, { proposalId });
    return ex.end('ok');
  }

  proposal(proposalId: string): Proposal | undefined {
    return this.proposals.get(proposalId);
  }

  /**
   * Records what happened to the chat's dispatched work since the last call: completions,
   * failures, and approvals or questions to answer. Calls run one after the other.
   */
  update(): Promise<ChatMessage[]> {
    const run = this.updating.then(async () => {
      const next = await this.deps.api.snapshot();
      const updates = chatUpdatesFrom(this.lastSeen, next, this.tracked);
      this.lastSeen = next;
      return updates.map((u) => this.record(u.role, u.text, u.proposalId ? { proposalId: u.proposalId } : undefined));
    });
    this.updating = run.catch(() => {});
    return run;
  }

  /** Calls `update` on every relevant state change; returns the unsubscribe function. */
  follow(): () => void {
    return this.deps.api.subscribe((change) => {
      if (!QUIET_EVENTS.has(change.eventType)) void this.update().catch(() => {});
    });
  }

  // ---- commands ----

  private async run(command: ChatCommand, options: SendOptions, ex: Exchange): Promise<ChatReply> {
    const baseDir = options.baseDir ?? this.baseDir;
    switch (command.kind) {
      case 'help':
        ex.say('supervisor', chatHelp());
        return ex.end('ok');
      case 'status': {
        const state = await this.deps.api.snapshot();
        if (command.workspace !== null && !state.workspaces[command.workspace]) return ex.end('invalid', unknownWorkspace(state, command.workspace));
        const signals = openSignals(state).filter((s) => command.workspace === null || s.workspace === command.workspace);
        const signalText = signals.length === 0 ? 'no open signals' : `open signals:\n${signals.map((s) => `  ${s.id} ${s.kind} ${s.workspace}: ${oneLine(s.message, 100)}`).join('\n')}`;
        ex.say('supervisor', `${snapshotDigest(state, { ...(command.workspace ? { workspace: command.workspace } : {}), threadsPerWorkspace: 10, maxChars: 20_000 })}\n${signalText}`);
        return ex.end('ok');
      }
      case 'feed': {
        const entries = await this.deps.api.feed(command.needsInput ? { needsInput: true } : { limit: 20 });
        const now = this.now();
        const lines = entries.map((e) => `  ${relativeTime(e.atMs, now)}  ${e.workspace}  ${e.kind}  ${e.text}${e.needsInput && e.requestKey ? `  [${e.requestKey}]` : ''}`);
        ex.say('supervisor', lines.length > 0 ? lines.join('\n') : command.needsInput ? 'nothing needs your input' : 'the feed is empty');
        return ex.end('ok');
      }
      case 'ack': {
        await this.deps.api.ackSignal(command.signalId);
        const signal = (await this.deps.api.snapshot()).signals[command.signalId];
        ex.say('supervisor', `acknowledged ${command.signalId}${signal ? `: ${oneLine(signal.message, 120)}` : ''}`);
        return ex.end('ok');
      }
      case 'approve':
      case 'decline':
        return this.answerApproval(command.kind === 'approve' ? 'accept' : 'decline', command.approvalKey ?? options.approvalKey ?? null, ex);
      case 'plan':
        return this.proposeFile(command.file, baseDir, ex);
      case 'dispatch':
      case 'mention': {
        const state = await this.deps.api.snapshot();
        const workspaces = command.kind === 'dispatch' ? command.workspaces : [command.workspace];
        const unknown = workspaces.find((w) => !state.workspaces[w]);
        if (unknown !== undefined) return ex.end('invalid', unknownWorkspace(state, unknown));
        const prompt = command.kind === 'dispatch' ? command.prompt : command.message;
        // Workspace names are valid action ids too; no thread given means the latest one.
        const plan = { version: 1, id: this.newId('chat'), actions: workspaces.map((w) => ({ id: w, workspace: w, prompt })) };
        const validation = await this.validate(plan, baseDir);
        if (!validation.ok) return ex.end('invalid', formatProblems(validation.problems));
        return this.dispatch(validation.plan, { baseDir }, null, ex);
      }
      case 'planner':
        return this.propose(command.request, baseDir, ex);
    }
  }

  private async answerApproval(decision: ApprovalDecision, selected: string | null, ex: Exchange): Promise<ChatReply> {
    const state = await this.deps.api.snapshot();
    const oldest = Object.values(state.pendingApprovals).sort((a, b) => a.receivedAtMs - b.receivedAtMs)[0];
    const key = selected ?? oldest?.key;
    if (key === undefined) return ex.end('invalid', 'no approval is waiting');
    const approval = state.pendingApprovals[key];
    await this.deps.api.answerApproval(key, decision);
    const subject = approval ? `${approvalSubject(approval)} on ${approval.workspace}` : key;
    ex.say('supervisor', `${decisionWord(decision)} ${subject} (approval ${key}${selected === null ? ', the oldest pending one' : ''})`);
    return ex.end('ok');
  }

  private async proposeFile(file: string, baseDir: string, ex: Exchange): Promise<ChatReply> {
    const path = resolve(baseDir, file);
    const read = await readPlanFile(path);
    const state = await this.deps.api.snapshot();
    // Fields that need the opt-in are shown with the proposal and checked when it is confirmed.
    const validation = read.ok ? validatePlanText(read.text, { workspaces: planWorkspaces(state), hosts: Object.keys(state.hosts), baseDir: dirname(path), allowUnsafe: true }) : read;
    if (!validation.ok) return ex.end('invalid', `${file} is not a valid plan:\n${formatProblems(validation.problems)}`);
    const id = this.newId('chat');
    const header = `proposal ${id}: plan ${planIdOf(validation.plan)} from ${file}`;
    return this.offer({ id, plan: validation.plan, baseDir: dirname(path) }, header, ex);
  }

  private async propose(request: string, baseDir: string, ex: Exchange): Promise<ChatReply> {
    const result = await this.deps.planner.plan(request, await this.deps.api.snapshot());
    const id = this.newId('chat');
    // Each proposal is its own plan: the dispatch ledger keys on the plan id, so asking for the
    // same thing twice must not be skipped as "already dispatched".
    const plan: Plan = { ...result.plan, id };
    const header = `proposed plan ${id}${result.attempts === 2 ? " (the planner's first answer was invalid; corrected after one retry)" : ''}`;
    return this.offer({ id, plan, baseDir }, header, ex);
  }

  private async offer(draft: Omit<Proposal, 'text' | 'status'>, header: string, ex: Exchange): Promise<ChatReply> {
    const n = draft.plan.actions.length;
    const checked = await this.validate(draft.plan, draft.baseDir, true);
    const widenings = checked.ok ? checked.widenings : [];
    const warning = widenings.length > 0 ? `\nit widens what the agents may do, so it is dispatched only with the opt-in:\n${formatProblems(widenings)}` : '';
    const text = `${header}, ${n} action${n === 1 ? '' : 's'}:\n${renderPlan(draft.plan)}${warning}`;
    const proposal: Proposal = { ...draft, text, status: 'pending' };
    this.proposals.set(proposal.id, proposal);
    ex.proposal = proposal;
    ex.say('planner', `${text}\nconfirm to dispatch it, edit it, or reject it`, { proposalId: proposal.id, plan: proposal.plan });
    return ex.end('ok');
  }

  private async dispatch(plan: Plan, options: { baseDir: string; allowUnsafe?: boolean; timeoutSec?: number }, proposalId: string | null, ex: Exchange): Promise<ChatReply> {
    // Tracked before dispatching: the turns may finish before dispatch returns.
    this.tracked.set(planIdOf(plan), proposalId);
    const result = await this.deps.api.dispatch(plan, options);
    ex.dispatched = result;
    const about = proposalId ? { proposalId } : undefined;
    const started = result.results.filter((r) => r.status === 'dispatched' || r.status === 'skipped');
    // A v2 plan runs in the loop: its turns start as their dependencies allow.
    if (result.planRun && plan.version === 2) ex.say('supervisor', planRunStartedText(plan, result), about);
    else if (started.length > 0) {
      const lines = started.map((r) =>
        r.status === 'skipped' ? `  ${r.workspace} (${r.id}): dispatched before, skipped` : `  ${r.workspace} (${r.id}): turn started on thread ${r.threadId ?? '?'}`,
      );
      ex.say('supervisor', `dispatched plan ${result.planId}:\n${lines.join('\n')}`, about);
    }
    for (const r of result.results.filter((x) => x.status === 'failed' || x.status === 'interrupted')) ex.say('error', `${r.workspace} (${r.id}): dispatch failed: ${r.error ?? 'unknown error'}`, about);
    return ex.end(started.length === result.results.length ? 'ok' : 'failed');
  }

  // ---- helpers ----

  private async validate(plan: unknown, baseDir: string, allowUnsafe = false): Promise<PlanValidation> {
    const state = await this.deps.api.snapshot();
    return validatePlanValue(plan, { workspaces: planWorkspaces(state), hosts: Object.keys(state.hosts), baseDir, allowUnsafe });
  }

  private pending(proposalId: string, ex: Exchange): Proposal | null {
    const proposal = this.proposals.get(proposalId);
    if (!proposal) ex.say('error', `no proposal "${proposalId}"`);
    else if (proposal.status !== 'pending') ex.say('error', `proposal ${proposalId} was already ${proposal.status}`, { proposalId });
    else return proposal;
    return null;
  }

  /** Errors become error messages: usage-like ones (exit code 2) are `invalid`, the rest `failed`. */
  private async guard(ex: Exchange, work: () => Promise<ChatReply>): Promise<ChatReply> {
    try {
      return await work();
    } catch (error) {
      const invalid = error instanceof SupervisorError && error.exitCode === 2;
      return ex.end(invalid ? 'invalid' : 'failed', error instanceof Error ? error.message : String(error));
    }
  }

  private exchange(): Exchange {
    return new Exchange((role, text, extra) => this.record(role, text, extra));
  }

  private record(role: ChatRole, text: string, extra?: Extra): ChatMessage {
    const atMs = this.now();
    const message: ChatMessage = { id: this.newId('m'), atMs, role, text, ...extra };
    this.deps.emit({ type: 'chat/message', atMs, message });
    return message;
  }

  /** Unique within a process and, by the time part, across runs; valid as a plan id. */
  private newId(prefix: string): string {
    return `${prefix}-${this.now().toString(36)}-${(++this.counter).toString(36)}`;
  }
}


function withDefaultId(plan: unknown, id: string | undefined): unknown {
  if (id === undefined || typeof plan !== 'object' || plan === null || Array.isArray(plan) || 'id' in plan) return plan;
  return { ...plan, id };
}

function unknownWorkspace(state: SupervisorState, name: string): string {
  const names = Object.keys(state.workspaces);
  const suggestion = closest(name, names);
  return `unknown workspace "${name}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; configured: ${names.join(', ') || 'none'}`;
}
