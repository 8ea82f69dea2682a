import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../contract/plan.js';
import type { WorkspaceInput } from '../loop/supervisor.js';
import { createOfflineCodexHome } from '../mockModel/codexHome.js';
import { quotaHeaders, startMockResponsesServer, type MockReply, type MockRequest } from '../mockModel/mockResponsesServer.js';
import { orderedPlanReply } from '../mockModel/scriptedPlanner.js';

export interface DemoEnvironment {
  workspaces: WorkspaceInput[];
  /** The supervisor chat's planner works here. */
  plannerDir: string;
  /** Environment for the app-servers: the offline CODEX_HOME and the mock provider's key. */
  env: Record<string, string>;
  plan: Plan;
  /** Closes the mock and removes every temporary directory. */
  cleanup(): Promise<void>;
}

const SUMMARY = 'Summarize what changed in this repository this week';
const RELEASE_NOTES = 'Write the release notes file for 2.4.0';
const UPGRADE = 'Upgrade the dependencies and run the test suite';

/** The scripted model: one plain answer, one command that needs approval, one upstream failure. */
export function demoReply(req: MockRequest): MockReply {
  // The supervisor chat's planner asks for a plan (structured output): "first … then …" gets a
  // chain of two actions, anything else one action for each of two workspaces.
  if (req.isStructured) {
    return orderedPlanReply(req) ?? {
      kind: 'json',
      value: {
        version: 1,
        id: null,
        actions: [
          { id: 'api-tests', workspace: 'billing-api', prompt: 'Run the test suite and report what fails', thread: 'latest', model: null, effort: null, approvalPolicy: null, sandbox: null },
          { id: 'web-check', workspace: 'web-app', prompt: 'Check the release notes for typos', thread: 'latest', model: null, effort: null, approvalPolicy: null, sandbox: null },
        ],
      },
    };
  }
  if (req.isToolFollowUp) return { kind: 'text', text: 'Wrote RELEASE_NOTES.md with the changes since 2.3.0.' };
  const prompt = req.lastUserText ?? '';
  if (prompt.startsWith(SUMMARY)) {
    return { kind: 'text', text: 'Three changes this week: the parser now accepts CRLF input, cache entries expire after 10 minutes, and the README gained a quick start.' };
  }
  if (prompt.startsWith(RELEASE_NOTES)) {
    return { kind: 'exec', cmd: "echo '2.4.0: CRLF input, cache expiry' > RELEASE_NOTES.md", escalate: true, justification: 'Write RELEASE_NOTES.md in the repository' };
  }
  if (prompt.startsWith(UPGRADE)) return { kind: 'httpError', status: 500 };
  return { kind: 'text', text: `Done: ${prompt.slice(0, 120)}` };
}

/**
 * Everything the offline demo needs and nothing outside temp directories: a mock model on
 * 127.0.0.1, a CODEX_HOME pointing at it, three small repositories and the plan to run.
 */
export async function createDemoEnvironment(): Promise<DemoEnvironment> {
  const root = await mkdtemp(join(tmpdir(), 'cm-supervisor-demo-'));
  // Quota headers as the real API sends them: the header's usage meter has something to show.
  const mock = await startMockResponsesServer({
    reply: demoReply,
    responseHeaders: quotaHeaders({ usedPercent: 42, windowMinutes: 300, resetAtSec: Math.floor(Date.now() / 1000) + 2 * 3600 }, { usedPercent: 13, windowMinutes: 10080 }),
  });
  try {
    const home = await createOfflineCodexHome({ baseUrl: mock.baseUrl, parentDir: root, streamIdleTimeoutMs: 10_000 });
    const names = ['billing-api', 'web-app', 'infra'];
    const workspaces: WorkspaceInput[] = [];
    for (const name of names) {
      const path = await mkdtemp(join(root, `${name}-`));
      await writeFile(join(path, 'README.md'), `# ${name}\n\nA demo repository created by cm-supervisor.\n`);
      workspaces.push({ name, path });
    }
    return {
      workspaces,
      plannerDir: join(root, 'planner'),
      env: home.env,
      plan: {
        version: 1,
        id: 'demo',
        actions: [
          { id: 'summary', workspace: 'billing-api', prompt: SUMMARY, thread: 'new' },
          { id: 'release-notes', workspace: 'web-app', prompt: RELEASE_NOTES, thread: 'new' },
          { id: 'upgrade', workspace: 'infra', prompt: UPGRADE, thread: 'new' },
        ],
      },
      async cleanup() {
        await mock.close();
        await rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      },
    };
  } catch (error) {
    await mock.close();
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}
