import type { ChatReply, DecideOptions, SendOptions, ThreadDiff, ThreadTurnResult, Transcript, TranscriptTurn } from '../../src/core/api/supervisorApi.js';
import { SupervisorError } from '../../src/core/errors.js';
import { knownThread, threadDiff } from '../../src/core/loop/threadActions.js';
import type { Plan } from '../../src/core/contract/plan.js';
import type { DispatchOptions, DispatchResult, StateChange, SupervisorApi } from '../../src/core/api/supervisorApi.js';
import type { ApprovalDecision, SupervisorEvent } from '../../src/core/state/events.js';
import { snapshotOf, type ChatMessage, type FeedEntry, type SignalRecord, type SupervisorState } from '../../src/core/state/model.js';
import { reduce } from '../../src/core/state/reducer.js';
import { ackEvent, approvalAnsweredEvent, questionAnsweredEvent } from '../../src/core/state/userActions.js';
import { selectFeed, type FeedFilter } from '../../src/core/state/selectors.js';
import { readyState, T0 } from './replay.js';

/** One call the UI made, in order. */
export interface ApiCall {
  method:
    | 'snapshot'
    | 'feed'
    | 'dispatch'
    | 'ackSignal'
    | 'answerApproval'
    | 'answerQuestion'
    | 'interruptTurn'
    | 'chatSend'
    | 'chatDecide'
    | 'reply'
    | 'retryTurn'
    | 'transcript'
    | 'threadDiff'
    | 'archiveThread';
  args: unknown[];
}

/** The methods worth asserting on: reads (`snapshot`, `feed`) are left out of `actions()`. */
const READS: ReadonlySet<ApiCall['method']> = new Set(['snapshot', 'feed', 'transcript', 'threadDiff']);

/**
 * An in-memory SupervisorApi for UI tests: the state changes only through the real `reduce`,
 * subscribers see what the real Supervisor would send, and every call is recorded so tests
 * can assert what the UI asked for. User actions validate like `Supervisor` and reject the same way.
 */
export class FakeApi implements SupervisorApi {
  state: SupervisorState;
  readonly calls: ApiCall[] = [];
  private readonly listeners = new Set<(change: StateChange) => void>();
  /** User actions are stamped 1 ms after the latest event unless `now` is given. */
  private clockMs: number;
  private readonly now: () => number;

  constructor(start: SupervisorState = readyState(), options: { now?: () => number } = {}) {
    this.state = start;
    this.clockMs = T0;
    this.now = options.now ?? (() => this.clockMs + 1);
  }

  /** Reduces one event and tells subscribers, as `Supervisor.emit` does (raised = its `notify` effects). */
  emit(event: SupervisorEvent): StateChange {
    this.clockMs = Math.max(this.clockMs, event.atMs);
    const [state, effects] = reduce(this.state, event);
    this.state = state;
    const raised: SignalRecord[] = effects.flatMap((e) => {
      const signal = e.type === 'notify' ? state.signals[e.signalId] : undefined;
      return signal ? [signal] : [];
    });
    const change: StateChange = { seq: state.seq, atMs: event.atMs, eventType: event.type, raised };
    for (const listener of this.listeners) listener(change);
    return change;
  }

  /** Reduces an event without telling subscribers: the UI keeps showing the older snapshot (a change in flight). */
  emitUnseen(event: SupervisorEvent): void {
    this.clockMs = Math.max(this.clockMs, event.atMs);
    this.state = reduce(this.state, event)[0];
  }

  emitAll(events: SupervisorEvent[]): void {
    for (const event of events) this.emit(event);
  }

  /** The user actions (answers, acks, dispatches, interrupts) without the reads. */
  actions(): ApiCall[] {
    return this.calls.filter((c) => !READS.has(c.method));
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  // ---- SupervisorApi ----

  snapshot(): Promise<SupervisorState> {
    this.calls.push({ method: 'snapshot', args: [] });
    return Promise.resolve(snapshotOf(this.state));
  }

  feed(filter?: FeedFilter): Promise<FeedEntry[]> {
    this.calls.push({ method: 'feed', args: [filter] });
    return Promise.resolve(selectFeed(this.state, filter));
  }

  dispatch(plan: unknown, options?: DispatchOptions): Promise<DispatchResult> {
    this.calls.push({ method: 'dispatch', args: [plan, options] });
    return Promise.resolve({ planId: 'fake-plan', results: [] });
  }

  // async, like the Supervisor: a usage error thrown by the check becomes the rejection.
  async ackSignal(signalId: string): Promise<void> {
    this.calls.push({ method: 'ackSignal', args: [signalId] });
    this.emit(ackEvent(this.state, signalId, this.now()));
  }

  async answerApproval(key: string, decision: ApprovalDecision): Promise<void> {
    this.calls.push({ method: 'answerApproval', args: [key, decision] });
    this.emit(approvalAnsweredEvent(this.state, key, decision, this.now()));
  }

  async answerQuestion(key: string, answers: Record<string, string[]>): Promise<void> {
    this.calls.push({ method: 'answerQuestion', args: [key, answers] });
    this.emit(questionAnsweredEvent(this.state, key, answers, this.now()));
  }

  interruptTurn(threadId: string, turnId: string): Promise<void> {
    this.calls.push({ method: 'interruptTurn', args: [threadId, turnId] });
    return Promise.resolve();
  }

  /** Transcripts by thread id, as a host would keep them; a thread without one gets its recent items as one turn. */
  transcripts: Record<string, TranscriptTurn[]> = {};

  private turnNumber = 0;

  /** Like the Supervisor: a running turn is steered, an idle thread gets a new turn (started here at once). */
  async reply(threadId: string, text: string): Promise<ThreadTurnResult> {
    this.calls.push({ method: 'reply', args: [threadId, text] });
    if (text.trim() === '') throw new SupervisorError('the reply is empty; give the words to send to the agent', 2);
    const thread = knownThread(this.state, threadId);
    if (thread.currentTurnId !== null) {
      this.emit({ type: 'thread/replied', atMs: this.now(), workspace: thread.workspace, threadId, turnId: thread.currentTurnId, how: 'steer', text });
      return { threadId, turnId: thread.currentTurnId, mode: 'steered' };
    }
    return this.startTurn(thread.workspace, threadId, 'reply', text);
  }

  /** Like the Supervisor: only a thread whose last turn failed or was interrupted, and none running. */
  async retryTurn(threadId: string): Promise<ThreadTurnResult> {
    this.calls.push({ method: 'retryTurn', args: [threadId] });
    const thread = knownThread(this.state, threadId);
    if (thread.currentTurnId !== null) throw new SupervisorError(`thread ${threadId} is running a turn; interrupt it first, or reply to add to it`, 1);
    const status = thread.lastTurn?.status;
    if (status !== 'failed' && status !== 'interrupted') throw new SupervisorError(`the last turn of thread ${threadId} is ${status ?? 'none'}; retry sends again only a failed or interrupted turn`, 1);
    return this.startTurn(thread.workspace, threadId, 'retry', thread.digest.currentTask ?? thread.title);
  }

  private startTurn(workspace: string, threadId: string, how: 'reply' | 'retry', text: string): ThreadTurnResult {
    const turnId = `fake-turn-${++this.turnNumber}`;
    this.emit({ type: 'thread/replied', atMs: this.now(), workspace, threadId, turnId, how, text });
    this.emit({ type: 'turn/started', atMs: this.now(), workspace, threadId, turnId });
    return { threadId, turnId, mode: 'started' };
  }

  async transcript(threadId: string): Promise<Transcript> {
    this.calls.push({ method: 'transcript', args: [threadId] });
    const thread = knownThread(this.state, threadId);
    const turnId = thread.currentTurnId ?? thread.lastTurn?.id ?? null;
    const fallback: TranscriptTurn[] =
      turnId === null
        ? []
        : [
            {
              id: turnId,
              status: thread.currentTurnId !== null ? 'inProgress' : (thread.lastTurn?.status ?? 'completed'),
              startedAtMs: null,
              completedAtMs: null,
              durationMs: null,
              error: thread.lastTurn?.error ?? null,
              items: thread.recentItems.map((i) => ({ id: i.id, type: i.type, text: i.text, status: i.status })),
            },
          ];
    return { threadId, workspace: thread.workspace, title: thread.title, turns: this.transcripts[threadId] ?? fallback };
  }

  async threadDiff(threadId: string): Promise<ThreadDiff> {
    this.calls.push({ method: 'threadDiff', args: [threadId] });
    return threadDiff(this.state, threadId);
  }

  async archiveThread(threadId: string): Promise<void> {
    this.calls.push({ method: 'archiveThread', args: [threadId] });
    const thread = knownThread(this.state, threadId);
    this.emit({ type: 'thread/archived', atMs: this.now(), workspace: thread.workspace, threadId });
  }

  /** What the chat answers: by default an echo; tests set their own (e.g. a proposal). */
  chatScript: (line: string) => { role: ChatMessage['role']; text: string; proposalId?: string; plan?: Plan }[] = (line) => [
    { role: 'supervisor', text: `echo: ${line}` },
  ];

  /** Set to make the next chat request come back as a proposal of the planner. */
  chatProposal: { id: string; plan: Plan } | null = null;

  private chatNumber = 0;

  private say(role: ChatMessage['role'], text: string, extra: { proposalId?: string; plan?: Plan } = {}): ChatMessage {
    const message: ChatMessage = { id: `m${++this.chatNumber}`, atMs: this.now(), role, text, ...extra };
    this.emit({ type: 'chat/message', atMs: message.atMs, message });
    return message;
  }

  chatSend(line: string, options?: SendOptions): Promise<ChatReply> {
    this.calls.push({ method: 'chatSend', args: [line, options] });
    const messages = [this.say('user', line), ...this.chatScript(line).map((m) => this.say(m.role, m.text, m))];
    const proposal = this.chatProposal ? { ...this.chatProposal, text: 'proposal', status: 'pending' as const, baseDir: '/' } : null;
    return Promise.resolve({ status: 'ok', messages, proposal, dispatched: null });
  }

  chatDecide(proposalId: string, decision: 'confirm' | 'reject', editedPlan?: unknown, options?: DecideOptions): Promise<ChatReply> {
    this.calls.push({ method: 'chatDecide', args: [proposalId, decision, editedPlan, options] });
    const messages = [this.say('result', `${decision === 'confirm' ? 'dispatched' : 'rejected'} ${proposalId}`)];
    return Promise.resolve({ status: 'ok', messages, proposal: null, dispatched: null });
  }

  subscribe(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
