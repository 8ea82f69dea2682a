import type { ThreadDiff, Transcript } from '../core/api/supervisorApi.js';
import type { SupervisorState } from '../core/state/model.js';
import type { DocumentViewProps } from './components/DocumentView.js';
import { detailDocument } from './detailDocument.js';
import { diffDocument } from './diffDocument.js';
import { DOCUMENT_FOOTER, findMatches, wrapDocument, type DocLine } from './document.js';
import type { Loaded } from './hooks/useThreadData.js';
import { isDocView, type DocView } from './keymap.js';
import { transcriptDocument } from './transcriptDocument.js';
import type { DocumentFrame } from './ui/overlayKeys.js';
import type { UiState } from './ui/uiState.js';

/** The open thread view: what DocumentView draws, and what scrolling and search need to know. */
export interface ThreadDocument {
  props: Omit<DocumentViewProps, 'width' | 'height'>;
  frame: DocumentFrame;
}

function documentLines(view: DocView, state: SupervisorState, threadId: string, loaded: Loaded<Transcript | ThreadDiff> | null, nowMs: number): DocLine[] {
  if (!state.threads[threadId]) return [{ text: 'This thread is gone (archived, or its workspace was removed). Esc goes back.', tone: 'dim' }];
  if (view === 'detail') return detailDocument(state, threadId, nowMs);
  const what = view === 'transcript' ? 'the transcript' : 'the diff';
  if (!loaded || loaded.status === 'loading') return [{ text: `reading ${what} from the thread's host…`, tone: 'dim' }];
  if (loaded.status === 'error') return [{ text: `could not read ${what}: ${loaded.message}`, tone: 'error' }];
  return view === 'transcript' ? transcriptDocument(loaded.data as Transcript) : diffDocument(loaded.data as ThreadDiff);
}

export function threadDocumentFrame(ui: UiState, state: SupervisorState, loaded: Loaded<Transcript | ThreadDiff> | null, width: number, height: number): ThreadDocument | null {
  if (!isDocView(ui.view) || !ui.threadId) return null;
  const lines = documentLines(ui.view, state, ui.threadId, loaded, ui.nowMs);
  const wrapped = wrapDocument(lines, width);
  const rows = Math.max(1, height - DOCUMENT_FOOTER);
  const position = ui.docs[ui.view];
  return {
    props: { lines, scroll: position.scroll, search: position.search, matchIndex: position.match },
    frame: { total: wrapped.length, rows, find: (query) => findMatches(wrapped, query) },
  };
}
