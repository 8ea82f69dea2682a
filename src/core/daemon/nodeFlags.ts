/**
 * V8 flags the daemon process runs with (`daemon start` passes them to `node`).
 *
 * The supervisor's state is rebuilt record by record as events arrive, so much of it is young
 * whenever a scavenge runs. Node's young generation tops out at 16 MiB semi-spaces: under a busy
 * event stream each scavenge then copies and promotes the live state over and over. 64 MiB
 * semi-spaces let those records die young instead; `npm run bench:pipeline` runs with these flags
 * and measures GC time about 2.5 times lower with them. The cost is memory only under load:
 * V8 grows the young generation to this size only while allocation stays high. A daemon run in
 * the foreground (`daemon run` under systemd or tmux) gets them through NODE_OPTIONS (see
 * docs/multi-agent-sync-runbook.md); in-process supervisors keep Node's defaults.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
