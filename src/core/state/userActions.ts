import { SupervisorError } from '../errors.js';
import type { ApprovalDecision, SupervisorEvent } from './events.js';
import type { SupervisorState } from './model.js';

/**
 * The events for what a user asks, checked against the state first: an unknown id or a
 * decision the server does not offer is a usage error (exit 2), never a silent no-op.
 * Every SupervisorApi implementation answers through these, so they all say the same.
 */
export function ackEvent(state: SupervisorState, signalId: string, atMs: number): SupervisorEvent {
  if (!state.signals[signalId]) throw new SupervisorError(`no signal with id "${signalId}"; see the signal ids in \`cm-supervisor status\``, 2);
  return { type: 'signal/acknowledged', atMs, signalId };
}

export function approvalAnsweredEvent(state: SupervisorState, key: string, decision: ApprovalDecision, atMs: number): SupervisorEvent {
  const approval = state.pendingApprovals[key];
  if (!approval) throw new SupervisorError(`no pending approval "${key}" (already answered, or its app-server restarted)`, 2);
  if (!approval.availableDecisions.includes(decision)) {
    throw new SupervisorError(`"${decision}" is not offered for approval "${key}"; choose one of: ${approval.availableDecisions.join(', ')}`, 2);
  }
  return { type: 'approval/answered', atMs, key, decision };
}

export function questionAnsweredEvent(state: SupervisorState, key: string, answers: Record<string, string[]>, atMs: number): SupervisorEvent {
  if (!state.openQuestions[key]) throw new SupervisorError(`no open question "${key}"`, 2);
  return { type: 'question/answered', atMs, key, answers };
}
