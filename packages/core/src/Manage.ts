import { EventEmitter } from 'node:events';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type ManageConfig, type ManageOptions, resolveManageConfig } from './config.js';
import type { GroupSource } from './control/protocol.js';
import { type BackgroundOptions, type DaemonGroup, validateBackgroundOptions } from './daemon/options.js';
import { daemonRole } from './daemon/role.js';
import { ConfigError, DroverError, NotRunningError } from './errors.js';
import type { Logger } from './log/Logger.js';
import { type RotationOptions, resolveRotation } from './log/rotation.js';
import { type LaunchSpec, selfLaunch } from './master/launch.js';
import type { BroadcastResult, Master } from './master/Master.js';
import type { EnvUpdate } from './master/workerEnv.js';
import {
  MASTER_EVENT_NAMES,
  type ManageEvents,
  type ReloadResult,
  type ScaleResult,
  type StopOutcome,
} from './master/events.js';
import { Process } from './process/Process.js';
import { defaultRunDir, groupPaths } from './runtime/RunDir.js';
import type { GroupStatus } from './status.js';
import { type MasterSide, masterSide } from './masterSide.js';
import { formatTitle } from './title.js';
import { currentRuntime } from './worker/current.js';
import type { Work, WorkInit } from './worker/WorkerRuntime.js';

export type { BroadcastResult } from './master/Master.js';

export interface ManageDeps {
  /** Where life-cycle events and worker output go. Default: the terminal. */
  logger?: Logger;
  /** What workers run. Default: this script again (process.argv[1]) with the same arguments. */
  launch?: LaunchSpec;
  /** End the process after a stop by signal or when all workers finished. Default true. */
  exitProcess?: boolean;
  /**
   * The log files of background mode: rotation (default `10M`, `1d`, 14 files) and a separate
   * error file. What is set here wins over the options' `logRotation` and `separateErrorFile`.
   */
  logFiles?: LogFileOptions;
  /**
   * The config file entry this group was made from (`manageFromEntry` sets it): the master names
   * it to `drover reload|restart --update-env`, which reads the entry's `env` again.
   */
  source?: GroupSource;
}

/**
 * Options of `reload()` and `restart()`: how long to wait for a remote master, and an environment
 * update (see EnvUpdate: `env` replaces the environment workers start from, `configEnv` the
 * group's own `env` on top of it). Without `env` and `configEnv` the workers keep the environment
 * they have, including one set by an earlier update.
 */
export interface ReloadOptions extends EnvUpdate {
  timeoutMs?: number;
}

export interface LogFileOptions {
  /** `false`: one file that grows without limit */
  rotation?: RotationOptions | false;
  /** error and fatal records also go to `<baseTitle>.error.log`; default false */
  separateErrorFile?: boolean;
}

export interface ShowStatusOptions {
  /** print the data as JSON instead of the table */
  json?: boolean;
  /** colours; default: on for a terminal, as the log's terminal output decides */
  color?: boolean;
}

/** How a master is run in this process (ManageMultiple runs several in one). */
export interface MasterRunOptions {
  /** log to the group's log file instead of the terminal */
  fileLog: boolean;
  /** set the process title to this group's master title; default true */
  ownTitle?: boolean;
  /** a logger to use unless the group was given its own */
  logger?: Logger;
}

/**
 * One task, N workers. The same script runs as master and as worker: in the master `start()`
 * forks the workers and resolves when all are ready; in a worker of this group it runs
 * `setWorkInit` once and `setWork` in a loop, and does not return (the worker exits when asked).
 *
 * ```ts
 * const manage = new Manage({ baseTitle: 'mailer', maxWorkerNum: 4 })
 *   .setWorkInit(async (worker) => ({ db: await connect() }))
 *   .setWork(async (worker, { db }) => { await sendOne(db, worker.signal); });
 * await manage.start();
 * ```
 *
 * From any other process, `stop()`, `reload()`, `restart()`, `scale()` and `status()` reach the
 * running master of the same `baseTitle` through its control socket.
 */
export class Manage<R = unknown> extends EventEmitter<ManageEvents> {
  readonly config: ManageConfig;
  private init?: WorkInit<R>;
  private work?: Work<R>;
  private master: Master | null = null;
  /** a start() under way in this process: a second call while it runs shares it */
  private starting: Promise<number> | null = null;
  /** the same for the master a ManageMultiple starts here */
  private startingMaster: Promise<number> | null = null;
  /** this process's master of the group has stopped: every worker finished, or a stop */
  private masterStopped = false;
  private readonly deps: ManageDeps;
  private background = false;
  private backgroundOptions: BackgroundOptions = {};

  /** An async listener whose promise rejected: logged by the master, as one that throws is. */
  override [EventEmitter.captureRejectionSymbol](err: unknown, event: unknown, ..._args: unknown[]): void {
    if (this.master) this.master.listenerFailed(event, err);
    else
      process.emitWarning(
        `a '${String(event)}' listener of '${this.config.baseTitle}' failed: ${String(err)}`,
      );
  }

  constructor(options: ManageOptions, deps: ManageDeps = {}) {
    // an async listener's rejection comes to [captureRejectionSymbol], not to an unhandled rejection
    super({ captureRejections: true });
    this.config = resolveManageConfig(options);
    this.deps = deps;
    // a bad rotation fails here, not later in a daemon
    if (deps.logFiles?.rotation !== undefined) resolveRotation(deps.logFiles.rotation, 'logRotation');
  }

  /**
   * Runs once per worker process before the first execution; its result is passed to every
   * execution (and typed so: `setWork`'s second parameter is what `init` resolves to).
   */
  setWorkInit<T>(init: WorkInit<T>): Manage<T> {
    if (typeof init !== 'function')
      throw new ConfigError('setWorkInit()', init, 'a function (worker) => resources, run once per worker');
    const typed = this as unknown as Manage<T>;
    typed.init = init;
    return typed;
  }

  /** One execution. Repeated until a stop, a recycle or `worker.done()`. */
  setWork(work: Work<R>): this {
    if (typeof work !== 'function')
      throw new ConfigError('setWork()', work, 'a function (worker, resources) => void, one execution');
    this.work = work;
    return this;
  }

  get baseTitle(): string {
    return this.config.baseTitle;
  }

  /** True in a worker process of this group. */
  get isWorker(): boolean {
    return currentRuntime()?.group === this.config.baseTitle;
  }

  /** True in the process that runs this group's master. */
  get isMaster(): boolean {
    return this.master !== null;
  }

  /**
   * The group's master ran in this process and has stopped (its `stop` event): every worker
   * finished, or a stop. ManageMultiple skips such a group as not running.
   * @internal
   */
  get stoppedHere(): boolean {
    return this.masterStopped;
  }

  /**
   * Daemonise `start()`: the launching process starts a detached copy of itself that runs the
   * master, logging to `logFile()`, and `start()` resolves with the daemon's pid once all workers
   * are ready and stayed up for `settleMs` (see BackgroundOptions); it rejects with the reason and
   * the log's last lines otherwise.
   */
  setBackground(on = true, opts: BackgroundOptions = {}): this {
    this.backgroundOptions = validateBackgroundOptions(opts);
    this.background = on;
    return this;
  }

  get isBackground(): boolean {
    return this.background;
  }

  /** The run directory of this group's pid file, socket and lock. */
  runDir(): string {
    return this.config.runDir ?? defaultRunDir();
  }

  /** `<logDir>/<baseTitle>.log`: where the group logs in background mode. */
  logFile(): string {
    const dir = this.config.logDir ?? join(this.runDir(), 'logs');
    return join(dir, `${this.config.baseTitle}.log`);
  }

  /**
   * Starts the group and resolves with its master's pid. In the foreground this process becomes
   * the master and `start()` resolves when every worker is ready; with `setBackground()` a daemon
   * becomes the master (see there). In a worker of this group it runs the worker side and never
   * resolves; in a worker of another group, or in a daemon started for other groups, it does nothing.
   * A second call while one is under way shares it; in the foreground, so does one after it
   * resolved (in the background, that one finds the group running: EALREADYRUNNING).
   */
  async start(): Promise<number> {
    const runtime = currentRuntime();
    if (runtime) {
      // A worker of another group in the same script: nothing to do here.
      if (runtime.group !== this.config.baseTitle) return 0;
      if (this.work) await runtime.runLoop(this.init, this.work);
      else await runtime.runPlain(this.init);
      // The worker's life ends with process.exit; code after start() is master-only.
      return new Promise<never>(() => {});
    }
    if (this.master) {
      await this.master.start();
      return process.pid;
    }
    // set before the first await: a second call must not build a second master (or daemon), whose
    // failure would remove the running group's run files
    this.starting ??= this.startOnce().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async startOnce(): Promise<number> {
    const role = daemonRole();
    if (role.isDaemon) {
      // A daemon runs the groups it was started for; the others run elsewhere.
      if (!role.groups.has(this.config.baseTitle)) return this.recordedPid(await masterSide());
      return this.startMaster({ fileLog: true });
    }
    if (this.background) {
      const { startDaemon } = await masterSide();
      return startDaemon({
        title: formatTitle(this.config.titlePrefix, 'Master', this.config.baseTitle),
        groups: [this.daemonGroup()],
        ...this.backgroundOptions,
      });
    }
    return this.startMaster({ fileLog: false });
  }

  /**
   * Runs this group's master in this process.
   * @internal ManageMultiple's entry; use start().
   */
  async startMaster(opts: MasterRunOptions): Promise<number> {
    if (this.master) {
      await this.master.start();
      return process.pid;
    }
    this.startingMaster ??= this.runMaster(opts).finally(() => {
      this.startingMaster = null;
    });
    return this.startingMaster;
  }

  private async runMaster(opts: MasterRunOptions): Promise<number> {
    const side = await masterSide();
    const ownLogger = this.deps.logger ?? opts.logger;
    const logger = ownLogger ?? this.defaultLogger(side, opts.fileLog);
    const master = new side.Master({
      config: this.config,
      launch: this.deps.launch ?? selfLaunch(),
      logger,
      exitProcess: this.deps.exitProcess,
      setTitle: opts.ownTitle ?? true,
      source: this.deps.source,
      ...(ownLogger === undefined && opts.fileLog ? { logFile: this.logFile() } : {}),
    });
    master.once('stop', () => {
      this.masterStopped = true;
    });
    for (const name of MASTER_EVENT_NAMES) {
      master.on(name, (...args: unknown[]) =>
        (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args),
      );
    }
    this.master = master;
    try {
      await master.start();
    } catch (err) {
      // the reason must be in the log before a daemon exits
      await logger.flush().catch(() => {});
      throw err;
    }
    return process.pid;
  }

  /**
   * What a launcher needs to start and watch this group in a daemon.
   * @internal
   */
  daemonGroup(): DaemonGroup {
    return {
      baseTitle: this.config.baseTitle,
      runDir: this.runDir(),
      socket: groupPaths(this.runDir(), this.config.baseTitle).socket,
      logFile: this.logFile(),
      logInRunDir: this.config.logDir === undefined,
      readyTimeout: this.config.readyTimeout,
    };
  }

  private defaultLogger(side: MasterSide, fileLog: boolean): Logger {
    const { baseTitle, logLevel } = this.config;
    if (!fileLog) return new side.Logger({ baseTitle, level: logLevel, sinks: [new side.ConsoleSink()] });
    const file = this.logFile();
    const sink = side.FileSink.open({
      dir: join(file, '..'),
      baseTitle,
      rotation: this.deps.logFiles?.rotation ?? this.config.logRotation,
      separateErrorFile: this.deps.logFiles?.separateErrorFile ?? this.config.separateErrorFile,
      inRunDir: this.config.logDir === undefined,
    });
    return new side.Logger({ baseTitle, level: logLevel, sinks: [sink] });
  }

  /** pid of this group's master from its pid file, 0 when none is known. */
  private recordedPid({ readPidFile, isRecordLive }: MasterSide): number {
    try {
      const record = readPidFile(groupPaths(this.runDir(), this.config.baseTitle).pidFile);
      return record && isRecordLive(record) ? record.pid : 0;
    } catch {
      return 0;
    }
  }

  /**
   * Graceful stop of this group (here, or in the process that runs it). Resolves with how many
   * workers did not finish within stopTimeout and were SIGKILLed (`killed`: 0 when the master's
   * answer did not say, as from a master that ended before it answered).
   */
  async stop(opts: { timeoutMs?: number } = {}): Promise<StopOutcome> {
    if (this.master) return this.master.stop();
    return this.stopOutcomeOf(await this.remote<Partial<StopOutcome> | undefined>('stop', undefined, opts));
  }

  /** A remote master's answer as a StopOutcome: one that does not say (older, or none) killed none. */
  private stopOutcomeOf(answer: Partial<StopOutcome> | null | undefined): StopOutcome {
    return {
      killed: typeof answer?.killed === 'number' ? answer.killed : 0,
      stopTimeout: typeof answer?.stopTimeout === 'number' ? answer.stopTimeout : this.config.stopTimeout,
    };
  }

  /**
   * Rolling reload: each worker is replaced once its successor is ready. With `env` (and
   * `configEnv`), the new workers and every later one run with that environment, once the reload
   * completes: a reload that aborts (`aborted: true`) keeps the environment the group had.
   */
  async reload(opts: ReloadOptions = {}): Promise<ReloadResult> {
    if (this.master) return this.master.reload(envUpdateOf(opts));
    return this.remote<ReloadResult>('reload', envArgsOf(opts), opts);
  }

  /**
   * Stops all workers, then starts them all again. Rejects with `EENTRY`, nothing stopped, when
   * no worker could start from the group's script now (gone, unreadable, a syntax error that
   * `node --check` finds); with `ENOTREADY`, naming the PINs,
   * when some new workers did not become ready (they are started again with backoff), and with
   * `ESTOPPING` when the group is stopping. With `env` (and `configEnv`) the new workers and every
   * later one run with that environment, even when some of them do not become ready. Resolves
   * with how the stop of the old workers went (`killed` at stopTimeout), as `stop()`.
   */
  async restart(opts: ReloadOptions = {}): Promise<StopOutcome> {
    if (this.master) return this.master.restart(envUpdateOf(opts));
    return this.stopOutcomeOf(
      await this.remote<Partial<StopOutcome> | undefined>('restart', envArgsOf(opts), opts),
    );
  }

  /**
   * Sets the number of workers: new PINs start, the highest stop. The count applies even when a
   * new PIN does not become ready; the call then rejects with `ENOTREADY` naming it (it is started
   * again with backoff), and with `ESTOPPING` when the group is stopping. `killed` counts the
   * workers of a scale down that did not finish within stopTimeout and were SIGKILLed.
   */
  async scale(workers: number, opts: { timeoutMs?: number } = {}): Promise<ScaleResult> {
    if (this.master) return this.master.scale(workers);
    return this.remote('scale', { workers }, opts);
  }

  /** Status of the master and every worker. */
  async status(opts: { timeoutMs?: number } = {}): Promise<GroupStatus> {
    if (this.master) return this.master.getAllStatus();
    return this.remote<GroupStatus>('status', undefined, opts);
  }

  getAllStatus(): Promise<GroupStatus> {
    return this.status();
  }

  /**
   * Writes this group's status to `out` (default stdout): the table, or JSON with `json`; resolves
   * with the status it wrote.
   */
  async showStatus(
    out: NodeJS.WritableStream = process.stdout,
    opts: ShowStatusOptions = {},
  ): Promise<GroupStatus> {
    const status = await this.status();
    await writeStatus(out, [status], opts, status);
    return status;
  }

  /**
   * Sends a structured value to every worker serving a PIN (master side); see `sendTo` for what
   * happens to it. A worker that does not read its messages fast enough (the backlog the master
   * holds for it is full) is skipped, as `sendTo` to it returns false. Returns the PINs it was sent
   * to (`sent`) and those skipped (`skipped`); a PIN without a process (in backoff, failed) is in
   * neither. Throws a DroverError `EPAYLOAD`, sending it to none, for a value JSON cannot carry (a
   * BigInt, a cycle, a function).
   */
  broadcast(data: unknown): BroadcastResult {
    return this.requireMaster('broadcast').broadcast(data);
  }

  /**
   * Sends a structured value to the process serving `pin` (master side): during a reload, the old
   * one until its successor is ready. True once the message is queued for a live process (it is
   * not Node's back-pressure hint: do not send it again); false when the PIN has no process (none,
   * in backoff, failed), or when its process does not read its messages as fast as they come: the
   * master holds at most 10,000 messages or 16 MiB for one worker (its event loop blocked, its
   * process stopped, not ready yet, or slower than the sender), logs it once with why, and refuses
   * more until it read down to half (docs/manage.md, "Messages"). True means handed over, not
   * read: a process still starting gets it once ready, and one that dies first (a crash, a failed
   * init) loses it, as any IPC message; `workerExit` says so. Messages to one worker arrive in
   * the order sent. Throws a DroverError: `EINVAL` for a PIN that is not an integer >= 0 (such as
   * the string `'0'`), `EPAYLOAD` for a value JSON cannot carry (a BigInt, a cycle, a function).
   */
  sendTo(pin: number, data: unknown): boolean {
    return this.requireMaster('sendTo').sendTo(pin, data);
  }

  private requireMaster(what: string): Master {
    if (!this.master) {
      throw new DroverError(
        'ENOTMASTER',
        `drover: ${what}() needs the master of '${this.config.baseTitle}' in this process`,
        {
          hint: 'call it after start() resolved, in the master',
        },
      );
    }
    return this.master;
  }

  /**
   * One request to this group's master through its socket. `timeoutMs` (default 60 s) bounds the
   * wait; stop, restart, reload and scale wait on while the master still answers.
   */
  private async remote<T>(cmd: string, args: object | undefined, opts: { timeoutMs?: number }): Promise<T> {
    const runDir = this.runDir();
    const paths = groupPaths(runDir, this.config.baseTitle);
    const side = await masterSide();
    const { ControlClient, runningGroups } = side;
    const address = {
      baseTitle: this.config.baseTitle,
      socket: paths.socket,
      livePid: () => this.recordedPid(side) || null,
    };
    const client = await ControlClient.connectGroup(address).catch(async (err: { code?: string }) => {
      if (err.code === 'ENOTRUNNING') {
        const others = await runningGroups(runDir).catch(() => []);
        throw new NotRunningError(
          this.config.baseTitle,
          others.map((g) => g.baseTitle).filter((name) => name !== this.config.baseTitle),
        );
      }
      throw err;
    });
    const masterPid = address.livePid();
    try {
      return await client.request<T>(cmd, args, {
        // Stopping workers takes up to stopTimeout, a rolling reload longer: wait while the master
        // answers pings, checked from 10 s on, so a hung master is reported within seconds.
        timeoutMs: opts.timeoutMs ?? (LONG_COMMANDS.has(cmd) ? 10_000 : 60_000),
        whileAlive: LONG_COMMANDS.has(cmd),
        // a master that closed its socket to exit answers (or closes the connection) soon after
        masterPid,
      });
    } catch (err) {
      if ((err as { code?: string }).code !== 'ECONNCLOSED' || masterPid === null) throw err;
      // taken at once, before another command's discovery removes what a dead master left
      const socketLeft = isSocket(paths.socket);
      await this.afterClosedConnection(cmd, err as Error, masterPid, opts.timeoutMs, () => {
        if (socketLeft) return true;
        try {
          return side.readPidFile(paths.pidFile)?.pid === masterPid;
        } catch {
          return false;
        }
      });
      return undefined as T;
    } finally {
      client.close();
    }
  }

  /**
   * The master of process `pid` closed the connection of `cmd` without an answer. A stop already
   * under way (a signal) ends the master before it answers this one: a master that then exits
   * having removed its socket and pid file (`runFilesLeft()` false) has done what was asked, and
   * this resolves. A master that dies (SIGKILL, a crash) leaves them: that is said, as is any
   * master gone before it answered another command. A master still alive throws `err`.
   */
  private async afterClosedConnection(
    cmd: string,
    err: Error,
    pid: number,
    timeoutMs: number | undefined,
    runFilesLeft: () => boolean,
  ): Promise<void> {
    // a master that closes its connections once its stop is done exits right after; a killed one is gone already
    if (!(await exitsWithin(pid, cmd === 'stop' ? (timeoutMs ?? MASTER_EXIT_MS) : DEATH_CHECK_MS))) throw err;
    const name = this.config.baseTitle;
    const request = LONG_COMMANDS.has(cmd) ? `finished the ${cmd}` : `answered the ${cmd} request`;
    if (runFilesLeft()) {
      const what =
        cmd === 'stop'
          ? 'ended before it finished the stop (killed?), so its workers did not stop gracefully'
          : `ended before it ${request} (killed?), and its workers with it`;
      throw new DroverError(
        'EMASTERENDED',
        `drover: the master of '${name}' (pid ${pid}) ${what}: a worker whose master is gone ends within a second, its execution done or not`,
        {
          hint: `'drover logs ${name}' shows how far it got; the group no longer runs ('drover start' starts it again)`,
          cause: err,
        },
      );
    }
    if (cmd === 'stop') return;
    throw new DroverError(
      'EMASTERENDED',
      `drover: the master of '${name}' (pid ${pid}) stopped before it ${request}: a stop came first`,
      { hint: `the group no longer runs ('drover start' starts it again)`, cause: err },
    );
  }
}

/** The environment update of reload or restart options, undefined when they carry none. */
function envUpdateOf(opts: ReloadOptions): EnvUpdate | undefined {
  if (opts === null || typeof opts !== 'object') return undefined;
  const { env, configEnv } = opts;
  return env === undefined && configEnv === undefined ? undefined : { env, configEnv };
}

/** The same as request arguments for a remote master: none without an update (older masters take none). */
function envArgsOf(opts: ReloadOptions): object | undefined {
  const update = envUpdateOf(opts);
  if (update === undefined) return undefined;
  return {
    ...(update.env !== undefined ? { env: update.env } : {}),
    ...(update.configEnv !== undefined ? { configEnv: update.configEnv } : {}),
  };
}

/** Resolves true once process `pid` has exited, false when it still runs after `ms`. */
async function exitsWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Process.checkAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(25);
  }
  return true;
}

/**
 * How long a stop whose connection the master closed waits for it to exit: it closes its control
 * connections last, once its workers are gone, so only its release is left.
 */
const MASTER_EXIT_MS = 10_000;
/**
 * How long another command whose connection the master closed looks for its death: a killed
 * master is gone at once, and a live one closes a connection only after answering what it read.
 */
const DEATH_CHECK_MS = 500;

/** Whether `path` is a socket file now (not followed if a symlink). */
function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

/** Commands that wait for workers to stop or start: worth waiting for while the master is alive. */
const LONG_COMMANDS: ReadonlySet<string> = new Set(['stop', 'restart', 'reload', 'scale']);

/**
 * Writes a status: `json` prints `data` as JSON; otherwise the table of `groups`, fitted to the
 * terminal's width when `out` is one.
 */
export async function writeStatus(
  out: NodeJS.WritableStream,
  groups: GroupStatus[],
  opts: ShowStatusOptions,
  data: unknown,
): Promise<void> {
  const { renderStatusTable, colorWanted } = await masterSide();
  const text = opts.json
    ? `${JSON.stringify(data, null, 2)}\n`
    : renderStatusTable(groups, {
        color: opts.color ?? colorWanted(out),
        width: (out as { columns?: number }).columns,
      });
  await new Promise<void>((resolve, reject) => {
    out.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
