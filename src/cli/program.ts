import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { closest } from '../core/contract/suggest.js';
import { PLAN_VERSIONS, type PlanVersion } from '../core/contract/planJsonSchema.js';
import { CODEX_DAEMON_MODES } from '../core/hosts/hostSpec.js';
import { packageInfo } from '../core/packageInfo.js';
import { chatCommand, type ChatCliOptions } from './commands/chat.js';
import { dispatchCommand, type DispatchCliOptions } from './commands/dispatch.js';
import { doctorCommand } from './commands/doctor.js';
import { daemonRun, daemonStart, daemonStatus, daemonStop } from './commands/daemon.js';
import { schemaCommand } from './commands/schema.js';
import {
  approveCommand,
  archiveCommand,
  diffCommand,
  interruptCommand,
  replyCommand,
  retryCommand,
  threadShowCommand,
  type ApproveCliOptions,
  type TurnCliOptions,
} from './commands/threadActions.js';
import { APPROVAL_DECISIONS } from '../core/state/events.js';
import { hostAdd, hostList, hostRemove, hostSet, type HostCliOptions, type HostSetCliOptions } from './commands/host.js';
import { feedCommand, statusCommand } from './commands/status.js';
import { workspaceAdd, workspaceList, workspaceRemove } from './commands/workspace.js';
import { worktreeList, worktreeRemove, type WorktreeRemoveCliOptions } from './commands/worktree.js';
import { resolveGlobalOptions } from './globalOptions.js';
import type { CliIo } from './io.js';

/** `--grace SECONDS`: a whole number of seconds, 0 to 3600. */
function graceSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600) throw new InvalidArgumentError(`--grace takes whole seconds from 0 to 3600, got "${value}"`);
  return seconds;
}

/** Variables by which Ink decides, once as it loads, that it runs in CI and paints only the last frame. */
const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION'] as const;

/**
 * The full-screen commands, loaded when one runs: Ink and React take half of every other command's
 * start-up. They only run on a terminal, which must be painted live even where `CI` is set (a
 * shell on a build machine, a dev container): Ink is loaded with those variables hidden, and
 * they are put back for everything the command starts.
 */
async function fullScreen(): Promise<typeof import('./commands/tui.js')> {
  const saved = CI_VARIABLES.map((name) => [name, process.env[name]] as const);
  for (const name of CI_VARIABLES) delete process.env[name];
  try {
    return await import('./commands/tui.js');
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}

function parsePositiveInt(value: string): string {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a positive whole number');
  return value;
}

/** Options of the commands that wait for dispatched turns (dispatch, chat). */
function timeoutOption(): Option {
  return new Option('--timeout <seconds>', 'interrupt turns still running after this long').argParser(parsePositiveInt);
}

/** The opt-in for plan fields that widen what an agent may do (docs/plan-format.md). */
function allowUnsafeOption(): Option {
  return new Option('--allow-unsafe', "allow plan fields that widen what agents may do: sandbox danger-full-access, approvalPolicy never, a directory neither configured nor inside the plan's directory");
}

function onApprovalOption(): Option {
  return new Option('--on-approval <policy>', 'how to answer approvals of the dispatched turns (default: ask on a terminal, else decline)').choices([
    'ask',
    'accept',
    'decline',
    'cancel',
  ]);
}

/** A repeatable option's values in order (`--env A=1 --env B=2`); undefined when not given. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `args` without `option` (`--opt VALUE`, `--opt=VALUE`) before any `--`, and the taken words. */
function withoutOption(args: string[], option: string): [string[], string[]] {
  const kept: string[] = [];
  const taken: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      kept.push(...args.slice(i));
      break;
    }
    if (arg === option) {
      taken.push(arg, ...args.slice(i + 1, i + 2));
      i++;
    } else if (arg.startsWith(`${option}=`)) taken.push(arg);
    else kept.push(arg);
  }
  return [kept, taken];
}

/** The settings `host add` and `host set` share. */
function hostSettingOptions(command: Command): Command {
  return command
    .option('--ssh-option <option>', 'an ssh option as in ssh_config, passed as `ssh -o OPTION` (e.g. ConnectTimeout=5); repeat for more', collect)
    .option('--codex-bin <path>', 'the codex binary on that host (default: codex on its PATH; for local: the bundled one)')
    .addOption(new Option('--codex-daemon <mode>', "attach to Codex's own daemon when it runs (attach, default), start it first (start), or always a private app-server (never)").choices(CODEX_DAEMON_MODES))
    .option('--env <KEY=VALUE>', "the app-server's environment on that host (e.g. CODEX_HOME, a provider key variable; ssh passes none); repeat for more", collect);
}

/** `<id>`, `<text...>`, `[key]`: an argument as help shows it. */
function argumentTerm(arg: Argument): string {
  const name = `${arg.name()}${arg.variadic ? '...' : ''}`;
  return arg.required ? `<${name}>` : `[${name}]`;
}

/** `outcome.exitCode` lets a command report "the work failed" (1) without an error message. */
export function buildProgram(io: CliIo, outcome: { exitCode: number } = { exitCode: 0 }): Command {
  const program = new Command('cm-supervisor');
  program
    .description('Supervise many OpenAI Codex agents (codex app-server), one per workspace, from one terminal.')
    .version(packageInfo().version, '-V, --version')
    .addOption(new Option('--home <dir>', 'state and config directory').env('CM_SUPERVISOR_HOME'))
    .addOption(
      new Option('--codex-bin <path>', 'codex binary to run (default: the bundled one, then codex on PATH)').env(
        'CM_SUPERVISOR_CODEX_BIN',
      ),
    )
    .option('--no-color', 'no colours (also when NO_COLOR is set)')
    .option('--no-daemon', 'supervise in this process even when a daemon runs for this home')
    .showHelpAfterError('(run cm-supervisor --help for usage)')
    // A command list names each command with its arguments; its options are in `COMMAND --help`.
    // " [options]" on every line made the column as wide as the longest such line (`reply`'s),
    // which split the global options' descriptions.
    .configureHelp({ subcommandTerm: (cmd) => [cmd.name(), ...cmd.registeredArguments.map(argumentTerm)].join(' ') })
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  // `host add|set --codex-bin` is that host's binary, but commander lets the root take its own
  // options anywhere on the line. So the root first reads its options before the command word
  // (commander's positional options), then those after it, leaving `--codex-bin` after
  // `host add|set` to that command. Every other option keeps working anywhere.
  const parseRootOptions = program.parseOptions.bind(program);
  program.parseOptions = (args) => {
    program.enablePositionalOptions(true);
    let head: ReturnType<typeof parseRootOptions>;
    try {
      head = parseRootOptions(args);
    } finally {
      program.enablePositionalOptions(false);
    }
    const [word] = head.operands;
    if (head.operands.length !== 1 || !program.commands.some((c) => c.name() === word)) return head;
    const hostSettings = word === 'host' && (head.unknown[0] === 'add' || head.unknown[0] === 'set');
    const [rest, hostOnly] = hostSettings ? withoutOption(head.unknown, '--codex-bin') : [head.unknown, []];
    const tail = parseRootOptions(rest);
    return { operands: [word!, ...tail.operands], unknown: [...hostOnly, ...tail.unknown] };
  };

  const globals = () => resolveGlobalOptions(program.opts<{ home?: string; codexBin?: string; daemon?: boolean }>(), io);
  const color = () => program.opts<{ color: boolean }>().color && !io.env.NO_COLOR;

  // With no command: the operations view. A word that is no command is a usage error, said
  // as such (commander would call it an excess argument once the root has an action).
  program.usage('[options] [command]').argument('[command]').action(async (command?: string) => {
    if (command !== undefined) {
      const known = program.commands.map((c) => c.name());
      const near = closest(command, known);
      program.error(`error: unknown command '${command}'${near ? `\n(Did you mean ${near}?)` : ''}`, { code: 'commander.unknownCommand', exitCode: 2 });
    }
    await (await fullScreen()).tuiCommand(globals(), { color: color() }, io);
  });

  program
    .command('attach')
    .description('the operations view of the running daemon (quitting leaves it running)')
    .action(async () => (await fullScreen()).attachCommand(globals(), { color: color() }, io));

  const daemon = program.command('daemon').description('run the supervisor in the background; the TUI and commands attach to it');
  daemon
    .command('start')
    .description('start the daemon in the background and wait until it answers')
    .action(async () => daemonStart(globals(), io));
  daemon
    .command('run')
    .description('run the daemon in the foreground (for systemd or tmux)')
    .action(async () => daemonRun(globals(), io));
  daemon
    .command('stop')
    .description("stop the daemon gracefully: state saved; turns of private app-servers get --grace seconds, then are interrupted (Codex's daemon keeps its own)")
    .option('--grace <seconds>', 'how long running turns of private app-servers may take to finish', '10')
    .action(async (opts: { grace: string }) => daemonStop(globals(), { graceSeconds: graceSeconds(opts.grace) }, io));
  daemon
    .command('status')
    .description('pid, uptime, socket and workspaces of the daemon (exit 1 when none runs)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      outcome.exitCode = await daemonStatus(globals(), opts, io);
    });

  program
    .command('demo')
    .description('the offline demo: real codex app-servers, an embedded mock model, three scripted workspaces')
    .action(async () => (await fullScreen()).demoCommand(globals(), { color: color() }, io));

  program
    .command('doctor')
    .description("connect to every host's codex app-server as the supervisor would; report transport, version and ping")
    .option('--json', 'print the report as JSON')
    .action(async (opts: { json?: boolean }) => doctorCommand(globals(), opts, io));

  program
    .command('status')
    .description('workspaces, threads with their current task, last activity, next step and blockers, open signals')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }) => statusCommand(globals(), opts, io));

  program
    .command('feed')
    .description('the cross-workspace activity feed')
    .option('--needs-input', 'only entries that wait for you (approvals, questions)')
    .option('--workspace <name>', 'only this workspace')
    .option('--limit <n>', 'at most this many entries (the newest)', parsePositiveInt)
    .option('--json', 'print the entries as JSON (with --follow: one JSON object per line)')
    .option('--follow', 'keep printing new entries as they come (Ctrl-C stops)')
    .action(async (opts: { json?: boolean; needsInput?: boolean; workspace?: string; limit?: string; follow?: boolean }) => feedCommand(globals(), opts, io));

  program
    .command('approve')
    .description('answer approvals that wait (as `3` in the TUI does): one by its KEY (see status --json or the error listing them), or --all')
    .argument('[key]', 'the approval key, e.g. api#3')
    .option('--all', 'every approval that waits')
    .addOption(new Option('--decision <decision>', 'how to answer').choices([...APPROVAL_DECISIONS]).default('accept'))
    .option('--json', 'print {decision, answered, skipped} as JSON')
    .action(async (key: string | undefined, opts: ApproveCliOptions) => {
      outcome.exitCode = await approveCommand(globals(), key, opts, io);
    });

  program
    .command('interrupt')
    .description("stop a thread's running turn")
    .argument('<id>', 'the thread id, or its last characters as feed, dispatch and status show them')
    .option('--json', 'print {threadId, turnId, workspace, interrupted} as JSON')
    .action(async (thread: string, opts: { json?: boolean }) => {
      outcome.exitCode = await interruptCommand(globals(), thread, opts, io);
    });

  const THREAD_ARG = 'the thread id, or its last characters as feed, dispatch and status show them';
  /** Without a daemon the turn would end with the command: it waits for it (up to this long). */
  const turnTimeout = () => new Option('--timeout <seconds>', 'without a daemon, how long to wait for the turn before interrupting it (default 600)').argParser(parsePositiveInt);

  program
    .command('reply')
    .description("send a thread new instructions: a new turn when it is idle, added to its running turn otherwise (as `r` in the TUI)")
    .argument('<id>', THREAD_ARG)
    .argument('<text...>', 'what to tell the agent (the words are joined with spaces)')
    .addOption(turnTimeout())
    .option('--json', 'print {threadId, turnId, mode, workspace} as JSON (mode: started or steered)')
    .action(async (thread: string, text: string[], opts: TurnCliOptions) => {
      outcome.exitCode = await replyCommand(globals(), thread, text, opts, io);
    });

  program
    .command('retry')
    .description("send the input of a thread's failed or interrupted last turn again, as a new turn (as `R` in the TUI)")
    .argument('<id>', THREAD_ARG)
    .addOption(turnTimeout())
    .option('--json', 'print {threadId, turnId, mode, workspace} as JSON')
    .action(async (thread: string, opts: TurnCliOptions) => {
      outcome.exitCode = await retryCommand(globals(), thread, opts, io);
    });

  program
    .command('thread')
    .description('look at one thread: `thread show <id>` prints its transcript')
    .command('show')
    .description("a thread's transcript: its turns, oldest first, and their items (messages, commands, file changes), as its host keeps them")
    .argument('<id>', THREAD_ARG)
    .option('--json', 'print {threadId, workspace, title, turns: [{id, status, startedAtMs, completedAtMs, error, items: [{id, type, text, status}]}]} as JSON')
    .action(async (thread: string, opts: { json?: boolean }) => {
      outcome.exitCode = await threadShowCommand(globals(), thread, opts, io);
    });

  program
    .command('diff')
    .description("the files a thread's latest turn changed (+/- lines) and its unified diff (as `D` in the TUI)")
    .argument('<id>', THREAD_ARG)
    .option('--json', 'print {threadId, turnId, diff, files: [{path, added, removed}]} as JSON')
    .action(async (thread: string, opts: { json?: boolean }) => {
      outcome.exitCode = await diffCommand(globals(), thread, { ...opts, color: color() }, io);
    });

  program
    .command('archive')
    .description("archive a thread in Codex: it leaves every view (Codex keeps it among its archived threads)")
    .argument('<id>', THREAD_ARG)
    .option('--json', 'print {threadId, workspace, archived} as JSON')
    .action(async (thread: string, opts: { json?: boolean }) => {
      outcome.exitCode = await archiveCommand(globals(), thread, opts, io);
    });

  program
    .command('dispatch')
    .description('validate a plan file and dispatch its actions to their workspaces in one cycle, then wait for the turns')
    .addOption(new Option('--plan <file>', 'the plan (JSON, see `cm-supervisor schema`); - reads stdin').makeOptionMandatory())
    .option('--dry-run', 'validate and resolve the targets, start no turn')
    .option('--force', 'dispatch again actions that were already dispatched')
    .option('--retry-failed', 'dispatch again only the actions whose earlier turn was lost (interrupted, its app-server died, unknown to Codex) or failed; completed and running ones stay skipped')
    .addOption(timeoutOption())
    .addOption(onApprovalOption())
    .addOption(allowUnsafeOption())
    .option('--json', 'print {plan, results} (or {errors}) as JSON')
    .addHelpText(
      'after',
      `
Re-running a plan sends only what was not sent before (the home's dispatch ledger, shared by every
process). An action dispatched before is "skipped" when its turn completed or still runs, and
"interrupted (turn lost: …)" (exit 1) when it did not: its app-server died, it was interrupted, or
Codex does not know it. --retry-failed sends those lost or failed actions again, and only them.`,
    )
    .action(async (opts: DispatchCliOptions) => {
      outcome.exitCode = await dispatchCommand(globals(), opts, io);
    });

  program
    .command('chat')
    .description('one line of the chat with the supervisor: a command (/help) or a request the planner turns into a plan')
    .argument('<text>', 'a /command, "@<workspace> <message>", or a free-form request')
    .option('--yes', 'dispatch the proposed plan without asking')
    .addOption(timeoutOption())
    .addOption(onApprovalOption())
    .addOption(allowUnsafeOption())
    .option('--json', 'print {status, messages, proposal, results} as JSON')
    .action(async (text: string, opts: ChatCliOptions) => {
      outcome.exitCode = await chatCommand(globals(), text, opts, io);
    });

  program
    .command('schema')
    .description('print the JSON Schema of plan files (for editors and planners): both versions, or the one named')
    .addArgument(new Argument('[version]', 'plan format version: 2 (dependencies, retries, worktrees, reviews) or 1').choices(PLAN_VERSIONS.map(String)))
    .action((version: string | undefined) => schemaCommand(version === undefined ? undefined : (Number(version) as PlanVersion), io));

  const host = program.command('host').description('configure the hosts (machines) that run app-servers; `local` is this machine');
  hostSettingOptions(host.command('add <name> <url>').description('add an ssh host: URL is ssh://[user@]host[:port]')).action(
    (name: string, url: string, opts: HostCliOptions) => hostAdd(globals(), name, url, opts, io),
  );
  hostSettingOptions(host.command('set <name>').description('change a host (also `local`); a repeated option replaces its list'))
    .option('--url <url>', 'move the host to ssh://[user@]host[:port]')
    .option('--clear-ssh-options', 'remove all ssh options (before any --ssh-option given with it)')
    .option('--clear-env', 'remove all environment variables (before any --env given with it)')
    .action((name: string, opts: HostSetCliOptions) => hostSet(globals(), name, opts, io));
  host
    .command('list')
    .description('the hosts with their settings and workspaces (environment names only, never values)')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) => hostList(globals(), opts, io));
  host
    .command('remove <name>')
    .description('remove a host no workspace uses')
    .action((name: string) => hostRemove(globals(), name, io));

  const workspace = program.command('workspace').description('configure the workspaces (repositories) to supervise');
  workspace
    .command('add <target>')
    .description('supervise the repository at [HOST:]PATH: a local path, or an absolute path on an ssh host (`build1:/srv/repo`)')
    .option('--name <name>', 'workspace name (default: the directory name)')
    .action(async (target: string, opts: { name?: string }) => workspaceAdd(globals(), target, opts, io));
  workspace
    .command('list')
    .description('list the configured workspaces and their hosts')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) => workspaceList(globals(), opts, io));
  workspace
    .command('remove <name>')
    .description('stop supervising a workspace')
    .action((name: string) => workspaceRemove(globals(), name, io));

  const worktree = program.command('worktree').description("the git worktrees of plan actions with \"worktree\" (under <home>/worktrees): list them, remove them");
  worktree
    .command('list')
    .description('each worktree: plan/action, workspace, branch, clean or dirty, what changed since it was made (untracked files included), path')
    .option('--json', 'print [{plan, action, workspace, path, branch, baseCommit, state, dirty, diffstat, problem}] as JSON')
    .action(async (opts: { json?: boolean }) => {
      outcome.exitCode = await worktreeList(globals(), opts, io);
    });
  worktree
    .command('remove')
    .description('remove worktrees (git worktree remove): one by PLAN/ACTION or path, a plan\'s, or all; a dirty one only with --force')
    .argument('[worktree]', 'PLAN/ACTION as `worktree list` shows it, or the worktree\'s path')
    .option('--plan <plan>', 'every worktree of this plan')
    .option('--all', 'every worktree of this home')
    .option('--force', 'also remove worktrees with uncommitted or untracked files (they are lost)')
    .option('--delete-branch', 'delete their branches too (git branch -D)')
    .option('--json', 'print {removed: [{plan, action, path, branch, branchDeleted}], refused: [{plan, action, path, reason}]} as JSON')
    .action(async (ref: string | undefined, opts: WorktreeRemoveCliOptions) => {
      outcome.exitCode = await worktreeRemove(globals(), ref, opts, io);
    });

  // Sub-commands inherit the output and error handling of the root.
  const inherit = (command: Command) => {
    command.configureOutput({ writeOut: io.out, writeErr: io.err }).exitOverride().showHelpAfterError();
    command.commands.forEach(inherit);
  };
  program.commands.forEach(inherit);
  return program;
}
