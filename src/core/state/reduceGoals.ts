import { cut, oneLine } from '../util/text.js';
import type { Effect, SupervisorEvent } from './events.js';
import { pushFeedLine } from './feed.js';
import type { SupervisorState, ThreadRecord } from './model.js';
import { settleThreadJobs } from './reduceJobs.js';
import { goalStatusWords } from './threadGoal.js';
import { raiseSignal, signalKeys } from './signals.js';
import { draftThread, putThread } from './threadRecords.js';

type GoalEvent = Extract<SupervisorEvent, { type: 'thread/goalUpdated' | 'thread/goalCleared' }>;

/**
 * Goal mode. Codex reports the goal when it is set (`turnId` null) and at the end of each goal
 * turn, before that turn's `turn/completed`; it starts the next goal turn by itself. So a turn
 * that completes while the goal is still active is not the thread's outcome: its "completed"
 * (signal and job) is held (`heldCompletion`) and told once the goal ends — with the turn in
 * which it ended (see completeTurn), or here when it ends between turns (cleared, paused).
 */
export function reduceGoalEvent(state: SupervisorState, effects: Effect[], event: GoalEvent): void {
  const { atMs } = event;
  const thread = draftThread(state, event.workspace, event.threadId, atMs);
  thread.updatedAtMs = atMs;
  const previous = thread.goal;
  if (event.type === 'thread/goalUpdated') {
    const same = previous !== null && previous.createdAt === event.goal.createdAt && previous.status !== 'cleared';
    thread.goal = {
      ...event.goal,
      objective: oneLine(event.goal.objective, 500),
      // A goal first seen in one of its turns (set by another client) counts that turn.
      turns: same ? previous.turns : event.turnId !== null && event.turnId === thread.currentTurnId ? 1 : 0,
      heldCompletion: same ? previous.heldCompletion : false,
      updatedAtMs: atMs,
    };
  } else {
    // A turn still running ends the goal's work; its completion tells the held one (see completeTurn).
    thread.goal = previous !== null && previous.heldCompletion && thread.currentTurnId !== null ? { ...previous, status: 'cleared', updatedAtMs: atMs } : null;
  }
  const goal = thread.goal ?? previous;
  if (goal !== null && goal.heldCompletion && thread.currentTurnId === null && (thread.goal === null || thread.goal.status !== 'active')) {
    if (thread.goal !== null) thread.goal = { ...thread.goal, heldCompletion: false };
    putThread(state, thread);
    tellGoalEnded(state, effects, thread, event.type === 'thread/goalCleared' ? 'cleared' : goal.status, atMs);
    return;
  }
  putThread(state, thread);
}

/** The goal ended between turns: the held "completed" of its last turn is told now. */
function tellGoalEnded(state: SupervisorState, effects: Effect[], thread: ThreadRecord, status: string, atMs: number): void {
  const finalLine = thread.lastAgentMessage === null ? null : oneLine(thread.lastAgentMessage, 1000);
  const title = cut(thread.digest.currentTask ?? thread.title, 60);
  const text = `goal ${goalStatusWords(status)}`;
  raiseSignal(state, effects, {
    key: signalKeys.turn('completed', thread.id),
    kind: 'completed',
    workspace: thread.workspace,
    threadId: thread.id,
    turnId: thread.lastTurn?.id ?? null,
    message: `completed: ${title} — ${text}${finalLine ? ` — ${cut(finalLine, 120)}` : ''}`,
    context: finalLine ? { finalMessage: finalLine } : {},
    atMs,
  });
  pushFeedLine(state, { atMs, workspace: thread.workspace, threadId: thread.id, kind: 'turn_completed', text: `${text}: ${finalLine ?? title}` });
  settleThreadJobs(state, thread.id, 'completed', atMs, { finalMessage: thread.lastAgentMessage });
}
