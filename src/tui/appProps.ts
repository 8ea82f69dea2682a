import type { SupervisorApi } from '../core/api/supervisorApi.js';
import type { SignalKind, SignalRecord } from '../core/state/model.js';

/** What the TUI is given: the API, the size, and the ways out (quit, notify, dispatch a file, a shell). */
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
  /** `!`: gives the terminal to a shell in the thread's workspace; resolves with how it ended. */
  shell?: (threadId: string) => Promise<string>;
  /** config.json's `allowUnsafePlans`: confirming a chat proposal carries this opt-in. */
  allowUnsafePlans?: boolean;
  /** In-process mode: quitting stops running turns, so ask first. */
  confirmQuitWhenRunning?: boolean;
  /** Attached: tells why the link to the daemon is down (null: it is up again). */
  link?: (listener: (problem: string | null) => void) => () => void;
  now?: () => number;
}
