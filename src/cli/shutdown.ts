/**
 * SIGTERM, SIGINT and SIGHUP ask for a graceful stop (app-servers stopped, terminal restored,
 * temp files removed). The handlers stay installed until the process ends, because some
 * dependencies re-send the signal to themselves to die (when-exit, via conf → atomically, and
 * signal-exit): while our handler is installed, Node does not die of it. Repeats within a
 * couple of seconds are those echoes and are ignored; a later second signal exits at once.
 */
const ECHO_WINDOW_MS = 2_000;

export function shutdownSignal(): AbortSignal {
  const controller = new AbortController();
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      firstAt = Date.now();
      controller.abort(signal);
    } else if (Date.now() - firstAt > ECHO_WINDOW_MS) {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, onSignal);
  return controller.signal;
}
