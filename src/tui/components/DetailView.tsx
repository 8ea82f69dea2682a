import { useMemo } from 'react';
import type { SupervisorState } from '../../core/state/model.js';
import { detailDocument } from '../detailDocument.js';
import { BOTTOM } from '../document.js';
import { DocumentView } from './DocumentView.js';

export interface DetailViewProps {
  state: SupervisorState;
  threadId: string;
  nowMs: number;
  width: number;
  height: number;
  /** The first line shown; by default the end, so the newest items show. */
  scroll?: number;
  search?: string;
  matchIndex?: number;
}

/** A thread in full (detailDocument.ts), wrapped, scrolled and searched as DocumentView does it. */
export function DetailView({ state, threadId, nowMs, width, height, scroll = BOTTOM, search = '', matchIndex = 0 }: DetailViewProps) {
  const lines = useMemo(() => detailDocument(state, threadId, nowMs), [state, threadId, nowMs]);
  return <DocumentView lines={lines} width={width} height={height} scroll={scroll} search={search} matchIndex={matchIndex} />;
}
