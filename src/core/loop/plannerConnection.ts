import { AppServerConnection, type ConnectionOptions } from '../connection/appServerConnection.js';
import { SupervisorError } from '../errors.js';
import { makePrivateDir } from '../persistence/privateHome.js';

export interface PlannerConnectionOptions {
  /** The planner's working directory (created on first use); none: the chat cannot plan. */
  dir: string | undefined;
  codexBin: string;
  env: Record<string, string>;
  connection?: Partial<Omit<ConnectionOptions, 'transport' | 'argv' | 'cwd' | 'env'>>;
  now: () => number;
}

/**
 * The chat planner's own private app-server in its own directory, apart from every host, so
 * its thread never shows up as work (nor in Codex's own thread lists when a host is attached
 * to Codex's daemon). Started on first use, and again if it exited; calls are chained so
 * concurrent callers share one process.
 */
export class PlannerConnection {
  private current: Promise<AppServerConnection> | null = null;
  private stopped = false;

  constructor(private readonly options: PlannerConnectionOptions) {}

  get(): Promise<AppServerConnection> {
    const { dir } = this.options;
    if (this.stopped) return Promise.reject(new SupervisorError('the supervisor is stopped; the planner is not available'));
    if (!dir) return Promise.reject(new SupervisorError('this supervisor has no planner directory (plannerDir), so the chat cannot plan'));
    const previous = this.current;
    const next = (async () => {
      const running = previous ? await previous.catch(() => null) : null;
      if (running && !running.isClosed) return running;
      makePrivateDir(dir);
      const connection = new AppServerConnection({
        ...this.options.connection,
        argv: [this.options.codexBin, 'app-server'],
        cwd: dir,
        env: { ...this.options.env },
        now: this.options.now,
      });
      await connection.start();
      return connection;
    })();
    this.current = next;
    return next;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const connection = await this.current?.catch(() => null);
    if (connection && !connection.isClosed) await connection.stop();
  }
}
