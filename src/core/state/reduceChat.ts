import type { SupervisorEvent } from './events.js';
import type { SupervisorState } from './model.js';

/** The chat history keeps the newest messages; older ones are dropped. */
export const CHAT_LIMIT = 200;

type ChatEvent = Extract<SupervisorEvent, { type: 'chat/message' }>;

export function reduceChat(state: SupervisorState, event: ChatEvent): void {
  state.chat.push(event.message);
  if (state.chat.length > CHAT_LIMIT) state.chat.splice(0, state.chat.length - CHAT_LIMIT);
}
