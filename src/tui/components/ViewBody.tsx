import type { SupervisorState } from '../../core/state/model.js';
import { needsInputNow } from '../../core/state/selectors.js';
import type { ThreadDocument } from '../threadDocument.js';
import { selectedIndex, type Lists } from '../ui/selection.js';
import type { UiState } from '../ui/uiState.js';
import { ApprovalsView } from './ApprovalsView.js';
import { ChatView } from './ChatView.js';
import { DocumentView } from './DocumentView.js';
import { FeedView } from './FeedView.js';
import { HelpOverlay } from './HelpOverlay.js';
import { OperationsView } from './OperationsView.js';

/** The body of the screen: the view the UI state names. */
export function ViewBody({ ui, state, lists, document, width, height }: { ui: UiState; state: SupervisorState; lists: Lists; document: ThreadDocument | null; width: number; height: number }) {
  const { overlay } = ui;
  if (overlay?.kind === 'help') return <HelpOverlay view={ui.view} scroll={overlay.scroll} width={width} height={height} />;
  switch (ui.view) {
    case 'ops':
      return <OperationsView rows={lists.rows} selected={selectedIndex(ui, lists, 'ops')} width={width} height={height} />;
    case 'feed':
      return <FeedView entries={lists.feed} selected={selectedIndex(ui, lists, 'feed')} filter={ui.filter} needsInputNow={(e) => needsInputNow(state, e)} width={width} height={height} />;
    case 'approvals':
      return (
        <ApprovalsView
          state={state}
          queue={lists.queue}
          selected={selectedIndex(ui, lists, 'approvals')}
          answering={overlay?.kind === 'answer' ? overlay.text : null}
          width={width}
          height={height}
        />
      );
    case 'chat':
      return (
        <ChatView
          messages={state.chat}
          input={overlay?.kind === 'chat' || overlay?.kind === 'chatEdit' ? overlay.text : null}
          pendingProposal={ui.proposal?.id ?? null}
          busy={ui.chatBusy}
          width={width}
          height={height}
        />
      );
    case 'detail':
    case 'transcript':
    case 'diff':
      return document ? <DocumentView {...document.props} width={width} height={height} /> : null;
  }
}
