import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { basename } from 'node:path';
import { isatty } from 'node:tty';
import type { ManageConfig } from '../config.js';
import { ControlServer } from '../control/ControlServer.js';
import { type GroupSource, MASTER_MAX_LINE_BYTES, type ReloadArgs } from '../control/protocol.js';
import { AlreadyRunningError, DroverError, describeValue } from '../errors.js';
import {
  ENVELOPE_VAR,
  type MasterMessage,
  type StopSignal,
  type WorkerEnvelope,
  type WorkerMessage,
} from '../ipc/messages.js';
import type { Logger } from '../log/Logger.js';
import { OutputCapture } from '../log/OutputCapture.js';
import { OomKillWatch } from '../process/OomKills.js';
import { CpuSampler, isStoppedState, Process } from '../process/Process.js';
import { endProcesses } from '../process/tree.js';
import { InstanceLock } from '../runtime/InstanceLock.js';
import {
  checkPidFilePath,
  entombPidFile,
  type GroupEnd,
  isRecordLive,
  MAX_END_PINS,
  readPidFile,
  recordGroupEnd,
  removePidFile,
  writePidFile,
} from '../runtime/PidFile.js';
import { defaultRunDir, ensurePrivateDir, type GroupPaths, groupPaths } from '../runtime/RunDir.js';
import type {
  EnvUpdateStatus,
  ExitReason,
  GroupStatus,
  MasterStatus,
  PinProcessStatus,
  ReloadStatus,
  WorkerStatus,
} from '../status.js';
import { formatTitle, setOwnTitle, withoutTitleOption } from '../title.js';
import { VERSION } from '../version.js';
import { optionsStatus, runStatus } from './describeGroup.js';
import { entryProblem, nodeOptionsWords } from './entryCheck.js';
import { bootstrapArgs, type LaunchSpec } from './launch.js';
import { resolveWorkerIdentity } from './privileges.js';
import { type ReapTarget, Reaper } from './Reaper.js';
import { RestartPolicy } from './RestartPolicy.js';
import { type RunFiles, RunFilesKeeper } from './RunFilesKeeper.js';
import { type SignalTarget, SignalRouter } from './SignalRouter.js';
import { BACKLOG_MAX_BYTES, BACKLOG_MAX_MESSAGES, type BacklogFull, WorkerHandle } from './WorkerHandle.js';
import { checkPin, checkUserMessage } from './userMessage.js';
import { WorkerSlot } from './WorkerSlot.js';
import { workerDirectoryProblem } from './workerDirectory.js';
import {
  applyEnvChange,
  changedNames,
  checkEnvUpdate,
  type EnvChange,
  type EnvUpdate,
  forkEnv,
  type WorkerEnv,
} from './workerEnv.js';
import {
  ALL_FINISHED_NOTICE,
  type MasterEvents,
  RELOAD_STOPPING,
  type ReloadResult,
  type ScaleResult,
  type StopOutcome,
  type WorkerInfo,
} from './events.js';
import { formatBytes, formatMs } from '../status/units.js';

/** What `broadcast` did, by PIN. */
export interface BroadcastResult {
  /** the PINs whose worker the message was queued for (as `sendTo` true: handed over, not yet read) */
  sent: number[];
  /**
   * the PINs whose live worker did not get it: it does not read its messages (the backlog the
   * master holds for it is full, as `sendTo` false), or its channel closed as it exits
   */
  skipped: number[];
}

/** A duration to a tenth of a second: `0.1s`, `3.2s`, `61.0s`. */
function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export interface MasterOptions {
  config: ManageConfig;
  launch: LaunchSpec;
  logger: Logger;
  /** End the process after a stop by signal, or when every worker finished normally. Default true. */
  exitProcess?: boolean;
  /** Set the process title to this master's title; false when several masters share the process. Default true. */
  setTitle?: boolean;
  /** The config file entry the group was made from: `ping` names it, so `--update-env` can read it again. */
  source?: GroupSource;
  /** The file `logger` writes to, when it is the group's log file (background mode): `status` names it. */
  logFile?: string;
}

const STATUS_QUERY_TIMEOUT_MS = 300;
/** What the processes a killed worker left behind get between SIGTERM and SIGKILL (stopTimeout, if shorter). */
const LEFT_BEHIND_GRACE_MS = 2000;
/**
 * Only an init reaps the processes orphaned in its PID namespace; Node waits for its own children
 * only, so under a master that is PID 1 every orphan stays a zombie, and they add up.
 */
const PID_ONE_WARNING =
  'the master is PID 1 of its PID namespace (a container without an init): processes the workers leave behind are never reaped and stay as zombies; run it under an init: docker run --init, tini, or dumb-init (docs/operations.md, "In a container")';
const OOM_KILLED =
  'the memory of the container or the machine ran out; set maxMemory (--max-memory) so that a worker is recycled before, lower what the workers hold, or raise the limit';
/** What to do about a reaper that could not start, by the spawn's error code. */
function reaperFix(code: string | undefined): string {
  if (code === 'EAGAIN')
    return "the user's or the container's limit on processes is reached (ulimit -u, docker run --pids-limit): raise it, or run fewer workers";
  if (code === 'ENOENT' || code === 'EACCES') return 'give the image a POSIX shell at /bin/sh';
  return 'check that /bin/sh can be started';
}
/** Why a group whose PINs all finished or gave up ended: undefined when none gave up. */
function gaveUpEnd(slots: readonly WorkerSlot[]): GroupEnd | undefined {
  const gaveUp = slots.filter((s) => s.failed).sort((a, b) => a.pin - b.pin);
  if (gaveUp.length === 0) return undefined;
  return {
    reason: 'gave-up',
    at: Date.now(),
    gaveUp: gaveUp.length,
    pins: gaveUp.slice(0, MAX_END_PINS).map((s) => ({
      pin: s.pin,
      restarts: s.restarts,
      lastExit: s.lastExit && {
        ...s.lastExit,
        ...(s.lastExit.error ? { error: s.lastExit.error.slice(0, MAX_END_ERROR_CHARS) } : {}),
      },
    })),
  };
}
/** Said once per process, however many groups it runs. */
let pidOneWarned = false;
/** An error's first line kept in a `<name>.ended` record: the record stays a small file. */
const MAX_END_ERROR_CHARS = 500;

/** The fix of a start that timed out, in the config key's name and the flag's. */
const RAISE_READY_TIMEOUT = 'raise readyTimeout (drover start --ready-timeout=60s)';

function isReady(handle: WorkerHandle): boolean {
  return handle.state === 'ready';
}

/** Resolves once `handle` is ready or has exited, whichever comes first. */
function settled(handle: WorkerHandle): Promise<void> {
  if (handle.state === 'ready' || handle.state === 'exited') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      handle.off('ready', done);
      resolve();
    };
    handle.once('ready', done);
    void handle.exited.then(done);
  });
}

/** Why a worker was not ready: the error's first part, without prefix or hint. */
function whyNotReady(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const hint = err instanceof DroverError ? err.hint : undefined;
  const text =
    hint && err.message.endsWith(`; ${hint}`) ? err.message.slice(0, -hint.length - 2) : err.message;
  return text.replace(/^drover: /, '');
}

/**
 * The master's life cycle, in one place: single-instance lock, pid file, control socket, fork,
 * respawn with backoff, recycle, rolling reload, scale, status and stop. Everything is driven by
 * events (exits, messages, signals, timers that are armed only when a limit is configured).
 */
export class Master extends EventEmitter<MasterEvents> implements SignalTarget {
  readonly config: ManageConfig;
  readonly title: string;
  private readonly launch: LaunchSpec;
  private readonly log: Logger;
  private readonly policy: RestartPolicy;
  private readonly slots = new Map<number, WorkerSlot>();
  private readonly cpu = new CpuSampler();
  /** the workers start() forked: one failing before it is ready fails the start */
  private readonly firstForks = new WeakSet<WorkerHandle>();
  private readonly router = SignalRouter.get();
  private readonly exitProcess: boolean;
  private readonly setTitle: boolean;
  private state: MasterStatus['state'] = 'starting';
  /** true until start() settles: a worker failing before ready then fails start() instead of respawning */
  private initialStart = true;
  private target: number;
  private startedAt = Date.now();
  private paths: GroupPaths | null = null;
  private lock: InstanceLock | null = null;
  private control: ControlServer | null = null;
  private runFiles: RunFilesKeeper | null = null;
  private reaper: Reaper | null = null;
  private memoryTimer: NodeJS.Timeout | null = null;
  private hangTimer: NodeJS.Timeout | null = null;
  /** when the last heartbeat check ran, on the monotonic clock */
  private lastHangCheck = 0;
  private startPromise: Promise<void> | null = null;
  private stopPromise: Promise<StopOutcome> | null = null;
  /** puts a worker's SIGKILL from outside down to the OOM killer (from the start on) */
  private oomWatch: OomKillWatch | null = null;
  /**
   * The signal the group stops on (SIGINT, SIGTERM), told to every worker with its stop: sent to
   * the whole process group, a copy reaches each worker too, which a script's own SIGTERM handler
   * must not get twice.
   */
  private stopSignal: StopSignal | undefined;
  private opChain: Promise<unknown> = Promise.resolve();
  private pendingReload: Promise<ReloadResult> | null = null;
  /** SIGTTIN / SIGTTOU not applied yet (see scaleBySignal) */
  private signalledDelta = 0;
  private signalScaleQueued = false;
  private uid?: number;
  private gid?: number;
  /** HOME, USER and LOGNAME of the account the workers run as (`user`) */
  private identityEnv: Record<string, string> = {};
  /** what workers start with: the master's environment and `env` until an update replaces them */
  private workerEnv: WorkerEnv;
  /** the environment a reload with an update gives every process it starts, until it commits */
  private pendingEnv: WorkerEnv | null = null;
  /** the environment each process was started with */
  private readonly envOf = new WeakMap<WorkerHandle, WorkerEnv>();
  /** endings of processes that workers killed outright left behind: a stop waits for them */
  private readonly leftBehindEndings = new Set<Promise<void>>();
  /** the error that maxMemory is under a fresh worker's size was logged (once: it repeats each second) */
  private maxMemoryTooLowSaid = false;
  private readonly source: GroupSource | undefined;
  private readonly logFile: string | undefined;
  /** the last environment update kept, for status */
  private envUpdate: { at: number; names: EnvUpdateStatus } | null = null;
  /** the last rolling reload that ran, for status */
  private lastReload: ReloadStatus | null = null;
  private beforeStop: (() => Promise<void>) | null = null;

  constructor(options: MasterOptions) {
    // an async listener's rejection comes to [captureRejectionSymbol], not to an unhandled rejection
    super({ captureRejections: true });
    this.config = options.config;
    this.launch = options.launch;
    this.log = options.logger;
    this.exitProcess = options.exitProcess ?? true;
    this.setTitle = options.setTitle ?? true;
    this.policy = new RestartPolicy(this.config.restart);
    this.target = this.config.maxWorkerNum;
    this.title = formatTitle(this.config.titlePrefix, 'Master', this.config.baseTitle);
    this.workerEnv = { base: null, own: this.config.env };
    this.source = options.source;
    this.logFile = options.logFile;
  }

  get stopping(): boolean {
    return this.stopPromise !== null;
  }

  /**
   * A listener that throws (a bug in a `workerExit` handler, say) is logged, and the group goes
   * on. Thrown here, it would cut short the step of the life cycle that emitted the event (a
   * respawn not made), or end the master and, through the reaper, every worker without a stop.
   */
  override emit<K extends keyof MasterEvents>(event: K, ...args: MasterEvents[K]): boolean {
    try {
      return (super.emit as (event: K, ...args: MasterEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.listenerFailed(event, err);
      return true;
    }
  }

  override [EventEmitter.captureRejectionSymbol](err: unknown, event: unknown, ..._args: unknown[]): void {
    this.listenerFailed(event, err);
  }

  /**
   * Logs a listener of `event` that threw or whose promise rejected, here or on the façade that
   * forwards this master's events.
   * @internal
   */
  listenerFailed(event: unknown, err: unknown): void {
    this.log.error(`a '${String(event)}' listener threw; the group goes on`, {
      error: err instanceof Error ? (err.stack ?? err.message) : describeValue(err),
    });
  }

  get pid(): number {
    return process.pid;
  }

  /** Takes the lock, forks every worker and resolves once all are ready (rejects with the first init failure). */
  start(): Promise<void> {
    this.startPromise ??= this.startOnce();
    return this.startPromise;
  }

  private async startOnce(): Promise<void> {
    const { config } = this;
    const identity = resolveWorkerIdentity(config.user, config.group);
    this.uid = identity.uid;
    this.gid = identity.gid;
    this.identityEnv = identity.env;
    const runDir = config.runDir ?? defaultRunDir();
    ensurePrivateDir(runDir);
    const paths = groupPaths(runDir, config.baseTitle);
    this.paths = paths;
    const lock = await InstanceLock.acquire(paths.lockName);
    if (!lock) throw new AlreadyRunningError(config.baseTitle, this.runningPid(paths), paths.lockName);
    this.lock = lock;
    try {
      const shown = this.setTitle ? setOwnTitle(this.title) : this.title;
      if (shown !== this.title) {
        this.log.notice(`process title cut to '${shown}' by the command line's length`, {
          hint: `start with 'node --title=${this.title} …' or through 'drover start' for the full title`,
        });
      }
      // Every path is checked before a worker is forked; the socket and the pid file are then
      // taken over, and the reaper started, while the workers boot (100 ms or more). Should one of
      // them fail after all (a path changed since its check), the catch stops the workers.
      if (this.uid !== undefined && this.uid !== process.getuid?.() && [0, 1, 2].some((fd) => isatty(fd))) {
        this.log.warning(`workers run as uid ${this.uid} in this terminal's session: they can write to it`, {
          hint: 'start the group in the background (drover start -d, setBackground()): a daemon has no terminal',
        });
      }
      ControlServer.checkPath(paths.socket);
      checkPidFilePath(paths.pidFile);
      const directory = workerDirectoryProblem(config.cwd);
      if (directory) {
        throw new DroverError(
          'ECWD',
          `drover: ${directory}: no worker of '${config.baseTitle}' can start there`,
          {
            hint: 'create it, or set cwd to an existing directory',
          },
        );
      }
      this.router.exitProcess = this.exitProcess;
      this.router.register(this);

      const ready: Promise<void>[] = [];
      for (let pin = 0; pin < this.target; pin++) {
        const slot = new WorkerSlot(pin);
        this.slots.set(pin, slot);
        const first = this.spawn(slot);
        this.firstForks.add(first);
        ready.push(this.whenReady(first, true));
      }
      // logged once the forks are under way: a first write to the terminal costs milliseconds
      this.log.info(`master started`, { pid: process.pid, workers: this.target });
      // the count a worker's SIGKILL from outside is checked against (cheap: two small reads)
      this.oomWatch = new OomKillWatch();
      if (process.pid === 1 && !pidOneWarned) {
        pidOneWarned = true;
        this.log.warning(PID_ONE_WARNING);
      }
      const allReady = Promise.all(ready);
      // a worker failing while the socket opens is handled below, by the await, not left unhandled
      allReady.catch(() => {});
      const control = await this.listenControl(paths.socket);
      if (this.stopping) {
        // A signal stopped the group while the socket opened; with no worker to wait for, its
        // release may be over already: take nothing over that nobody would give back.
        await control.close().catch(() => {});
        await allReady;
        throw new DroverError(
          'ESTOPPED',
          `drover: '${config.baseTitle}' was stopped while it started: a stop was requested before it was ready`,
          { hint: 'start the group again when it should run' },
        );
      }
      this.control = control;
      // what a master killed before left (its pid file) waits to be said by the next drover status
      this.entombStalePidFile(paths);
      this.writeOwnPidFile(paths);
      this.runFiles = new RunFilesKeeper(
        runDir,
        [basename(paths.pidFile), basename(paths.socket)],
        this.runFilesOf(runDir, paths),
      );
      this.runFiles.start();
      this.reaper = new Reaper(
        formatTitle(config.titlePrefix, 'Reaper', config.baseTitle),
        undefined,
        this.logFile ? { file: this.logFile, baseTitle: config.baseTitle } : undefined,
        (err) =>
          this.log.warning(
            `the reaper cannot start (/bin/sh: ${err.code ?? err.message}): should this master be killed, a worker stuck in synchronous code outlives it; ${reaperFix(err.code)}`,
          ),
      );
      this.reaper.start();
      this.updateReaper();
      await allReady;
    } catch (err) {
      if (this.stopping) this.log.notice(`start cancelled: a stop was requested while the group started`);
      else this.log.error(`start failed: ${(err as Error).message}`);
      await this.shutdown('stop', { quiet: true });
      throw err;
    } finally {
      this.initialStart = false;
    }
    // every worker may have finished while the group started (one-shot scripts): it is stopping
    if (this.stopping) return;
    this.state = 'running';
    this.armResourceChecks();
    // a one-shot PIN may have finished while the others started
    const finished = [...this.slots.values()].filter((slot) => slot.finished).length;
    this.log.info(
      finished > 0
        ? `${this.target - finished} of ${this.target} workers ready, ${finished} finished`
        : this.target === 1
          ? 'the worker is ready'
          : `all ${this.target} workers ready`,
    );
  }

  /** pid of the master holding the lock, for the "already running" message */
  private runningPid(paths: GroupPaths): number | null {
    try {
      const record = readPidFile(paths.pidFile);
      return record && isRecordLive(record) ? record.pid : null;
    } catch {
      return null;
    }
  }

  // ---- workers -------------------------------------------------------------------------

  /** Forks a process for `slot` (as its current process, or as its replacement), with `env`. */
  private spawn(
    slot: WorkerSlot,
    asReplacement = false,
    env = this.pendingEnv ?? this.workerEnv,
  ): WorkerHandle {
    const { config } = this;
    const title = formatTitle(config.titlePrefix, 'Worker', config.baseTitle, slot.pin);
    const envelope: WorkerEnvelope = {
      group: config.baseTitle,
      pin: slot.pin,
      title,
      normalExitCode: config.normalExitCode,
      executeTimes: jitterCount(config.executeTimes, config.recycleJitter),
      executeUSleep: config.executeUSleep,
      stopTimeout: config.stopTimeout,
      kind: slot.kind,
      ...(this.launch.script ? { script: this.launch.exec } : {}),
      ...(config.readyWhen !== 'loaded' ? { readyWhen: config.readyWhen } : {}),
    };
    const inherited = withoutTitleOption(process.execArgv);
    cluster.setupPrimary({
      exec: this.launch.exec,
      args: this.launch.args,
      // --title both sets the title before any code runs and makes room for it in argv.
      execArgv: [...inherited, ...config.execArgv, `--title=${title}`, ...bootstrapArgs()],
      silent: true,
      cwd: config.cwd,
      uid: this.uid,
      gid: this.gid,
      serialization: 'json',
    });
    const cw = cluster.fork({
      ...forkEnv(env, this.identityEnv),
      [ENVELOPE_VAR]: JSON.stringify(envelope),
    });
    const handle = new WorkerHandle(slot.pin, title, cw, config.cwd);
    this.envOf.set(handle, env);
    if (asReplacement) {
      slot.replacement = handle;
      handle.successor = true;
    } else slot.current = handle;

    // Output goes line by line to the log; a congested log file pauses the worker's pipe.
    const out = this.log.worker(slot.pin, handle.pid);
    // (a capture flushes its last partial line itself when the pipe ends)
    if (handle.stdout)
      new OutputCapture(handle.stdout, (line) => out.line('stdout', line), { backPressure: this.log });
    if (handle.stderr)
      new OutputCapture(
        handle.stderr,
        (line) => {
          out.line('stderr', line);
          handle.stderrLine(line);
        },
        { backPressure: this.log },
      );

    const info = { pin: slot.pin, pid: handle.pid, title };
    handle.once('ready', () => {
      this.log.info(`worker ready`, { pin: slot.pin, pid: handle.pid, ms: Date.now() - handle.startedAt });
      if (slot.current === handle) this.armAgeLimit(slot, handle);
      this.emit('workerReady', info);
    });
    handle.on('message', (m) => this.onWorkerMessage(slot, handle, m));
    const malformed = new Set<string>();
    handle.on('malformed', (type, problem) => {
      // once per type and process: a worker sending them in a loop must not flood the log
      if (malformed.has(type)) return;
      malformed.add(type);
      this.log.warning(
        `ignored a malformed '${type}' message from a worker (${problem}): the key $drover is for drover's own messages; send yours with worker.send()`,
        { pin: slot.pin, pid: handle.pid },
      );
    });
    handle.once('exit', (code, signal) => this.onExit(slot, handle, code, signal));
    // a stop that ran out of time cuts an execution short: said at warning level, as systemd does
    handle.once('stopTimeout', (ms) =>
      this.log.warning(`worker did not finish within stopTimeout (${formatMs(ms)}), killed`, {
        pin: slot.pin,
        pid: handle.pid,
        reason: handle.expected ?? 'stop',
      }),
    );
    handle.on('backlogFull', (full) => this.backlogFull(handle, full));
    handle.on('backlogRead', (refused, sinceMs, cause) =>
      this.log.info(
        cause === 'slow'
          ? `worker ${slot.pin} (pid ${handle.pid}) caught up with its messages (half of the most the master holds for it are left): ${refused} refused in ${seconds(sinceMs)} while it was behind`
          : `worker ${slot.pin} (pid ${handle.pid}) reads its messages again: ${refused} refused in ${seconds(sinceMs)} while it did not`,
        { pin: slot.pin, pid: handle.pid, refused },
      ),
    );
    this.log.debug(`worker forked`, { pin: slot.pin, pid: handle.pid });
    this.emit('workerStart', info);
    this.updateReaper();
    return handle;
  }

  /**
   * Says once, when a worker's message backlog reaches the bound, why its messages are refused:
   * it is not ready, it reads nothing (blocked, stopped: hangTimeout would replace it), or it reads
   * slower than messages come (its rate against the sender's: hangTimeout is no cure there).
   */
  private backlogFull(handle: WorkerHandle, full: BacklogFull): void {
    const worker = `worker ${handle.pin} (pid ${handle.pid})`;
    const held = `${full.messages} messages (${formatBytes(full.bytes)}) wait in the master for it: it reached the most the master holds for a worker (${BACKLOG_MAX_MESSAGES} messages or ${BACKLOG_MAX_BYTES / 1024 ** 2} MiB), and new ones to it are refused (sendTo() returns false, broadcast() skips it)`;
    const { hangTimeout } = this.config;
    let text: string;
    if (full.cause === 'slow') {
      const rate = (count: number) => Math.round((count * 1000) / Math.max(full.ms, 1));
      text =
        `${worker} reads its messages slower than they are sent to it: it took ${full.taken} in ${seconds(full.ms)} (${rate(full.taken)}/s) while ${full.offered} were sent (${rate(full.offered)}/s). ${held} until it has read half of them. ` +
        `Send to it less often or in fewer messages, or make the work it does for each message lighter (a task pool, docs/pool.md, holds tasks until a worker is free)` +
        (hangTimeout > 0
          ? `; its heartbeats wait behind these messages, so hangTimeout (${formatMs(hangTimeout)}) replaces it as hung if it cannot read them within that`
          : '');
    } else if (full.cause === 'starting') {
      text = `${worker} does not read its messages: ${held} until it reads again. It is not ready yet (its init has not finished): messages to it wait in the master until then: send to it after its workerReady event, or make its init finish sooner`;
    } else {
      const fix =
        hangTimeout > 0
          ? `find the code that blocks it; hangTimeout (${formatMs(hangTimeout)}) replaces it once it misses heartbeats that long`
          : `find the code that blocks it, or set hangTimeout to have a worker that stops answering replaced`;
      text = `${worker} does not read its messages: it has read none for ${seconds(full.silentMs)}; ${held} until it reads again. Its event loop is blocked (synchronous code, an endless loop, a message handler that runs that long) or its process is stopped (SIGSTOP, a debugger): ${fix}`;
    }
    this.log.warning(text, {
      pin: handle.pin,
      pid: handle.pid,
      messages: full.messages,
      bytes: full.bytes,
      cause: full.cause,
      ...(full.cause === 'slow' ? { taken: full.taken, sent: full.offered, ms: Math.round(full.ms) } : {}),
    });
  }

  /**
   * Resolves when `handle` reports ready; rejects if it exits first or misses readyTimeout. With
   * `finishedCounts`, a worker that ends with the normal exit code before it was ready (a one-shot
   * script that did its job while it loaded) resolves it too: it finished, it did not fail.
   */
  private whenReady(handle: WorkerHandle, finishedCounts = false): Promise<void> {
    if (handle.state === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        handle.kill('SIGKILL', 'crash');
        reject(
          new DroverError(
            'EREADYTIMEOUT',
            `drover: worker ${handle.pin} of '${this.config.baseTitle}' was not ready within ${this.config.readyTimeout} ms`,
            {
              hint:
                this.config.readyWhen === 'listening'
                  ? `its init did not finish, or its script never listened (readyWhen: 'listening'): check its port and what it waits for, or ${RAISE_READY_TIMEOUT}`
                  : this.config.readyWhen === 'message'
                    ? `its init did not finish, or its script never called process.send('ready') (readyWhen: 'message'), or ${RAISE_READY_TIMEOUT}`
                    : this.launch.script
                      ? `make its init (or its script's loading) finish sooner, or ${RAISE_READY_TIMEOUT}`
                      : // a worker of a script that re-executes itself is ready once start() ran in it
                        `make its init (or its script's loading) finish sooner, or ${RAISE_READY_TIMEOUT}; a worker whose script never calls start() of '${this.config.baseTitle}' never gets ready: call it in the worker too (not only under cluster.isPrimary or !manage.isWorker), with the same baseTitle`,
            },
          ),
        );
      }, this.config.readyTimeout);
      const onReady = () => {
        cleanup();
        resolve();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        cleanup();
        // (the master's own exit listener, registered at the fork, has classified it already)
        if (finishedCounts && handle.exitReason === 'normal') {
          resolve();
          return;
        }
        if (this.stopping) {
          reject(
            new DroverError(
              'ESTOPPED',
              `drover: worker ${handle.pin} of '${this.config.baseTitle}' was stopped before it was ready: a stop was requested while it started`,
              { hint: 'start the group again when it should run' },
            ),
          );
          return;
        }
        const why = handle.error
          ? `${handle.error.name}: ${handle.error.message}`
          : `exited with ${signal ?? `code ${code}`}`;
        reject(
          new DroverError(
            'EWORKERINIT',
            `drover: worker ${handle.pin} of '${this.config.baseTitle}' failed to start: ${why}`,
            {
              hint:
                handle.pid > 0
                  ? "the worker's own output (on the terminal, or in the group's log in the background) says why; fix it, then try again"
                  : workerDirectoryProblem(this.config.cwd)
                    ? 'restore the directory, or start the group again with cwd set to an existing one'
                    : 'the process could not be created: check the limits on open files and processes (ulimit -n, ulimit -u) and free memory',
            },
          ),
        );
      };
      const cleanup = () => {
        clearTimeout(timer);
        handle.off('ready', onReady);
        handle.off('exit', onExit);
      };
      handle.once('ready', onReady);
      handle.once('exit', onExit);
    });
  }

  private onWorkerMessage(slot: WorkerSlot, handle: WorkerHandle, m: WorkerMessage): void {
    switch (m.$drover) {
      case 'msg':
        this.emit('message', m.data, { pin: slot.pin, pid: handle.pid, title: handle.title });
        return;
      case 'recycle':
        handle.recycleRequested = true;
        if (slot.current === handle) {
          this.log.info(`worker reached executeTimes, recycling`, {
            pin: slot.pin,
            pid: handle.pid,
            executions: m.executions,
          });
          void this.replace(slot, 'recycle');
        }
        return;
      case 'fatal':
        this.log.error(`worker error: ${m.error.message}`, { pin: slot.pin, pid: handle.pid });
        return;
      case 'results':
        this.emit('internalMessage', m, { pin: slot.pin, pid: handle.pid, title: handle.title });
        return;
      default:
        return;
    }
  }

  private classify(
    slot: WorkerSlot,
    handle: WorkerHandle,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): ExitReason {
    if (handle.expected) return handle.expected;
    if (this.stopping) return 'stop';
    if (slot.retired) return 'scale';
    // a worker that cut its channel to a live master did not finish: it can no longer be stopped
    if (handle.channelClosed && handle.doneCode === null) return 'crash';
    // killed by someone else: whatever its exit code, the PIN must be served again
    if (handle.signalled !== null && handle.doneCode === null) return 'crash';
    if (handle.doneCode !== null || (signal === null && this.finishesWith(code))) return 'normal';
    return 'crash';
  }

  /** Whether a worker that exits by itself with `code` has finished for good (normalExitCode). */
  protected finishesWith(code: number | null): boolean {
    return code === this.config.normalExitCode;
  }

  /**
   * Ends the processes a worker started that outlived it: a worker killed outright (SIGKILL from
   * outside, the OOM killer, a V8 abort) could not end them, and each crash would leave more.
   */
  private endLeftBehind(slot: WorkerSlot, handle: WorkerHandle): void {
    const left = handle.leftBehind();
    if (left.length === 0) return;
    this.log.warning(`processes the worker started outlived it: ending them`, {
      pin: slot.pin,
      pid: handle.pid,
      count: left.length,
      pids:
        left.length > 10
          ? `${left
              .slice(0, 10)
              .map((ref) => ref.pid)
              .join(' ')} …`
          : left.map((ref) => ref.pid).join(' '),
    });
    const ending: Promise<void> = endProcesses(
      left,
      Math.min(LEFT_BEHIND_GRACE_MS, this.config.stopTimeout),
    ).finally(() => this.leftBehindEndings.delete(ending));
    this.leftBehindEndings.add(ending);
  }

  private onExit(
    slot: WorkerSlot,
    handle: WorkerHandle,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    const reason = this.classify(slot, handle, code, signal);
    handle.exitReason = reason;
    const oom = this.oomWatch?.onExit(signal === 'SIGKILL' && !handle.sentKill && !handle.error);
    if (oom)
      handle.error = {
        name: 'OOMKilled',
        message: `killed by a SIGKILL drover did not send, most likely the kernel's OOM killer (its memory cgroup counted ${oom.kills} OOM kill(s) since ${new Date(oom.since).toISOString()}): ${OOM_KILLED}`,
      };
    const error = handle.error
      ? `${handle.error.name}: ${handle.error.message}`
      : reason === 'crash' && handle.signalled
        ? `Error: received ${handle.signalled} directly, not through the master; stop a group with 'drover stop' or the master's signals`
        : undefined;
    // A successor that never took over leaves the PIN's last exit as it was: the worker serving
    // the PIN did not exit, and the reload's outcome (or the log) says why the successor failed.
    if (!handle.successor)
      slot.lastExit = { code, signal, reason, at: Date.now(), ...(error ? { error } : {}) };
    const fields = { pin: slot.pin, pid: handle.pid, code, signal, reason, ...(error ? { error } : {}) };
    if (reason === 'crash' || reason === 'hang') this.log.error(`worker exited`, fields);
    else this.log.info(`worker exited`, fields);
    this.emit('workerExit', {
      pin: slot.pin,
      pid: handle.pid,
      title: handle.title,
      code,
      signal,
      reason,
      ...(error ? { error } : {}),
    });
    this.endLeftBehind(slot, handle);
    this.updateReaper();
    // status samples CPU per pid: forget the pid, or recycled workers pile up in the sampler
    this.cpu.forget(handle.pid);

    if (slot.replacement === handle) slot.replacement = null;
    slot.retiring.delete(handle);
    if (slot.current !== handle) {
      // a replaced process: its successor serves the PIN, or the PIN left and waited for it
      this.forgetIfLeft(slot);
      return;
    }
    slot.current = null;
    if (slot.ageTimer) clearTimeout(slot.ageTimer);
    slot.ageTimer = null;

    if (this.stopping) return; // stop() handles the rest
    // start() rejects and cleans up; a worker that finished before it was ready is finished.
    // (A respawn that fails while other PINs still start is a crash like any other.)
    if (this.initialStart && this.firstForks.has(handle) && handle.readyAt === null && reason !== 'normal')
      return;
    this.afterExit(slot, handle, reason, code);
  }

  /**
   * What a PIN whose worker exited does next: wait for its successor, respawn (with backoff after
   * a crash), finish, or leave.
   */
  private afterExit(slot: WorkerSlot, handle: WorkerHandle, reason: ExitReason, code: number | null): void {
    if (slot.retired) {
      this.forgetIfLeft(slot);
      return;
    }
    if (slot.replacement) return; // the replacement takes over when ready
    if (slot.restarting) return; // restart() starts the PIN again once all have stopped
    if (slot.kind === 'temporary') {
      this.temporaryEnded(slot, reason);
      return;
    }
    if (reason === 'normal') {
      slot.finished = true;
      this.log.notice(`worker finished`, { pin: slot.pin, code });
      this.finishIfAllDone();
      return;
    }
    if (reason === 'crash' || reason === 'hang') {
      this.scheduleRespawn(slot, handle);
      return;
    }
    this.endStreakIfStable(slot, handle);
    this.respawn(slot);
  }

  private scheduleRespawn(slot: WorkerSlot, handle: WorkerHandle): void {
    const uptime = Date.now() - handle.startedAt;
    slot.crashStreak = this.policy.nextStreak(slot.crashStreak, uptime);
    const delay = this.policy.delayFor(slot.crashStreak);
    if (delay === null) {
      slot.failed = true;
      const last = [...this.slots.values()].every((s) => s.finished || s.failed);
      this.log.fatal(`worker gave up after ${slot.crashStreak - 1} fast restarts`, {
        pin: slot.pin,
        // a reload or restart starts a PIN that gave up again; with none left the master exits
        hint: last
          ? 'fix the crash, then start the group again'
          : 'fix the crash, then reload or restart the group',
      });
      this.emit('workerFailed', { pin: slot.pin, restarts: slot.restarts });
      this.finishIfAllDone();
      return;
    }
    if (delay === 0) {
      this.respawn(slot);
      return;
    }
    slot.nextStartAt = Date.now() + delay;
    this.log.warning(`worker in backoff`, { pin: slot.pin, delayMs: delay, streak: slot.crashStreak });
    this.emit('workerBackoff', {
      pin: slot.pin,
      pid: handle.pid,
      title: handle.title,
      delayMs: delay,
      streak: slot.crashStreak,
    });
    slot.backoffTimer = setTimeout(() => {
      slot.backoffTimer = null;
      slot.nextStartAt = null;
      if (!this.stopping && !slot.current) this.respawn(slot);
    }, delay);
  }

  private respawn(slot: WorkerSlot): void {
    slot.restarts++;
    const handle = this.spawn(slot);
    // A failure before ready arrives as an exit and goes through crash handling.
    this.whenReady(handle).catch(() => {});
  }

  /**
   * Rolling replacement of one PIN: start the successor, wait until it is ready, then stop the
   * old process (which finishes its current execution and drains its servers). For a reload, a
   * successor that fails keeps the old process; a recycle stops the old one regardless.
   *
   * A recycle of a worker in the execution loop is not rolling: the old process finishes its
   * execution and exits first, and the successor starts then (onExit), so no two processes run
   * executions for one PIN at once (work sharded by PIN stays exclusive). So is the recycle of a
   * worker with no room for a successor beside it (a task pool at maxWorkers, see roomFor). A
   * reload, which an operator asks for to change code without a gap, stays rolling for every worker.
   */
  private async replace(
    slot: WorkerSlot,
    reason: 'reload' | 'recycle',
    env = this.pendingEnv ?? this.workerEnv,
  ): Promise<boolean> {
    const old = slot.current;
    if (!old || slot.replacement || old.state === 'draining' || this.stopping) return false;
    if (reason === 'recycle' && old.expected) return false;
    if (reason === 'recycle') old.expected = 'recycle';
    if (reason === 'recycle' && (old.loop || !this.roomFor(1))) {
      this.emit('workerStop', { pin: slot.pin, pid: old.pid, title: old.title, reason });
      await old.stop(reason, this.config.stopTimeout);
      return true;
    }
    // (slot.replaceError is the reload's to clear: a recycle started from a failed reload's catch
    // must not erase the failure the reload is about to read)
    const next = this.spawn(slot, true, env);
    try {
      await this.whenReady(next);
    } catch (err) {
      if (slot.replacement === next) slot.replacement = null;
      next.kill('SIGKILL', 'crash');
      if (this.stopping || slot.restarting) {
        this.log.info(`${reason} of worker ${slot.pin} cancelled: the group is stopping or restarting`);
        return false;
      }
      // the PIN left while its successor started (a task pool's idle temporary worker, a scale
      // down): both processes were stopped on purpose, and nothing failed
      if (slot.retired || next.exitReason === 'idle' || next.exitReason === 'scale') {
        this.log.info(`${reason} of worker ${slot.pin} ended: the PIN left meanwhile`, {
          reason: next.exitReason ?? 'idle',
        });
        return false;
      }
      if (reason === 'reload') {
        // with its hint: for a timeout that is the why (what readyWhen waited for)
        slot.replaceError = (err as Error).message.replace(/^drover: /, '');
        if (old.alive) {
          this.log.error(`reload of worker ${slot.pin} aborted, old worker kept: ${(err as Error).message}`);
          // a kept worker that reached executeTimes meanwhile still waits for its replacement
          if (old.recycleRequested) void this.replace(slot, 'recycle');
        } else {
          this.log.error(
            `reload of worker ${slot.pin} aborted: its old worker exited while the successor started, and the successor failed: ${(err as Error).message}`,
          );
          this.afterEmptied(slot, old);
        }
        return false;
      }
      this.log.error(`replacement of worker ${slot.pin} failed: ${(err as Error).message}`);
      if (old.alive) await old.stop('recycle', this.config.stopTimeout);
      else this.afterEmptied(slot, old);
      return false;
    }
    if (this.stopping || slot.restarting) return false; // stop() or restart() stops both
    slot.replacement = null;
    slot.current = next;
    next.successor = false;
    slot.restarts++;
    this.endStreakIfStable(slot, old);
    this.armAgeLimit(slot, next);
    this.emit('workerStop', { pin: slot.pin, pid: old.pid, title: old.title, reason });
    if (old.alive) slot.retiring.add(old);
    this.updateReaper();
    await old.stop(reason, this.config.stopTimeout);
    return true;
  }

  /**
   * The PIN's worker exited while a successor started, and the successor failed: the exit, left
   * to the successor then, is handled now (a crash backs off), or the PIN would stay empty.
   */
  private afterEmptied(slot: WorkerSlot, old: WorkerHandle): void {
    if (slot.current !== null || slot.replacement !== null || old.exitReason === null) return;
    this.afterExit(slot, old, old.exitReason, slot.lastExit?.code ?? null);
  }

  private armAgeLimit(slot: WorkerSlot, handle: WorkerHandle): void {
    const { limitSeconds, recycleJitter } = this.config;
    if (limitSeconds <= 0) return;
    if (slot.ageTimer) clearTimeout(slot.ageTimer);
    const ms = limitSeconds * 1000 * (1 - recycleJitter * Math.random());
    slot.ageTimer = setTimeout(() => {
      slot.ageTimer = null;
      if (slot.current !== handle || !handle.alive) return;
      this.log.info(`worker reached limitSeconds, recycling`, { pin: slot.pin, pid: handle.pid });
      void this.replace(slot, 'recycle');
    }, ms);
    slot.ageTimer.unref();
  }

  /** Memory and heartbeat checks run only when their limits are configured. */
  private armResourceChecks(): void {
    const { maxMemory, checkWorkerInterval, hangTimeout } = this.config;
    if (maxMemory > 0) {
      this.memoryTimer = setInterval(() => this.checkMemory(), checkWorkerInterval);
      this.memoryTimer.unref();
    }
    if (hangTimeout > 0) {
      const every = Math.max(50, Math.floor(hangTimeout / 3));
      this.lastHangCheck = performance.now();
      this.hangTimer = setInterval(() => this.checkHangs(every), every);
      this.hangTimer.unref();
    }
  }

  private checkMemory(): void {
    for (const slot of this.slots.values()) {
      const h = slot.current;
      if (h?.state !== 'ready' || slot.replacement || h.expected) continue;
      const rss = Process.rss(h.pid);
      if (rss !== null && rss > this.config.maxMemory) {
        this.log.warning(`worker over maxMemory, recycling`, {
          pin: slot.pin,
          pid: h.pid,
          rss,
          maxMemory: this.config.maxMemory,
        });
        // over the limit at its first check: its successor will be too, and so on every second
        if (
          !this.maxMemoryTooLowSaid &&
          Date.now() - (h.readyAt ?? 0) <= this.config.checkWorkerInterval * 2
        ) {
          this.maxMemoryTooLowSaid = true;
          const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
          this.log.error(
            `maxMemory (${mib(this.config.maxMemory)}) is below what a worker uses as soon as it is ready (${mib(rss)}): every worker will be recycled at once, again and again`,
            { hint: `raise maxMemory (drover start --max-memory) well above ${mib(rss)}` },
          );
        }
        void this.replace(slot, 'recycle');
      }
    }
  }

  /**
   * Kills a ready worker that has not answered a heartbeat for hangTimeout, and pings the others.
   * Time is monotonic, so a wall clock stepped forward kills nobody. A check that runs more than
   * an interval late (`every`) means the master itself did not run: stopped (SIGSTOP), frozen
   * (a cgroup freezer, `docker pause`), suspended with its VM, or starved. Its workers were not
   * asked meanwhile, and their answers may still wait in the pipe: every worker is pinged afresh
   * and its silence counted from now, not killed.
   */
  private checkHangs(every: number): void {
    const now = performance.now();
    const late = now - this.lastHangCheck - every;
    this.lastHangCheck = now;
    if (late > every) {
      // every time: hang detection is suspended for this check, which a small hangTimeout on a
      // starved master may repeat, so the operator sees why a hung worker was not killed
      this.log.log(
        'warning',
        `heartbeat check ran ${Math.round(late)} ms late: the master was not running (stopped, frozen or suspended?); asking every worker afresh instead of counting that time as their silence`,
      );
    }
    for (const slot of this.slots.values()) {
      const h = slot.current;
      if (h?.state !== 'ready') continue;
      if (late > every) {
        h.lastPong = now;
        h.ping();
      } else if (now - h.lastPong > this.config.hangTimeout) {
        this.log.error(`worker did not answer heartbeats for ${this.config.hangTimeout} ms, killing it`, {
          pin: slot.pin,
          pid: h.pid,
        });
        h.kill('SIGKILL', 'hang');
      } else {
        h.ping();
      }
    }
  }

  private updateReaper(): void {
    const workers: ReapTarget[] = [];
    for (const slot of this.slots.values())
      for (const h of slot.handles()) workers.push({ pid: h.pid, startTime: h.startTime });
    this.reaper?.watch(workers);
  }

  private finishIfAllDone(): void {
    if (this.slots.size === 0) return;
    for (const slot of this.slots.values()) if (!slot.finished && !slot.failed) return;
    // a group that gave up leaves why, for the next `drover status` to say (once)
    const end = gaveUpEnd([...this.slots.values()]);
    const failed = end !== undefined;
    this.log.notice(failed ? 'no worker left to run: every worker finished or gave up' : ALL_FINISHED_NOTICE);
    void this.shutdown('normal', { label: failed ? 'failed' : 'normal', end }).then(() =>
      this.router.unregister(this, failed ? 1 : 0),
    );
  }

  // ---- operations ----------------------------------------------------------------------

  /** Runs operations that change the set of workers one at a time. */
  protected enqueue<T>(op: () => Promise<T>): Promise<T> {
    // A reload or scale asked for while the group is still starting runs once the start settled.
    const started = () =>
      this.startPromise?.then(
        () => {},
        () => {},
      );
    const run = this.opChain.then(started, started).then(op, op);
    this.opChain = run.catch(() => {});
    return run;
  }

  /**
   * Rolling reload, one PIN at a time. Requests made while a reload waits to start share it;
   * a request made while one runs gets one more reload after it. With an environment update
   * (`env`, `configEnv`) the new workers run with it, and it stays for every later one only when
   * the reload completes: one that aborts leaves the group with the environment it had (the
   * workers replaced so far keep the new one until they are next replaced). A request with an
   * update gets a reload of its own.
   */
  reload(update?: EnvUpdate): Promise<ReloadResult> {
    let change: EnvChange | null;
    try {
      change = checkEnvUpdate(update, this.config.baseTitle);
    } catch (err) {
      return Promise.reject(err);
    }
    if (change) return this.enqueue(() => this.rollingReload(change));
    if (this.pendingReload) return this.pendingReload;
    const p = this.enqueue(async () => {
      this.pendingReload = null;
      return this.rollingReload(null);
    });
    this.pendingReload = p;
    return p;
  }

  /** Makes `env` the environment of every worker started from now on, and logs which names changed. */
  private commitEnv(env: WorkerEnv, by: 'reload' | 'restart'): void {
    const { added, changed, removed } = changedNames(this.workerEnv, env);
    this.workerEnv = env;
    this.envUpdate = { at: Date.now(), names: { by, added, changed, removed } };
    const names = (list: string[]) =>
      list.length > 20 ? `${list.slice(0, 20).join(' ')} …` : list.join(' ');
    this.log.info(`environment updated by the ${by}`, {
      added: names(added) || '-',
      changed: names(changed) || '-',
      removed: names(removed) || '-',
    });
  }

  /**
   * A PIN that gave up (restart.maxRestarts) starts afresh, its crash streak forgotten: after a
   * fix, a reload brings it back. Failing again goes through crash handling as usual.
   */
  /** Starts a PIN that gave up; resolves with null once it is ready, or with why it is not. */
  private async startAgain(slot: WorkerSlot, env: WorkerEnv): Promise<string | null> {
    slot.failed = false;
    slot.crashStreak = 0;
    this.log.info(`starting again a worker that had given up`, { pin: slot.pin });
    return this.readyOrWhy(this.spawn(slot, false, env));
  }

  /** Starts a PIN in crash backoff now; resolves with null once it is ready, or with why it is not. */
  private async startFromBackoff(slot: WorkerSlot, env: WorkerEnv): Promise<string | null> {
    slot.clearTimers();
    this.log.info(`reload starts a worker in backoff now`, { pin: slot.pin });
    slot.restarts++;
    return this.readyOrWhy(this.spawn(slot, false, env));
  }

  /** null once `handle` is ready, else why not: the error's first part, without prefix or hint. */
  private readyOrWhy(handle: WorkerHandle): Promise<string | null> {
    return this.whenReady(handle).then(
      () => null,
      (err: unknown) => whyNotReady(err),
    );
  }

  private async rollingReload(change: EnvChange | null): Promise<ReloadResult> {
    if (this.stopping || !this.startPromise) {
      this.log.warning(
        this.stopping ? 'reload skipped: the group is stopping' : 'reload skipped: the group is not running',
      );
      return {
        replaced: 0,
        started: 0,
        notStarted: [],
        aborted: true,
        error: this.stopping ? RELOAD_STOPPING : 'not started',
      };
    }
    const env = change ? applyEnvChange(this.workerEnv, change) : this.workerEnv;
    // a respawn, a recycle or a temporary worker started while the reload runs gets the update too
    if (change) this.pendingEnv = env;
    this.state = 'reloading';
    this.log.info(change ? 'reload started, with an environment update' : 'reload started');
    let replaced = 0;
    let started = 0;
    const notStarted: ReloadResult['notStarted'] = [];
    let stop: { error: string } | null = null;
    for (const slot of [...this.slots.values()]) {
      if (this.stopping) {
        stop = { error: RELOAD_STOPPING };
        break;
      }
      // A PIN with no running worker has nothing to keep: the reload starts it with what may be
      // the fix (waiting out a backoff, up to maxDelayMs, would delay it for nothing) and goes on
      // whatever becomes of it; the crash streak of one in backoff stays, so new code that
      // crashes backs off further.
      const idle = slot.failed && !slot.current && !slot.retired;
      if (idle || (slot.backoffTimer && !slot.current?.alive)) {
        const why = idle ? await this.startAgain(slot, env) : await this.startFromBackoff(slot, env);
        if (why === null) started++;
        else notStarted.push({ pin: slot.pin, error: why });
        continue;
      }
      while (slot.replacement && !this.stopping) {
        // a recycle is replacing this PIN's worker: its successor, forked before this reload,
        // is replaced in turn once it has taken over (or the PIN is handled as it then is); the
        // recycle's own step after the ready runs first (a macrotask later)
        await settled(slot.replacement);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (this.stopping) {
        stop = { error: RELOAD_STOPPING };
        break;
      }
      if (slot.current?.state !== 'ready') {
        // one still starting began before this reload: with an update it has the old
        // environment, and is replaced once it is ready (one draining for a recycle is
        // followed by a worker started with the update)
        const starting = slot.current;
        if (!change || !starting || starting.state !== 'starting' || this.envOf.get(starting) === env)
          continue;
        await this.whenReady(starting).catch(() => {});
        if (slot.current !== starting || !isReady(starting)) continue;
      }
      slot.replaceError = null;
      const ok = await this.replace(slot, 'reload', env);
      if (ok) replaced++;
      // a successor that failed stops the reload here; a PIN that left meanwhile (an idle
      // temporary worker, a scale down), or a stop, does not count as a failure
      else if (slot.replaceError !== null && !this.stopping && !slot.retired) {
        stop = { error: slot.replaceError };
        break;
      }
    }
    const result: ReloadResult = stop
      ? { replaced, started, notStarted, aborted: true, error: stop.error }
      : { replaced, started, notStarted, aborted: false };
    this.pendingEnv = null;
    if (change && !result.aborted) this.commitEnv(env, 'reload');
    else if (change && !this.stopping)
      this.log.warning('environment update not kept: the reload did not complete', {
        hint: 'workers started from now on run with the environment the group had; fix the cause and reload with the update again',
      });
    if (!this.stopping) this.state = 'running';
    this.lastReload = {
      at: Date.now(),
      replaced,
      started,
      notStarted: notStarted.map((n) => n.pin),
      aborted: result.aborted,
      ...(result.error !== undefined ? { error: result.error } : {}),
      ...(change ? { envUpdate: true as const } : {}),
    };
    this.log.info(result.aborted ? `reload aborted after ${replaced} workers` : `reload done`, {
      replaced,
      ...(started > 0 ? { started } : {}),
      ...(notStarted.length > 0 ? { notStarted: notStarted.map((n) => n.pin).join(',') } : {}),
    });
    this.emit('reload', result);
    return result;
  }

  /**
   * Sets the number of workers: new PINs start, the highest PINs stop; `killed` counts those that
   * did not finish within stopTimeout.
   */
  scale(workers: number): Promise<ScaleResult> {
    if (!Number.isInteger(workers) || workers < 0 || workers > 1024) {
      return Promise.reject(
        new DroverError(
          'EINVAL',
          `drover: cannot scale '${this.config.baseTitle}' to ${describeValue(workers)} workers`,
          {
            hint: 'give an integer from 0 to 1024',
          },
        ),
      );
    }
    return this.enqueue(() => this.applyScale(workers));
  }

  protected async applyScale(workers: number): Promise<ScaleResult> {
    const from = this.target;
    if (this.stopping) throw this.stoppingError('scale');
    this.target = workers;
    const notReady: NotReady[] = [];
    const starting: Promise<void>[] = [];
    for (let pin = 0; pin < workers; pin++) {
      const existing = this.slots.get(pin);
      if (existing?.kind === 'temporary') existing.kind = 'permanent';
      if (existing && !existing.retired) continue;
      if (existing?.retired) existing.retired = false;
      const slot = existing ?? new WorkerSlot(pin);
      this.slots.set(pin, slot);
      if (!slot.current) starting.push(this.startWhenRoom(slot).catch(noteNotReady(notReady, pin)));
    }
    const stopping: Promise<void>[] = [];
    const stopped: WorkerHandle[] = [];
    for (const slot of this.slots.values()) {
      if (slot.pin < workers || slot.kind === 'temporary') continue;
      slot.retired = true;
      slot.clearTimers();
      if (slot.handles().length === 0) this.slots.delete(slot.pin);
      for (const h of slot.handles()) {
        stopped.push(h);
        stopping.push(this.stopWorker(slot, h, 'scale'));
      }
    }
    if (from !== workers) this.log.info(`scaled from ${from} to ${workers} workers`);
    await Promise.all([...starting, ...stopping]);
    // the workers that were not ready were stopped with the group: nothing starts them again
    if (this.stopping && notReady.length > 0) throw this.stoppingError('scale');
    if (notReady.length > 0)
      throw this.notReadyError(`scaled from ${from} to ${workers} workers, but`, notReady);
    // the PINs kept may all have finished: the group ends as if the last of them just had
    // (after this answer; a scale to 0 keeps an empty group on purpose)
    if (!this.stopping) setImmediate(() => this.finishIfAllDone());
    return { from, to: workers, ...this.stopOutcome(stopped) };
  }

  /** How stopping `handles` went: those SIGKILLed at stopTimeout. */
  private stopOutcome(handles: readonly WorkerHandle[]): StopOutcome {
    return {
      killed: handles.filter((h) => h.killedAtStopTimeout).length,
      stopTimeout: this.config.stopTimeout,
    };
  }

  /**
   * Stops every worker, then starts them all again (the master stays). An environment update
   * (`env`, `configEnv`) applies to the new workers and every later one, whether or not they all
   * become ready. Resolves with how the stop went (workers SIGKILLed at stopTimeout).
   */
  restart(update?: EnvUpdate): Promise<StopOutcome> {
    let change: EnvChange | null;
    try {
      change = checkEnvUpdate(update, this.config.baseTitle);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(async () => {
      if (this.stopping) throw this.stoppingError('restart');
      // every worker stops before any starts: a script that cannot start is refused first
      await this.refuseBrokenEntry('restart', change);
      if (this.stopping) throw this.stoppingError('restart');
      this.log.info('restart: stopping all workers');
      this.state = 'starting';
      const all: Promise<void>[] = [];
      const stopped: WorkerHandle[] = [];
      for (const slot of this.slots.values()) {
        slot.clearTimers();
        // whatever else ends these processes (a recycle, a crash), their exits start nothing
        slot.restarting = true;
        for (const h of slot.handles()) {
          stopped.push(h);
          all.push(this.stopWorker(slot, h, 'restart'));
        }
      }
      await Promise.all(all);
      const outcome = this.stopOutcome(stopped);
      if (change && !this.stopping) this.commitEnv(applyEnvChange(this.workerEnv, change), 'restart');
      const ready: Promise<void>[] = [];
      const notReady: NotReady[] = [];
      for (const slot of this.slots.values()) {
        slot.restarting = false;
        if (this.stopping) continue;
        slot.finished = false;
        slot.failed = false;
        slot.crashStreak = 0;
        slot.current = null;
        slot.replacement = null;
        // A worker failing now goes through crash handling (backoff) like any other.
        slot.restarts++;
        ready.push(this.whenReady(this.spawn(slot), true).catch(noteNotReady(notReady, slot.pin)));
      }
      await Promise.all(ready);
      if (this.stopping) throw this.stoppingError('restart');
      this.state = 'running';
      if (notReady.length > 0)
        throw this.notReadyError(
          change ? 'restarted the workers with the updated environment, but' : 'restarted the workers, but',
          notReady,
        );
      this.log.info('restart done');
      return outcome;
    });
  }

  /**
   * Throws, touching nothing, when new workers could not start from the group's entry script now
   * (gone, unreadable, a syntax error): a restart would stop every worker first, then fail. A
   * loader in NODE_OPTIONS (the new workers' or the master's own) counts as one in execArgv.
   */
  private async refuseBrokenEntry(operation: 'restart', change: EnvChange | null): Promise<void> {
    const env = change ? applyEnvChange(this.workerEnv, change) : (this.pendingEnv ?? this.workerEnv);
    const workersNodeOptions = env.own.NODE_OPTIONS ?? (env.base ?? process.env).NODE_OPTIONS;
    const execArgv = [
      ...withoutTitleOption(process.execArgv),
      ...this.config.execArgv,
      ...nodeOptionsWords(workersNodeOptions),
      ...nodeOptionsWords(process.env.NODE_OPTIONS),
    ];
    const entry = await entryProblem(this.launch.exec, execArgv);
    if (entry === null) return;
    const message = `drover: cannot ${operation} '${this.config.baseTitle}': ${entry.problem}; nothing was stopped: its workers keep running the code they loaded`;
    this.log.error(message.replace(/^drover: /, ''));
    throw new DroverError('EENTRY', message, { hint: entry.hint });
  }

  /**
   * Asks `h` to stop, telling `workerStop` listeners first (a pool closes the worker's lane on
   * it); a process already draining (replaced, recycled) had its event when that began.
   */
  private stopWorker(slot: WorkerSlot, h: WorkerHandle, reason: ExitReason): Promise<void> {
    if (h.state !== 'draining')
      this.emit('workerStop', { pin: slot.pin, pid: h.pid, title: h.title, reason });
    return h.stop(reason, this.config.stopTimeout, this.stopSignal);
  }

  /** What a restart or scale answers when the group stops (or its start failed) before it is done. */
  private stoppingError(operation: 'restart' | 'scale'): DroverError {
    const name = this.config.baseTitle;
    return new DroverError('ESTOPPING', `drover: cannot ${operation} '${name}': the group is stopping`, {
      hint: `start it again with 'drover start' once it has stopped ('drover status ${name}' shows when)`,
    });
  }

  /** A restart or scale whose new workers did not all become ready: they go on with backoff. */
  private notReadyError(done: string, notReady: NotReady[]): DroverError {
    const name = this.config.baseTitle;
    const pins = notReady.map((n) => n.pin).sort((a, b) => a - b);
    const first = notReady[0]!;
    const message = `drover: '${name}' ${done} worker${pins.length > 1 ? 's' : ''} ${pins.join(', ')} did not become ready (${first.reason})`;
    this.log.error(message.replace(/^drover: /, ''));
    return new DroverError('ENOTREADY', message, {
      hint: `they are started again with backoff; 'drover status ${name}' shows their state and 'drover logs ${name}' their output`,
    });
  }

  /**
   * Graceful stop: every worker finishes its execution and exits; SIGKILL after stopTimeout.
   * Resolves with how many had to be killed so.
   */
  stop(): Promise<StopOutcome> {
    return this.shutdown('stop');
  }

  private shutdown(
    reason: ExitReason,
    opts: { quiet?: boolean; label?: string; end?: GroupEnd | undefined } = {},
  ): Promise<StopOutcome> {
    this.stopPromise ??= (async () => {
      this.state = 'stopping';
      // from here on the master removes its run files itself: none is put back
      this.runFiles?.stop();
      if (!opts.quiet) this.log.info(`stopping`, { reason: opts.label ?? reason });
      if (this.memoryTimer) clearInterval(this.memoryTimer);
      if (this.hangTimer) clearInterval(this.hangTimer);
      if (this.beforeStop)
        await this.beforeStop().catch((err) => this.log.error(`stop: ${(err as Error).message}`));
      const all: Promise<void>[] = [];
      const stopped: WorkerHandle[] = [];
      for (const slot of this.slots.values()) {
        slot.clearTimers();
        for (const h of slot.handles()) {
          stopped.push(h);
          all.push(this.stopWorker(slot, h, reason === 'normal' ? 'stop' : reason));
        }
      }
      await Promise.all(all);
      await Promise.all(this.leftBehindEndings);
      await this.release(opts.end);
      const outcome = this.stopOutcome(stopped);
      if (!opts.quiet)
        this.log.info(`stopped`, outcome.killed > 0 ? { killedAtStopTimeout: outcome.killed } : undefined);
      await this.log.flush();
      this.emit('stop');
      return outcome;
    })();
    return this.stopPromise;
  }

  private listenControl(socket: string): Promise<ControlServer> {
    return ControlServer.listen(socket, this.controlHandler(), {
      maxLineBytes: MASTER_MAX_LINE_BYTES,
      onError: (err) => this.log.warning(`control socket: ${err.message}`),
    });
  }

  /** Moves the pid file of an earlier master that ended without stopping to `<name>.ended`. */
  private entombStalePidFile(paths: GroupPaths): void {
    try {
      const stale = readPidFile(paths.pidFile);
      if (stale && !isRecordLive(stale)) entombPidFile(paths.pidFile, paths.endedFile, stale);
    } catch {
      // unsafe or malformed: written over as before
    }
  }

  private writeOwnPidFile(paths: GroupPaths): void {
    writePidFile(paths.pidFile, {
      pid: process.pid,
      startTime: Process.stat(process.pid)?.startTime ?? 0,
      baseTitle: this.config.baseTitle,
      startedAt: this.startedAt,
      socket: paths.socket,
      version: VERSION,
      // what tells, once this master is gone, where to look for why (groups/discovery.ts)
      ...(this.logFile ? { logFile: this.logFile } : {}),
    });
  }

  /** The run files as the keeper sees them: what it checks and how it puts them back. */
  private runFilesOf(runDir: string, paths: GroupPaths): RunFiles {
    return {
      ensureDir: () => ensurePrivateDir(runDir),
      pidFileInPlace: () => {
        try {
          return readPidFile(paths.pidFile)?.pid === process.pid;
        } catch {
          return false;
        }
      },
      writePidFile: () => this.writeOwnPidFile(paths),
      socketInPlace: () => this.control?.holdsPath() ?? true,
      reopenSocket: async () => {
        const old = this.control;
        const next = await this.listenControl(paths.socket);
        // a stop that began meanwhile has closed (or is closing) the old one: take nothing over
        if (this.stopping) {
          await next.close();
          return;
        }
        this.control = next;
        await old?.close();
      },
      report: (repaired, error) => {
        // a log file in the run directory went with it: the record goes to the new one
        this.log.recheckFiles();
        if (error)
          this.log.error(`run files: cannot put them back: ${error.message}`, {
            repaired: repaired.join(', ') || 'nothing',
          });
        else
          this.log.warning(
            `run files were removed or changed while the group ran: put back the ${repaired.join(', ')}`,
            {
              runDir,
            },
          );
      },
    };
  }

  /** Gives up the run files and the lock; `end`: why the master ends by itself, left in `<name>.ended`. */
  private async release(end?: GroupEnd): Promise<void> {
    await this.reaper?.close();
    await this.control?.close().catch(() => {});
    if (this.paths) {
      if (end) recordGroupEnd(this.paths.pidFile, this.paths.endedFile, process.pid, end);
      else removePidFile(this.paths.pidFile, process.pid);
    }
    await this.lock?.release();
    this.lock = null;
  }

  // ---- SignalTarget --------------------------------------------------------------------

  async stopBySignal(signal: NodeJS.Signals): Promise<void> {
    this.log.info(`${signal} received: graceful stop`);
    if (signal === 'SIGINT' || signal === 'SIGTERM') this.stopSignal = signal;
    await this.stop();
    this.router.unregister(this);
  }

  forceStop(): void {
    this.log.warning('second SIGINT: killing every worker now');
    for (const slot of this.slots.values()) for (const h of slot.handles()) h.kill('SIGKILL', 'stop');
  }

  reloadBySignal(): void {
    this.log.info('SIGHUP received: rolling reload');
    void this.reload();
  }

  scaleBySignal(delta: 1 | -1): void {
    if (this.stopping) {
      // a signal has no one to answer: say in the log that it came too late
      this.log.notice(`${delta > 0 ? 'SIGTTIN' : 'SIGTTOU'} ignored: the group is stopping`);
      return;
    }
    this.signalledDelta += delta;
    if (this.signalScaleQueued) return;
    this.signalScaleQueued = true;
    // The net count of a burst is taken when the queue reaches it: one scale per burst, not one
    // per signal, each to a target computed before the previous ones ran.
    void this.enqueue(() => {
      this.signalScaleQueued = false;
      if (this.stopping) {
        // queued before the stop began: said as a signal during the stop is
        const net = this.signalledDelta;
        this.signalledDelta = 0;
        if (net !== 0) this.log.notice(`${net > 0 ? 'SIGTTIN' : 'SIGTTOU'} ignored: the group is stopping`);
        return Promise.resolve({ from: this.target, to: this.target });
      }
      const wanted = this.target + this.signalledDelta;
      // SIGTTOU keeps the last worker, and a group scaled to 0 stays there
      const workers = Math.min(1024, Math.max(Math.min(1, this.target), wanted));
      this.signalledDelta = 0;
      // a signal has no one to answer: say in the log why nothing changed
      if (wanted < 1 && this.target === 1)
        this.log.notice(
          `SIGTTOU: '${this.config.baseTitle}' keeps its last worker; 'drover scale ${this.config.baseTitle} 0' stops them all`,
        );
      else if (wanted < 0 && this.target === 0)
        this.log.notice(`SIGTTOU: '${this.config.baseTitle}' has no worker to stop (scaled to 0)`);
      else if (wanted > 1024 && this.target >= 1024)
        this.log.warning(`SIGTTIN: '${this.config.baseTitle}' stays at the limit of 1024 workers`);
      return this.applyScale(workers);
    }).catch(() => {});
  }

  refuseSignal(signal: NodeJS.Signals, why: string): void {
    this.log.warning(`${signal} ignored: ${why}`);
  }

  logStatus(): void {
    void this.getAllStatus().then((s) => {
      for (const w of s.workers)
        this.log.info(`status`, { pin: w.pin, pid: w.pid, state: w.state, restarts: w.restarts });
    });
  }

  // ---- temporary workers and internal channels (task pool) --------------------------------

  /**
   * Starts a temporary worker on the lowest free PIN at or above the permanent count. Returns
   * its info at once (`workerReady` follows), or null while the group starts or stops, or when
   * one more process would not fit (roomFor).
   */
  addTemporary(): WorkerInfo | null {
    if (this.stopping || this.state === 'starting' || !this.roomFor(1)) return null;
    let pin = this.target;
    while (this.slots.has(pin)) pin++;
    const slot = new WorkerSlot(pin, 'temporary');
    this.slots.set(pin, slot);
    const handle = this.spawn(slot);
    this.whenReady(handle).catch(() => {});
    return { pin, pid: handle.pid, title: handle.title };
  }

  /**
   * Stops the temporary worker on `pin` for good (reason 'idle'); false if there is none. Its
   * PIN stays taken until its last process has exited.
   */
  retireTemporary(pin: number): boolean {
    const slot = this.slots.get(pin);
    if (slot?.kind !== 'temporary' || slot.retired || this.stopping) return false;
    slot.retired = true;
    slot.clearTimers();
    const handles = slot.handles();
    if (handles.length === 0) this.slots.delete(pin);
    for (const h of handles) void this.stopWorker(slot, h, 'idle');
    return true;
  }

  /**
   * A temporary worker's process ended with no successor (a crash, a kill, a recycle with no
   * room beside it, its own exit): its PIN leaves instead of starting again. Its tasks are
   * retried, and the autoscaler starts a worker if the backlog still needs one; a temporary PIN
   * in crash backoff would hold a place in maxWorkers with no process, and never fall idle.
   */
  private temporaryEnded(slot: WorkerSlot, reason: ExitReason): void {
    slot.retired = true;
    slot.clearTimers();
    this.log.info(`temporary worker ended: its PIN is not started again`, { pin: slot.pin, reason });
    this.forgetIfLeft(slot);
  }

  /** Forgets a retired PIN once its last process has exited: until then that process holds its place. */
  private forgetIfLeft(slot: WorkerSlot): void {
    if (slot.retired && slot.handles().length === 0 && this.slots.get(slot.pin) === slot)
      this.slots.delete(slot.pin);
  }

  /**
   * Whether `extra` more worker processes fit in the group now (see `slotCounts().places`). Any
   * number does here; a task pool keeps within its maxWorkers: a recycle with no room is not
   * rolling, and a scale up or the autoscaler starts nothing that would pass it.
   */
  protected roomFor(_extra: number): boolean {
    return true;
  }

  /**
   * Starts the worker of a PIN that a scale up wants, once it fits (roomFor): a process still
   * finishing (a replaced one, a retired PIN's) holds its place until it exits.
   */
  private async startWhenRoom(slot: WorkerSlot): Promise<void> {
    let waiting = false;
    for (;;) {
      if (this.stopping || slot.current || slot.retired || this.slots.get(slot.pin) !== slot) return;
      // a PIN already counts as one place; a process of its own still finishing makes it two
      if (this.roomFor(slot.handles().length > 0 ? 1 : 0)) break;
      const exits = [...this.slots.values()].flatMap((s) => s.handles().map((h) => h.exited));
      if (exits.length === 0) break;
      if (!waiting)
        this.log.info(`worker ${slot.pin} starts once a process still finishing leaves room`, {
          pin: slot.pin,
        });
      waiting = true;
      await Promise.race(exits);
    }
    return this.whenReady(this.spawn(slot), true);
  }

  /**
   * Awaited first whenever the group stops (a call, a signal, the control socket), before any
   * worker is asked to stop: the task pool takes no new tasks there and lets running ones finish.
   */
  setBeforeStop(hook: () => Promise<void>): void {
    this.beforeStop = hook;
  }

  /**
   * Workers wanted now, by kind; `retiring`: retired PINs whose process still finishes its work
   * (not wanted, but holding a process and its memory); and `places`: what a bound on processes
   * counts. Every PIN that is not retired holds one place even without a process (starting, in
   * backoff, given up: a reload or restart starts it again), and every live process holds one:
   * a successor starting beside its PIN's process, a replaced one still finishing, a retired PIN's.
   */
  slotCounts(): { permanent: number; temporary: number; retiring: number; places: number } {
    const counts = { permanent: 0, temporary: 0, retiring: 0, places: 0 };
    for (const slot of this.slots.values()) {
      const live = slot.handles().length;
      if (!slot.retired) counts[slot.kind]++;
      else if (live > 0) counts.retiring++;
      counts.places += Math.max(slot.retired ? 0 : 1, live);
    }
    return counts;
  }

  /** True when `pin` is served by a temporary worker. */
  isTemporary(pin: number): boolean {
    return this.slots.get(pin)?.kind === 'temporary';
  }

  /** Replaces the worker with this pid by a fresh one (a stuck task); false if it is not current. */
  recycleWorker(pid: number): boolean {
    for (const slot of this.slots.values()) {
      if (slot.current?.pid !== pid) continue;
      if (slot.current.expected) return false;
      void this.replace(slot, 'recycle');
      return true;
    }
    return false;
  }

  /** A sender of internal messages to the live worker with this pid, or null. */
  channelTo(pid: number): ((message: MasterMessage) => boolean) | null {
    for (const slot of this.slots.values())
      for (const h of slot.handles()) if (h.pid === pid) return (message) => h.send(message);
    return null;
  }

  // ---- messages and status -------------------------------------------------------------

  /**
   * Sends a structured value to every live worker: the PINs it was queued for, and those skipped
   * (see BroadcastResult). Throws EPAYLOAD, sending none, for one JSON cannot carry.
   */
  broadcast(data: unknown): BroadcastResult {
    const bytes = checkUserMessage(data, `the broadcast message of '${this.config.baseTitle}'`);
    const result: BroadcastResult = { sent: [], skipped: [] };
    for (const slot of this.slots.values()) {
      const handle = slot.current;
      if (!handle?.alive) continue;
      // a worker whose backlog is full is skipped (WorkerHandle.send): its handle logs it once
      (handle.send({ $drover: 'msg', data }, bytes) ? result.sent : result.skipped).push(slot.pin);
    }
    return result;
  }

  /**
   * Sends a structured value to the process serving `pin`: true once queued for it, false if there
   * is none or it does not read its messages (its backlog is full; see Manage.sendTo). Throws
   * EINVAL for a PIN that is no integer >= 0, EPAYLOAD for a value JSON cannot carry.
   */
  sendTo(pin: number, data: unknown): boolean {
    checkPin(pin, this.config.baseTitle);
    const bytes = checkUserMessage(data, `the message to worker ${pin} of '${this.config.baseTitle}'`);
    return this.slots.get(pin)?.current?.send({ $drover: 'msg', data }, bytes) ?? false;
  }

  /** pid of the worker serving `pin`, if any */
  workerPid(pin: number): number | null {
    return this.slots.get(pin)?.current?.pid ?? null;
  }

  /**
   * `crashStreak` for a PIN that crashed fast twice or more in a row and whose current worker has
   * not yet lived long enough to count as stable: between two crashes it is `starting` or even
   * `ready`, and a status taken then must still tell a crash loop.
   */
  private crashLoop(slot: WorkerSlot, now: number): { crashStreak?: number } {
    if (slot.crashStreak < 2 || slot.finished || slot.failed || slot.retired || this.stopping) return {};
    const h = slot.current;
    if (h?.alive && now - h.startedAt >= this.policy.options.stableAfterMs) return {};
    return { crashStreak: slot.crashStreak };
  }

  /**
   * A process that lived `restart.stableAfterMs` and left as planned (replaced by a reload or a
   * recycle) ends its PIN's crash streak, as one that crashed after that long would: its young
   * successor is no sign of a crash loop.
   */
  private endStreakIfStable(slot: WorkerSlot, handle: WorkerHandle): void {
    if (Date.now() - handle.startedAt >= this.policy.options.stableAfterMs) slot.crashStreak = 0;
  }

  async getAllStatus(): Promise<GroupStatus> {
    const now = Date.now();
    const workers = await Promise.all(
      [...this.slots.values()]
        .sort((a, b) => a.pin - b.pin)
        .map(async (slot): Promise<WorkerStatus> => {
          const h = slot.current;
          const queried = h?.alive === true && h.state !== 'starting';
          const report = queried ? await h.query(STATUS_QUERY_TIMEOUT_MS) : null;
          // no answer from a process that is still there: its event loop runs synchronous code,
          // a long computation or a stuck one; either way it is busy
          const silent = queried && report === null && h.alive && h.state !== 'draining';
          let state = slot.state(this.stopping);
          if (state === 'ready' && (report?.busy || silent)) state = 'busy';
          return {
            pin: slot.pin,
            pid: h?.alive ? h.pid : null,
            // what ps shows: the worker may have renamed itself
            title:
              (h?.alive && h.state !== 'starting' ? Process.title(h.pid) : null) ||
              (h?.title ?? formatTitle(this.config.titlePrefix, 'Worker', this.config.baseTitle, slot.pin)),
            state,
            kind: slot.kind,
            memory: h?.alive ? Process.rss(h.pid) : null,
            cpu: h?.alive ? this.cpu.sample(h.pid, now) : null,
            startedAt: h?.alive ? h.startedAt : null,
            uptimeSeconds: h?.alive ? Math.floor((now - h.startedAt) / 1000) : 0,
            executions: report?.executions ?? h?.executions ?? 0,
            restarts: slot.restarts,
            lastExit: slot.lastExit,
            ...(slot.nextStartAt ? { nextStartAt: slot.nextStartAt } : {}),
            ...this.crashLoop(slot, now),
            ...(silent ? { unresponsive: true as const } : {}),
            // stopped by a signal, not busy: it runs nothing until SIGCONT
            ...(silent && isStoppedState(Process.stat(h.pid)?.state) ? { suspended: true as const } : {}),
            ...(h?.alive && h.refusal ? { messageBacklog: h.refusal } : {}),
            ...this.otherProcesses(slot, now),
          };
        }),
    );
    return {
      master: {
        pid: process.pid,
        title: process.title,
        baseTitle: this.config.baseTitle,
        state: this.state,
        memory: process.memoryUsage.rss(),
        startedAt: this.startedAt,
        uptimeSeconds: Math.floor((now - this.startedAt) / 1000),
        workerCount: workers.filter((w) => w.pid !== null).length,
        targetWorkers: this.target,
        version: VERSION,
        ...(this.log.problem ? { logProblem: this.log.problem } : {}),
        run: runStatus(this.launch, this.config, { source: this.source, logFile: this.logFile }),
        options: optionsStatus(this.config),
        // copies: a caller in this process must not change what the next status says
        ...(this.envUpdate
          ? { envUpdatedAt: this.envUpdate.at, envUpdate: structuredClone(this.envUpdate.names) }
          : {}),
        ...(this.lastReload ? { lastReload: structuredClone(this.lastReload) } : {}),
      },
      workers,
    };
  }

  /** `others` of a PIN's status: its successor and replaced processes, when it has any. */
  private otherProcesses(slot: WorkerSlot, now: number): { others?: PinProcessStatus[] } {
    const others: PinProcessStatus[] = [];
    const add = (h: WorkerHandle, role: PinProcessStatus['role']) => {
      if (!h.alive || h === slot.current || h.state === 'exited') return;
      others.push({
        pid: h.pid,
        title: (h.state !== 'starting' ? Process.title(h.pid) : null) || h.title,
        role,
        state: h.state,
        memory: Process.rss(h.pid),
        startedAt: h.startedAt,
        uptimeSeconds: Math.floor((now - h.startedAt) / 1000),
      });
    };
    if (slot.replacement) add(slot.replacement, 'successor');
    for (const old of slot.retiring) add(old, 'replaced');
    return others.length > 0 ? { others } : {};
  }

  private controlHandler() {
    return {
      ping: async () => ({
        pid: process.pid,
        baseTitle: this.config.baseTitle,
        version: VERSION,
        ...(this.source ? { source: this.source } : {}),
      }),
      status: () => this.getAllStatus(),
      stop: async () => {
        const outcome = await this.stop();
        // Answer first, then leave: the response is written before the process ends.
        setImmediate(() => this.router.unregister(this));
        return { stopped: true, ...outcome };
      },
      restart: async ({ env, configEnv }: ReloadArgs) => {
        const outcome = await this.restart({ env, configEnv });
        return { restarted: true, ...outcome };
      },
      reload: ({ env, configEnv }: ReloadArgs) => this.reload({ env, configEnv }),
      scale: ({ workers }: { workers: number }) => this.scale(workers),
      signal: async ({ signal }: { signal: string }) => {
        process.kill(process.pid, signal as NodeJS.Signals);
        return { sent: signal };
      },
    };
  }
}

/** executeTimes lowered at random by up to `jitter`, so a group does not recycle in step. */
function jitterCount(executeTimes: number, jitter: number): number {
  if (executeTimes <= 1 || jitter <= 0) return executeTimes;
  return Math.max(1, Math.round(executeTimes * (1 - jitter * Math.random())));
}

/** A PIN whose new worker failed to become ready during a restart or a scale. */
interface NotReady {
  pin: number;
  reason: string;
}

/** A catch handler that records why `pin`'s new worker did not become ready. */
function noteNotReady(into: NotReady[], pin: number): (err: unknown) => void {
  return (err) => {
    // the message without its hint: the error that names the PINs has a hint of its own
    const text = err instanceof Error ? err.message : String(err);
    const hint = err instanceof DroverError && err.hint ? `; ${err.hint}` : '';
    const reason = hint && text.endsWith(hint) ? text.slice(0, -hint.length) : text;
    into.push({ pin, reason: reason.replace(/^drover: /, '') });
  };
}
