import { Box, Text, type Key } from 'ink';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { SupervisorApi } from '../core/api/supervisorApi.js';
import type { ApprovalDecision } from '../core/state/events.js';
import type { SignalKind, SignalRecord, SupervisorState } from '../core/state/model.js';
import { approvalSubject, decisionWord } from '../core/state/digest.js';
import { needsInputNow, openSignals } from '../core/state/selectors.js';
import { oneLine } from '../core/util/text.js';
import type { ChatReply } from '../core/api/supervisorApi.js';
import { ApprovalsView } from './components/ApprovalsView.js';
import { ChatView } from './components/ChatView.js';
import { Line } from './components/Line.js';
import { DetailView } from './components/DetailView.js';
import { FeedView } from './components/FeedView.js';
import { Header } from './components/Header.js';
import { HelpOverlay } from './components/HelpOverlay.js';
import { OperationsView } from './components/OperationsView.js';
import { TabBar } from './components/TabBar.js';
import { TooSmall } from './components/TooSmall.js';
import { useKeys } from './hooks/useKeys.js';
import { useSupervisorState } from './hooks/useSupervisorState.js';
import { commandFor, type Command, type View } from './keymap.js';
import { leadingText, NO_KEY, type KeyPress } from './keys.js';
import { minimumSize } from './terminalSize.js';
import { useToneColor } from './theme.js';
import { feedRows, headerModel, needsYouQueue, operationsRows, type FeedViewFilter, type Tone } from './viewModel.js';
import { clampIndex } from './window.js';

export interface AppProps {
  api: SupervisorApi;
  mode: string;
  width: number;
  height: number;
  /** The user asked to quit (confirmed if turns were running). */
  onQuit: () => void;
  /** Desktop notification and bell for a raised signal (terminal IO lives outside the app). */
  notify?: (signal: SignalRecord) => void;
  notifyKinds?: SignalKind[];
  notificationsEnabled?: boolean;
  muted?: string[];
  /** `:dispatch FILE`: reads and dispatches a plan file, resolves with a one-line result. */
  dispatchFile?: (path: string) => Promise<string>;
  /** config.json's `allowUnsafePlans`: confirming a chat proposal carries this opt-in. */
  allowUnsafePlans?: boolean;
  /** In-process mode: quitting stops running turns, so ask first. */
  confirmQuitWhenRunning?: boolean;
  /** Attached: tells why the link to the daemon is down (null: it is up again). */
  link?: (listener: (problem: string | null) => void) => () => void;
  now?: () => number;
}

type Overlay =
  | { kind: 'help' }
  | { kind: 'command'; text: string }
  | { kind: 'filter'; text: string }
  // The question being answered, by key: the queue may change while the person types.
  | { kind: 'answer'; text: string; key: string }
  | { kind: 'confirmQuit'; running: number }
  | { kind: 'chat'; text: string }
  | { kind: 'chatEdit'; text: string; proposalId: string };

interface Toast {
  text: string;
  tone: Tone;
  atMs: number;
}

const TOAST_MS = 10_000;
const DEFAULT_NOTIFY: SignalKind[] = ['needs_approval', 'failed'];
const PANES: View[] = ['ops', 'feed', 'approvals', 'chat'];
/**
 * Returned by a key that decides (an approval, a proposal, a submitted line, quitting): the
 * keys after it in the same read are dropped, so a paste or key repeat makes one decision at
 * most and never answers the "Quit? (y/n)" its own `q` asked.
 */
const END_READ = true;

export function App(props: AppProps) {
  const { api, width, height } = props;
  const now = props.now ?? Date.now;
  const [view, setView] = useState<View>('ops');
  const [detailThread, setDetailThread] = useState<string | null>(null);
  /** Where Esc leaves the detail view for: the pane it was opened from. */
  const [detailFrom, setDetailFrom] = useState<View>('ops');
  const [selected, setSelected] = useState<Record<View, number>>({ ops: 0, feed: 0, approvals: 0, detail: 0, chat: 0 });
  const [filter, setFilter] = useState<FeedViewFilter>({ needsInput: false, faults: false, text: '' });
  const [overlay, setOverlay] = useState<Overlay | null>(null);
  const [toast, setToast] = useState<Toast | null>(null);
  const [muted, setMuted] = useState<string[]>(props.muted ?? []);
  const [notificationsOn, setNotificationsOn] = useState(props.notificationsEnabled ?? true);
  const [notifyKinds, setNotifyKinds] = useState<SignalKind[]>(props.notifyKinds ?? DEFAULT_NOTIFY);
  const [clock, setClock] = useState(now());
  /** The planner's proposal this screen is showing, until it is confirmed or rejected. */
  const [proposal, setProposal] = useState<{ id: string; plan: unknown } | null>(null);
  const [chatBusy, setChatBusy] = useState(false);

  const flash = useCallback((text: string, tone: Tone = 'info') => setToast({ text, tone, atMs: now() }), [now]);
  const [linkProblem, setLinkProblem] = useState<string | null>(null);
  useEffect(
    () =>
      props.link?.((problem) => {
        setLinkProblem(problem);
        flash(problem ? `${problem}; waiting for it to come back (q quits)` : 'connected to the daemon again', problem ? 'warn' : 'ok');
      }),
    [props.link, flash],
  );

  const onRaised = useCallback(
    (signals: SignalRecord[]) => {
      for (const s of signals) {
        if (!notificationsOn || muted.includes(s.workspace) || !notifyKinds.includes(s.kind)) continue;
        const tone: Tone = s.kind === 'failed' || s.kind === 'disconnected' ? 'error' : s.kind === 'completed' ? 'ok' : 'warn';
        const hint = s.kind === 'needs_approval' ? ' — press 3 to answer' : '';
        flash(`${s.kind} · ${s.workspace}: ${oneLine(s.message, 200)}${hint}`, tone);
        props.notify?.(s);
      }
    },
    [notificationsOn, muted, notifyKinds, props.notify, flash],
  );
  const state = useSupervisorState(api, onRaised);
  // config.json's settings, as the loop read them (again whenever the file changes); the
  // props stand in where the supervisor has none (the demo, tests).
  const configured = state?.notifications;
  useEffect(() => {
    if (!configured) return;
    setNotificationsOn(configured.enabled);
    setMuted(configured.muted);
    setNotifyKinds(configured.kinds ?? props.notifyKinds ?? DEFAULT_NOTIFY);
  }, [configured, props.notifyKinds]);

  // Relative times ("12s ago") and toast expiry move even when nothing happens.
  useEffect(() => {
    const timer = setInterval(() => setClock(now()), 1_000);
    return () => clearInterval(timer);
  }, [now]);
  useEffect(() => {
    if (toast && clock - toast.atMs > TOAST_MS) setToast(null);
  }, [clock, toast]);
  useEffect(() => {
    if (overlay?.kind === 'answer' && state && !state.openQuestions[overlay.key]) {
      setOverlay(null);
      flash('the question was answered or withdrawn meanwhile', 'warn');
    }
  }, [state, overlay, flash]);

  const nowMs = clock;
  const rows = useMemo(() => (state ? operationsRows(state, nowMs) : []), [state, nowMs]);
  const queue = useMemo(() => (state ? needsYouQueue(state) : []), [state]);
  const bodyHeight = Math.max(1, height - 4);
  const feed = useMemo(() => (state ? feedRows(state, filter, 500) : []), [state, filter]);
  const counts: Record<View, number> = { ops: rows.length, feed: feed.length, approvals: queue.length, detail: 0, chat: 0 };
  // While an answer is typed, the selection stays on its question even if earlier items leave the queue.
  const answeringAt = overlay?.kind === 'answer' ? queue.findIndex((q) => q.kind === 'question' && q.question.key === overlay.key) : -1;
  const index = (v: View) => (v === 'approvals' && answeringAt !== -1 ? answeringAt : clampIndex(selected[v], counts[v]));
  const move = (v: View, delta: number) => setSelected((s) => ({ ...s, [v]: clampIndex(s[v] + delta, counts[v]) }));

  const guard = (promise: Promise<unknown>, ok?: string) =>
    promise.then(
      () => ok && flash(ok, 'ok'),
      (e: unknown) => flash(e instanceof Error ? e.message : String(e), 'error'),
    );

  const selectedApproval = (s: SupervisorState) => {
    if (view === 'approvals') {
      const item = queue[index('approvals')];
      return item?.kind === 'approval' ? item.approval : null;
    }
    if (view === 'detail' && detailThread) {
      const key = s.threads[detailThread]?.pendingApprovalKeys[0];
      return key ? (s.pendingApprovals[key] ?? null) : null;
    }
    return null;
  };

  const decide = (s: SupervisorState, decision: ApprovalDecision) => {
    const approval = selectedApproval(s);
    if (!approval) return flash('no approval selected', 'dim');
    if (!approval.availableDecisions.includes(decision)) return flash(`"${decision}" is not offered for this approval`, 'warn');
    void guard(api.answerApproval(approval.key, decision), `${decisionWord(decision)}: ${approvalSubject(approval)} (${approval.workspace})`);
  };

  const ackSelection = (s: SupervisorState) => {
    const row = view === 'detail' ? null : rows[index('ops')];
    const threadId = view === 'detail' ? detailThread : row?.threadId;
    const workspace = row?.kind === 'workspace' ? row.workspace : null;
    const targets = openSignals(s).filter((x) => x.acknowledgedAtMs === null && (threadId ? x.threadId === threadId : x.workspace === workspace));
    if (targets.length === 0) return flash('no open signals here', 'dim');
    void guard(Promise.all(targets.map((x) => api.ackSignal(x.id))), `acknowledged ${targets.length} signal(s)`);
  };

  const quit = (s: SupervisorState) => {
    const running = Object.values(s.threads).filter((t) => t.currentTurnId !== null).length;
    if (props.confirmQuitWhenRunning && running > 0) setOverlay({ kind: 'confirmQuit', running });
    else props.onQuit();
  };

  const chatCall = (call: () => Promise<ChatReply>) => {
    setChatBusy(true);
    void call()
      .then((reply) => {
        if (reply.proposal) setProposal({ id: reply.proposal.id, plan: reply.proposal.plan });
        else if (reply.status === 'ok' && reply.dispatched) setProposal(null);
      })
      .catch((e: unknown) => flash(oneLine(e instanceof Error ? e.message : String(e), 300), 'error'))
      .finally(() => setChatBusy(false));
  };

  const sendChat = (line: string) => {
    if (!line.trim()) return;
    const item = queue[index('approvals')];
    chatCall(() => api.chatSend(line, item?.kind === 'approval' ? { approvalKey: item.approval.key } : {}));
  };

  const decideProposal = (decision: 'confirm' | 'reject', edited?: unknown) => {
    if (!proposal) return flash('no proposal is waiting', 'dim');
    const id = proposal.id;
    if (decision === 'reject') setProposal(null);
    chatCall(() => api.chatDecide(id, decision, edited, { allowUnsafe: props.allowUnsafePlans === true }));
  };

  const runCommandLine = (s: SupervisorState, line: string) => {
    const [name = '', ...args] = line.trim().split(/\s+/);
    const arg = args.join(' ');
    switch (name) {
      case 'ws':
      case 'workspaces':
      case 'ops':
        return setView('ops');
      case 'feed':
        return setView('feed');
      case 'approvals':
      case 'ap':
      case 'needs':
        return setView('approvals');
      case 'dispatch':
        if (!arg) return flash('usage: :dispatch FILE', 'warn');
        if (!props.dispatchFile) return flash('dispatch is not available here', 'warn');
        flash(`dispatching ${arg}…`);
        return void props.dispatchFile(arg).then(
          (message) => flash(message, 'ok'),
          (e: unknown) => flash(oneLine(e instanceof Error ? e.message : String(e), 300), 'error'),
        );
      case 'ack':
        if (arg) return void guard(api.ackSignal(arg), `acknowledged ${arg}`);
        {
          const open = openSignals(s).filter((x) => x.acknowledgedAtMs === null);
          if (open.length === 0) return flash('no open signals to acknowledge', 'dim');
          return void guard(Promise.all(open.map((x) => api.ackSignal(x.id))), `acknowledged ${open.length} signal(s)`);
        }
      case 'mute':
      case 'unmute':
        if (!arg || !s.workspaces[arg]) return flash(`usage: :${name} WORKSPACE (one of: ${Object.keys(s.workspaces).join(', ')})`, 'warn');
        setMuted((m) => (name === 'mute' ? [...new Set([...m, arg])] : m.filter((w) => w !== arg)));
        return flash(`notifications ${name === 'mute' ? 'muted' : 'unmuted'} for ${arg}`);
      case 'notify':
        if (arg !== 'on' && arg !== 'off') return flash('usage: :notify on|off', 'warn');
        setNotificationsOn(arg === 'on');
        return flash(`notifications ${arg}`);
      case 'q':
      case 'quit':
        return quit(s);
      default:
        return flash(`unknown command ":${name}" — try :ws :feed :approvals :dispatch FILE :ack :mute WS :notify on|off :q`, 'warn');
    }
  };

  const editText = (text: string, input: string, key: Key): string | null => {
    if (key.backspace || key.delete) return text.slice(0, -1);
    // Ctrl-U clears the line, as in a shell.
    if (key.ctrl && input === 'u') return '';
    if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return null;
    return input ? text + input.replace(/[\u0000-\u001f\u007f]/g, '') : null;
  };

  /** The text line a command opens, if it opens one. */
  const textLineFor = (command: Command | null): Overlay | null => {
    if (command === 'commandLine') return { kind: 'command', text: '' };
    if (command === 'filter') return { kind: 'filter', text: filter.text };
    if (command === 'chatType') return { kind: 'chat', text: '' };
    return null;
  };

  const submitLine = (s: SupervisorState, o: Overlay) => {
    if (o.kind === 'help' || o.kind === 'confirmQuit') return;
    const text = o.text;
    setOverlay(null);
    if (o.kind === 'command') return runCommandLine(s, text);
    if (o.kind === 'chat') return sendChat(text);
    if (o.kind === 'chatEdit') {
      let edited: unknown;
      try {
        edited = JSON.parse(text);
      } catch (e) {
        setOverlay(o);
        return flash(`not valid JSON: ${(e as Error).message}`, 'error');
      }
      return decideProposal('confirm', edited);
    }
    if (o.kind === 'filter') return setFilter((f) => ({ ...f, text }));
    const question = s.openQuestions[o.key];
    if (!question) return flash('the question was answered or withdrawn meanwhile', 'warn');
    const answers = Object.fromEntries(question.questions.map((q) => [q.id, [text]]));
    void guard(api.answerQuestion(question.key, answers), `answered ${question.workspace}`);
  };

  /** Returns END_READ when the keys after this one in the same read must be dropped. */
  const handleOverlay = (s: SupervisorState, o: Overlay, input: string, key: Key): typeof END_READ | void => {
    if (o.kind === 'help') {
      if (key.escape || input === '?' || input === 'q') setOverlay(null);
      return;
    }
    if (o.kind === 'confirmQuit') {
      if (input === 'y' || input === 'Y') props.onQuit();
      else setOverlay(null);
      return END_READ;
    }
    if (key.escape) return setOverlay(null);
    // Ink reports '\n' (Ctrl-J, some pastes) as a plain character; it submits too.
    if (key.return || input === '\n') {
      submitLine(s, o);
      return END_READ;
    }
    const text = editText(o.text, input, key);
    if (text !== null) setOverlay({ ...o, text });
  };

  const handleKey = (input: string, key: Key): typeof END_READ | void => {
    if (!state) {
      if (input !== 'q' && !(key.ctrl && input === 'c')) return;
      props.onQuit();
      return END_READ;
    }
    if (overlay) return handleOverlay(state, overlay, input, key);
    const command: Command | null = commandFor(view, input, key);
    switch (command) {
      case 'down':
        return move(view, 1);
      case 'up':
        return move(view, -1);
      case 'nextPane': {
        const at = PANES.indexOf(view === 'detail' ? 'ops' : view);
        return setView(PANES[(at + 1) % PANES.length]!);
      }
      case 'paneOps':
        return setView('ops');
      case 'paneFeed':
        return setView('feed');
      case 'paneApprovals':
        return setView('approvals');
      case 'paneChat':
        return setView('chat');
      case 'chatType':
      case 'filter':
      case 'commandLine':
        return setOverlay(textLineFor(command));
      case 'proposalConfirm':
        if (!proposal) return setOverlay({ kind: 'chat', text: '' });
        decideProposal('confirm');
        return END_READ;
      case 'proposalEdit':
        if (!proposal) return flash('no proposal to edit', 'dim');
        return setOverlay({ kind: 'chatEdit', text: JSON.stringify(proposal.plan), proposalId: proposal.id });
      case 'proposalReject':
        decideProposal('reject');
        return END_READ;
      case 'open': {
        const threadId = view === 'ops' ? rows[index('ops')]?.threadId : view === 'feed' ? feed[index('feed')]?.threadId : null;
        if (threadId) {
          setDetailThread(threadId);
          setDetailFrom(view);
          setView('detail');
        }
        return;
      }
      case 'answer': {
        const item = queue[index('approvals')];
        if (item?.kind === 'question') setOverlay({ kind: 'answer', text: '', key: item.question.key });
        return;
      }
      case 'back':
        // In the feed, Esc first clears the filters.
        if (view === 'feed' && (filter.needsInput || filter.faults || filter.text)) return setFilter({ needsInput: false, faults: false, text: '' });
        return setView(view === 'detail' ? detailFrom : 'ops');
      case 'toggleNeedsInput':
        return setFilter((f) => ({ ...f, needsInput: !f.needsInput }));
      case 'toggleFaults':
        return setFilter((f) => ({ ...f, faults: !f.faults }));
      case 'accept':
      case 'acceptForSession':
      case 'decline':
      case 'cancel':
        decide(state, command);
        return END_READ;
      case 'ack':
        return ackSelection(state);
      case 'help':
        return setOverlay({ kind: 'help' });
      case 'quit':
        quit(state);
        return END_READ;
      case null:
        return;
    }
  };

  useKeys((keys) => {
    // A pasted line goes into an open text line as a whole: one render, not one per character.
    if (state && overlay && overlay.kind !== 'help' && overlay.kind !== 'confirmQuit') {
      const typed = leadingText(keys);
      if (typed > 0) {
        handleOverlay(state, overlay, keys.slice(0, typed).map((k) => k.input).join(''), NO_KEY);
        return typed;
      }
    }
    const [{ input, key }] = keys as [KeyPress];
    return handleKey(input, key) === END_READ ? keys.length : 1;
  });

  const size = minimumSize(width, height);
  if (!size.ok) return <TooSmall message={size.message} width={width} height={height} />;
  if (!state) {
    return (
      <Box width={width} height={height}>
        <Text>cm-supervisor: connecting…</Text>
      </Box>
    );
  }

  let body;
  if (overlay?.kind === 'help') body = <HelpOverlay view={view} width={width} height={bodyHeight} />;
  else if (view === 'ops') body = <OperationsView rows={rows} selected={index('ops')} width={width} height={bodyHeight} />;
  else if (view === 'feed')
    body = <FeedView entries={feed} selected={index('feed')} filter={filter} needsInputNow={(e) => needsInputNow(state, e)} width={width} height={bodyHeight} />;
  else if (view === 'approvals')
    body = <ApprovalsView state={state} queue={queue} selected={index('approvals')} answering={overlay?.kind === 'answer' ? overlay.text : null} width={width} height={bodyHeight} />;
  else if (view === 'chat')
    body = (
      <ChatView
        messages={state.chat}
        input={overlay?.kind === 'chat' || overlay?.kind === 'chatEdit' ? overlay.text : null}
        pendingProposal={proposal?.id ?? null}
        busy={chatBusy}
        width={width}
        height={bodyHeight}
      />
    );
  else body = <DetailView state={state} threadId={detailThread ?? ''} nowMs={nowMs} width={width} height={bodyHeight} />;

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Header model={headerModel(state)} mode={linkProblem ? `${props.mode} (${linkProblem}; reconnecting)` : props.mode} width={width} />
      <TabBar view={view} needsYou={queue.length} width={width} />
      {/* Clipped vertically only: the views never draw wider than the terminal, and clipping sideways costs a slice-ansi pass over every line of every frame. */}
      <Box height={bodyHeight} flexDirection="column" overflowY="hidden">
        {body}
      </Box>
      <StatusLine overlay={overlay} toast={toast} />
      <KeyHints view={view} />
    </Box>
  );
}

function StatusLine({ overlay, toast }: { overlay: Overlay | null; toast: Toast | null }) {
  const color = useToneColor();
  if (overlay?.kind === 'command' || overlay?.kind === 'filter') {
    return (
      <Text wrap="truncate-end">
        <Text color={color('info')}>{overlay.kind === 'command' ? ':' : '/'}</Text>
        {overlay.text}
        <Text inverse> </Text>
      </Text>
    );
  }
  if (overlay?.kind === 'confirmQuit') {
    return <Line text={`${overlay.running} turn(s) are running; quitting stops them. Quit? (y/n)`} tone="warn" bold />;
  }
  return toast ? <Line text={toast.text} tone={toast.tone} /> : <Text> </Text>;
}

const HINTS: Record<View, string> = {
  ops: 'j/k move · Enter open · Tab pane · x ack · ? help · q quit',
  feed: 'j/k move · i needs input · f faults · / filter · Enter open · ? help',
  approvals: 'j/k move · a accept · A session · d decline · c cancel · Enter answer · ? help',
  detail: 'Esc back · a/A/d/c answer approval · x ack · ? help',
  chat: 'i type · Enter/y dispatch proposal · e edit · n reject · ? help',
};

function KeyHints({ view }: { view: View }) {
  const color = useToneColor();
  return (
    <Text color={color('dim')} wrap="truncate-end">
      {HINTS[view]}
    </Text>
  );
}
