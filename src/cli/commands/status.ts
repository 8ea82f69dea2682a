import { openApi } from '../apiHandle.js';
import { statusDocument, statusText } from '../format/statusText.js';
import { feedText } from '../format/feedText.js';
import type { GlobalOptions } from '../globalOptions.js';
import { startInProcessSupervisor } from '../inProcess.js';
import type { CliIo } from '../io.js';

export async function statusCommand(globals: GlobalOptions, opts: { json?: boolean }, io: CliIo): Promise<void> {
  const handle = await openApi(globals, () => startInProcessSupervisor(globals));
  try {
    const state = await handle.api.snapshot();
    io.out(opts.json ? `${JSON.stringify(statusDocument(state, handle.mode), null, 2)}\n` : statusText(state, Date.now(), handle.mode));
  } finally {
    await handle.close();
  }
}

export async function feedCommand(globals: GlobalOptions, opts: { json?: boolean; needsInput?: boolean; workspace?: string; limit?: string }, io: CliIo): Promise<void> {
  const handle = await openApi(globals, () => startInProcessSupervisor(globals));
  try {
    const entries = await handle.api.feed({
      ...(opts.needsInput ? { needsInput: true } : {}),
      ...(opts.workspace ? { workspace: opts.workspace } : {}),
      ...(opts.limit ? { limit: Number(opts.limit) } : {}),
    });
    io.out(opts.json ? `${JSON.stringify({ mode: handle.mode, entries }, null, 2)}\n` : feedText(entries, opts.needsInput ?? false));
  } finally {
    await handle.close();
  }
}
