import type { SignalKind } from '../../core/state/model.js';
import { BOTTOM, clampScroll, matchIndexOf, scrollBy, scrollToMatch, type Match, type ScrollMove } from '../document.js';
import { isDocView, type DocView, type View } from '../keymap.js';
import type { FeedViewFilter, Tone } from '../viewModel.js';
import { clampIndex } from '../window.js';

/**
 * Everything the screen remembers between keys — view, selections, overlays, composer, toasts —
 * changed only by `reduceUi`, a pure function: the UI's behaviour is tested with tables, and
 * the App only renders this and turns keys into actions and API calls.
 */

/** A text line being typed, or a question on the status line. */
export type Overlay =
  | { kind: 'help'; scroll: number }
  | { kind: 'command'; text: string }
  | { kind: 'filter'; text: string }
  | { kind: 'search'; text: string }
  // The question being answered, by key: the queue may change while the person types.
  | { kind: 'answer'; text: string; key: string }
  | { kind: 'reply'; text: string; threadId: string; label: string }
  /** `question` is shown with ` (y/n)` after it, which is never cut off. */
  | { kind: 'confirm'; action: ConfirmAction; threadId: string | null; question: string }
  | { kind: 'chat'; text: string }
  | { kind: 'chatEdit'; text: string; proposalId: string };

export type ConfirmAction = 'quit' | 'interrupt' | 'archive';
export type TextOverlay = Extract<Overlay, { text: string }>;

export const isTextOverlay = (o: Overlay | null): o is TextOverlay => o !== null && 'text' in o;

export interface Toast {
  text: string;
  tone: Tone;
  atMs: number;
  /** The thread the toast is about: while it shows, Enter opens it and R retries it. */
  threadId?: string;
  keys?: string;
}

/** A document's position: `scroll` BOTTOM follows the end (new items stay in view). */
export interface DocPosition {
  scroll: number;
  search: string;
  match: number;
}

export interface UiState {
  view: View;
  /** The thread the detail, transcript and diff views show. */
  threadId: string | null;
  /** Where Esc returns to from a thread's views, the last first: the pane, then the detail view. */
  trail: View[];
  selected: Record<'ops' | 'feed' | 'approvals', number>;
  docs: Record<DocView, DocPosition>;
  filter: FeedViewFilter;
  overlay: Overlay | null;
  toast: Toast | null;
  notifications: { on: boolean; muted: string[]; kinds: SignalKind[] };
  /** The planner's proposal this screen shows, until it is confirmed or rejected. */
  proposal: { id: string; plan: unknown } | null;
  chatBusy: boolean;
  /** Attached: why the link to the daemon is down. */
  linkProblem: string | null;
  /** A shell has the terminal: keys are not read and nothing is drawn. */
  suspended: boolean;
  nowMs: number;
}

export const TOAST_MS = 10_000;
export const DEFAULT_NOTIFY: SignalKind[] = ['needs_approval', 'failed'];
export const PANES: View[] = ['ops', 'feed', 'approvals', 'chat'];
const NO_FILTER: FeedViewFilter = { needsInput: false, faults: false, text: '' };
const TOP: DocPosition = { scroll: 0, search: '', match: 0 };
const FOLLOW: DocPosition = { scroll: BOTTOM, search: '', match: 0 };

export function initialUi(options: { nowMs: number; notifications?: Partial<UiState['notifications']> }): UiState {
  return {
    view: 'ops',
    threadId: null,
    trail: [],
    selected: { ops: 0, feed: 0, approvals: 0 },
    docs: { detail: FOLLOW, transcript: TOP, diff: TOP },
    filter: NO_FILTER,
    overlay: null,
    toast: null,
    notifications: { on: true, muted: [], kinds: DEFAULT_NOTIFY, ...options.notifications },
    proposal: null,
    chatBusy: false,
    linkProblem: null,
    suspended: false,
    nowMs: options.nowMs,
  };
}

export type UiAction =
  | { type: 'tick'; nowMs: number }
  | { type: 'show'; view: View }
  | { type: 'nextPane' }
  /** `count`: how many items the list has now. */
  | { type: 'move'; list: keyof UiState['selected']; delta: number; count: number }
  /** Opens one of a thread's views, remembering the pane to return to. */
  | { type: 'openThread'; threadId: string; view: DocView }
  | { type: 'back' }
  | { type: 'overlay'; overlay: Overlay | null }
  | { type: 'type'; text: string }
  | { type: 'toast'; toast: Toast }
  | { type: 'filter'; change: Partial<FeedViewFilter> }
  /** `total`: the document's wrapped lines; `rows`: how many are on screen. */
  | { type: 'scroll'; move: ScrollMove; total: number; rows: number }
  /** A search of the current document and where it matched. */
  | { type: 'search'; query: string; matches: Match[]; total: number; rows: number }
  | { type: 'match'; delta: number; matches: Match[]; total: number; rows: number }
  | { type: 'notifications'; change: Partial<UiState['notifications']> }
  | { type: 'mute'; workspace: string; muted: boolean }
  | { type: 'proposal'; proposal: UiState['proposal'] }
  | { type: 'chatBusy'; busy: boolean }
  | { type: 'link'; problem: string | null }
  | { type: 'suspend'; suspended: boolean };

function withDoc(ui: UiState, change: (doc: DocPosition) => DocPosition): UiState {
  if (!isDocView(ui.view)) return ui;
  return { ...ui, docs: { ...ui.docs, [ui.view]: change(ui.docs[ui.view]) } };
}

export function reduceUi(ui: UiState, action: UiAction): UiState {
  switch (action.type) {
    case 'tick':
      return { ...ui, nowMs: action.nowMs, toast: ui.toast && action.nowMs - ui.toast.atMs > TOAST_MS ? null : ui.toast };
    case 'show':
      return { ...ui, view: action.view, trail: [], overlay: ui.overlay?.kind === 'help' ? null : ui.overlay };
    case 'nextPane': {
      const at = PANES.indexOf(isDocView(ui.view) ? (ui.trail[0] ?? 'ops') : ui.view);
      return { ...ui, view: PANES[(at + 1) % PANES.length]!, trail: [], overlay: null };
    }
    case 'move':
      return { ...ui, selected: { ...ui.selected, [action.list]: clampIndex(ui.selected[action.list] + action.delta, action.count) } };
    case 'openThread': {
      if (ui.view === action.view && ui.threadId === action.threadId) return ui;
      // A thread opened afresh starts at its top (the detail view: at its newest items).
      const fresh = ui.threadId !== action.threadId;
      const docs = fresh ? { detail: FOLLOW, transcript: TOP, diff: TOP } : ui.docs;
      const trail = isDocView(ui.view) && !fresh ? [...ui.trail.filter((v) => v !== action.view), ui.view] : [isDocView(ui.view) ? (ui.trail[0] ?? 'ops') : ui.view];
      return { ...ui, view: action.view, threadId: action.threadId, trail, docs, overlay: null };
    }
    case 'back':
      if (ui.overlay) return { ...ui, overlay: null };
      // In the feed, Esc first clears the filters.
      if (ui.view === 'feed' && (ui.filter.needsInput || ui.filter.faults || ui.filter.text)) return { ...ui, filter: NO_FILTER };
      if (isDocView(ui.view) && ui.docs[ui.view].search) return withDoc(ui, (d) => ({ ...d, search: '', match: 0 }));
      if (isDocView(ui.view)) return { ...ui, view: ui.trail.at(-1) ?? 'ops', trail: ui.trail.slice(0, -1) };
      return { ...ui, view: 'ops' };
    case 'overlay':
      return { ...ui, overlay: action.overlay };
    case 'type':
      return isTextOverlay(ui.overlay) ? { ...ui, overlay: { ...ui.overlay, text: action.text } } : ui;
    case 'toast':
      return { ...ui, toast: action.toast };
    case 'filter':
      return { ...ui, filter: { ...ui.filter, ...action.change }, selected: { ...ui.selected, feed: 0 } };
    case 'scroll':
      return withDoc(ui, (d) => {
        const to = scrollBy(action.move, d.scroll, action.total, action.rows);
        // At the end the view follows what is added (the detail view's newest items).
        return { ...d, scroll: to >= clampScroll(BOTTOM, action.total, action.rows) ? BOTTOM : to };
      });
    case 'search':
      return withDoc(ui, (d) => {
        const first = action.matches[0];
        return { ...d, search: action.query, match: 0, scroll: first ? scrollToMatch(first, d.scroll, action.total, action.rows) : d.scroll };
      });
    case 'match':
      return withDoc(ui, (d) => {
        const match = matchIndexOf(d.match + action.delta, action.matches.length);
        const at = action.matches[match];
        return at ? { ...d, match, scroll: scrollToMatch(at, d.scroll, action.total, action.rows) } : d;
      });
    case 'notifications':
      return { ...ui, notifications: { ...ui.notifications, ...action.change } };
    case 'mute': {
      const others = ui.notifications.muted.filter((w) => w !== action.workspace);
      return { ...ui, notifications: { ...ui.notifications, muted: action.muted ? [...others, action.workspace] : others } };
    }
    case 'proposal':
      return { ...ui, proposal: action.proposal };
    case 'chatBusy':
      return { ...ui, chatBusy: action.busy };
    case 'link':
      return { ...ui, linkProblem: action.problem };
    case 'suspend':
      return { ...ui, suspended: action.suspended };
  }
}
