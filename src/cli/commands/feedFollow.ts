import type { SupervisorApi } from '../../core/api/supervisorApi.js';
import type { FeedFilter } from '../../core/state/selectors.js';
import { feedLine } from '../format/feedText.js';
import type { CliIo } from '../io.js';

/** How often new entries are looked for at most: a storm of events prints in batches. */
const FOLLOW_INTERVAL_MS = 100;

/**
 * `feed --follow`: the entries there are (as `--limit` asks), then each new one as it comes, one
 * line per entry (`--json`: one JSON object per line), until `stop` aborts.
 */
export async function followFeed(
  api: SupervisorApi,
  filter: FeedFilter,
  json: boolean,
  io: CliIo,
  stop: AbortSignal,
  link?: (listener: (problem: string | null) => void) => () => void,
): Promise<void> {
  const print = (entries: Awaited<ReturnType<SupervisorApi['feed']>>) => {
    for (const e of entries) io.out(json ? `${JSON.stringify(e)}\n` : `${feedLine(e)}\n`);
  };
  const first = await api.feed(filter);
  print(first);
  let lastSeq = first.at(-1)?.seq ?? (await api.snapshot()).nextFeedSeq - 1;
  const { limit: _limit, ...unlimited } = filter;
  let timer: NodeJS.Timeout | null = null;
  const look = async () => {
    timer = null;
    const entries = (await api.feed(unlimited)).filter((e) => e.seq > lastSeq);
    if (entries.length === 0) return;
    lastSeq = entries.at(-1)!.seq;
    print(entries);
  };
  const unsubscribe = api.subscribe(() => {
    timer ??= setTimeout(() => void look().catch(() => {}), FOLLOW_INTERVAL_MS);
  });
  // Said on stderr, so the lines on stdout stay entries (and JSON with --json).
  const unlink = link?.((problem) => io.err(problem ? `cm-supervisor: ${problem}; waiting for it to come back (Ctrl-C ends)\n` : 'cm-supervisor: connected to the daemon again\n')) ?? (() => {});
  await new Promise<void>((resolve) => {
    if (stop.aborted) resolve();
    stop.addEventListener('abort', () => resolve(), { once: true });
  });
  unsubscribe();
  unlink();
  if (timer) clearTimeout(timer);
  await look().catch(() => {});
}
