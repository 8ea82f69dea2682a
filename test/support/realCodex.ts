import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBundledCodexBinary } from '../../src/core/codexBinary.js';
import { AppServerConnection, type ConnectionEvent, type ConnectionOptions } from '../../src/core/connection/appServerConnection.js';
import { createOfflineCodexHome, type OfflineCodexHome } from '../../src/core/mockModel/codexHome.js';
import {
  startMockResponsesServer,
  type MockReply,
  type MockRequest,
  type MockResponsesServer,
} from '../../src/core/mockModel/mockResponsesServer.js';

export interface RealCodexEnv {
  codexBin: string;
  mock: MockResponsesServer;
  home: OfflineCodexHome;
  /** A fresh directory to use as a workspace. */
  workspace(name?: string): Promise<string>;
  /** A product connection to the real binary, with every event recorded. */
  connect(options?: Partial<ConnectionOptions>): Promise<{ connection: AppServerConnection; events: ConnectionEvent[] }>;
  cleanup(): Promise<void>;
}

/** The real bundled codex app-server, offline, against a mock model on 127.0.0.1. */
export async function startRealCodexEnv(
  opts: { reply?: (req: MockRequest) => MockReply; streamIdleTimeoutMs?: number; responseHeaders?: Record<string, string> } = {},
): Promise<RealCodexEnv> {
  const codexBin = requireBundledCodexBinary();
  const mock = await startMockResponsesServer({ ...(opts.reply ? { reply: opts.reply } : {}), ...(opts.responseHeaders ? { responseHeaders: opts.responseHeaders } : {}) });
  const home = await createOfflineCodexHome({ baseUrl: mock.baseUrl, streamIdleTimeoutMs: opts.streamIdleTimeoutMs });
  const dirs: string[] = [];
  const connections: AppServerConnection[] = [];
  return {
    codexBin,
    mock,
    home,
    async workspace(name = 'ws') {
      const dir = await mkdtemp(join(tmpdir(), `cm-${name}-`));
      dirs.push(dir);
      return dir;
    },
    async connect(options = {}) {
      const connection = new AppServerConnection({ argv: [codexBin, 'app-server'], env: home.env, ...options });
      const events: ConnectionEvent[] = [];
      connection.on((e) => events.push(e));
      connections.push(connection);
      await connection.start();
      return { connection, events };
    },
    async cleanup() {
      await Promise.all(connections.map((c) => c.stop()));
      await mock.close();
      await home.cleanup();
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

export function notifications(events: ConnectionEvent[], method: string): unknown[] {
  return events.flatMap((e) => (e.type === 'notification' && e.notification.method === method ? [e.notification.params] : []));
}

export function textInput(text: string) {
  return [{ type: 'text', text, text_elements: [] }];
}
