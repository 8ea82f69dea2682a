import type { ServerNotification } from '../protocol/generated/ServerNotification.js';
import type { ServerRequest } from '../protocol/generated/ServerRequest.js';

/**
 * What the supervisor does with each method the pinned Codex may send. Every notification and
 * server request of its JSON Schema is in exactly one table here, and no table names a method
 * the schema lacks (test/realBinary/protocolCoverage.test.ts), so a Codex upgrade that adds a
 * method fails a test naming it. At run time an unlisted notification is counted in
 * `state.unknownMethods`, and an unlisted request is refused with a warning in the feed.
 */
type NotificationMethod = ServerNotification['method'];
type RequestMethod = ServerRequest['method'];

/** Streaming deltas: each only proves that its turn is alive. */
export const PROGRESS_METHODS = [
  'item/agentMessage/delta',
  'item/commandExecution/outputDelta',
  'item/commandExecution/terminalInteraction',
  'item/fileChange/outputDelta',
  'item/fileChange/patchUpdated',
  'item/reasoning/summaryTextDelta',
  'item/reasoning/summaryPartAdded',
  'item/reasoning/textDelta',
  'item/plan/delta',
  'item/mcpToolCall/progress',
] as const satisfies readonly NotificationMethod[];

/** Notifications normalized one by one (the switch in normalizeNotification). */
export const HANDLED_METHODS = [
  'thread/started',
  'thread/status/changed',
  'thread/closed',
  'thread/archived',
  'thread/name/updated',
  'thread/goal/updated',
  'thread/goal/cleared',
  'turn/started',
  'turn/completed',
  'item/started',
  'item/completed',
  'turn/plan/updated',
  'turn/diff/updated',
  'thread/tokenUsage/updated',
  'account/rateLimits/updated',
  'error',
  'serverRequest/resolved',
  'warning',
  'guardianWarning',
  'configWarning',
  'windows/worldWritableWarning',
] as const satisfies readonly NotificationMethod[];

const NEVER_REQUESTED = (what: string) => `${what}, which cm-supervisor never requests`;
const REALTIME = 'realtime (voice) sessions, which cm-supervisor never starts';
const OTHER_CLIENTS_UI = "how Codex's own clients organise threads; turns and items are unaffected";
const AUTO_REVIEW = "Codex's auto-reviewer deciding in the person's place; the reviewed item shows the outcome";
const AUTH_RECOVERY = 'provider credentials refreshed mid-turn; if that fails, the turn fails with its own error';

/** Notifications read and dropped on purpose, each with why (they are not "unknown"). */
export const IGNORED_METHODS = {
  'account/updated': 'sign-in state of the account; cm-supervisor does not manage sign-in',
  'account/login/completed': 'a sign-in flow started by another client',
  'account/gatewayOAuth/changed': 'a gateway sign-in flow started by another client',
  'remoteControl/status/changed': "Codex's remote-control feature, not used by cm-supervisor",
  deprecationNotice: 'advice to client developers, nothing for the person',
  'app/list/updated': "the apps catalogue of Codex's own pickers",
  'skills/changed': "the skills catalogue of Codex's own pickers",
  'mcpServer/startupStatus/updated': 'MCP server start-up; a tool call that fails shows in its item',
  'mcpServer/oauthLogin/completed': 'an MCP sign-in flow started by another client',
  'mcpServer/event/stream/notification': NEVER_REQUESTED('an MCP event subscription'),
  'externalAgentConfig/import/progress': NEVER_REQUESTED("an import of other agents' configuration"),
  'externalAgentConfig/import/completed': NEVER_REQUESTED("an import of other agents' configuration"),
  'windowsSandbox/setupCompleted': NEVER_REQUESTED('a Windows sandbox set-up'),
  'fuzzyFileSearch/sessionUpdated': NEVER_REQUESTED('a file search'),
  'fuzzyFileSearch/sessionCompleted': NEVER_REQUESTED('a file search'),
  'thread/search/partial': NEVER_REQUESTED('a thread search'),
  'fs/changed': NEVER_REQUESTED('a file watch (fs/watch)'),
  'command/exec/outputDelta': NEVER_REQUESTED('output of command/exec'),
  'process/outputDelta': NEVER_REQUESTED('output of process/spawn'),
  'process/exited': NEVER_REQUESTED('the end of process/spawn'),
  'thread/realtime/started': REALTIME,
  'thread/realtime/itemAdded': REALTIME,
  'thread/realtime/item/started': REALTIME,
  'thread/realtime/item/transcript/delta': REALTIME,
  'thread/realtime/item/completed': REALTIME,
  'thread/realtime/transcript/delta': REALTIME,
  'thread/realtime/transcript/done': REALTIME,
  'thread/realtime/outputAudio/delta': REALTIME,
  'thread/realtime/sdp': REALTIME,
  'thread/realtime/error': REALTIME,
  'thread/realtime/closed': REALTIME,
  'thread/unarchived': OTHER_CLIENTS_UI,
  'thread/readState/changed': OTHER_CLIENTS_UI,
  'thread/section/changed': OTHER_CLIENTS_UI,
  'thread/attachment/updated': OTHER_CLIENTS_UI,
  'thread/project/updated': OTHER_CLIENTS_UI,
  'project/changed': OTHER_CLIENTS_UI,
  'thread/prediction/updated': "suggested next prompts for Codex's own composer",
  'thread/queue/changed': 'messages queued in another client; each arrives as a turn of its own',
  'thread/deleted': 'a deleted thread sends nothing more; what was seen of it stays',
  'thread/reverted': 'turns undone by another client; the turns that follow arrive as usual',
  'thread/settings/updated': "settings for the thread's next turns (model, sandbox): nothing happened yet",
  'thread/environment/connected': 'remote execution environments; a turn that loses one fails with its own error',
  'thread/environment/disconnected': 'remote execution environments; a turn that loses one fails with its own error',
  'thread/compacted': 'deprecated by Codex: a compaction also arrives as a contextCompaction item',
  'model/rerouted': 'the turn goes on with another model',
  'model/verification': "model access checks for Codex's own clients",
  'model/safetyBuffering/updated': "a hint for Codex's own clients that output is held for a safety check",
  'modelProvider/authRecoveryStarted': AUTH_RECOVERY,
  'modelProvider/authRecoveryCompleted': AUTH_RECOVERY,
  'turn/moderationMetadata': "moderation metadata for Codex's own clients",
  'hook/started': 'user hooks around tool calls; the calls themselves arrive as items',
  'hook/completed': 'user hooks around tool calls; the calls themselves arrive as items',
  'item/autoApprovalReview/started': AUTO_REVIEW,
  'item/autoApprovalReview/completed': AUTO_REVIEW,
  'autoApprovalReview/strictReviewRequired': AUTO_REVIEW,
} as const satisfies Partial<Record<NotificationMethod, string>>;

/** Server requests that ask the person: each becomes a pending approval or an open question. */
export const ASKING_REQUESTS = [
  'item/commandExecution/requestApproval',
  'item/fileChange/requestApproval',
  'item/permissions/requestApproval',
  'item/tool/requestUserInput',
  'mcpServer/elicitation/request',
] as const satisfies readonly RequestMethod[];

const LEGACY_TURNS = 'turns of the legacy API (sendUserTurn), which cm-supervisor never starts';

/** Server requests answered at once with a failure (the turn must not wait), each with why. */
export const REFUSED_REQUESTS = {
  'item/tool/call': 'cm-supervisor registers no dynamic tools',
  'account/chatgptAuthTokens/refresh': 'cm-supervisor leaves sign-in to Codex and holds no ChatGPT tokens',
  'attestation/generate': 'cm-supervisor cannot attest for Codex',
  applyPatchApproval: `for ${LEGACY_TURNS}`,
  execCommandApproval: `for ${LEGACY_TURNS}`,
} as const satisfies Partial<Record<RequestMethod, string>>;

/** Why a request was answered with a failure, for the person reading the feed. */
export function refusalReason(method: string): string {
  if (Object.hasOwn(REFUSED_REQUESTS, method)) return REFUSED_REQUESTS[method as keyof typeof REFUSED_REQUESTS];
  if ((ASKING_REQUESTS as readonly string[]).includes(method)) return 'its params are not what the pinned Codex documents';
  return 'cm-supervisor does not support it';
}
