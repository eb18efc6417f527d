/** Data model of `status`, shared by the master, the control socket and the CLI. */
import type { ReadyWhen } from './config.js';

export type WorkerState =
  /** forked, init not finished */
  | 'starting'
  /** ready and idle between executions (or a plain script that is running) */
  | 'ready'
  /** inside an execution or a task */
  | 'busy'
  /** asked to stop: finishing its current execution */
  | 'draining'
  /** crashed; waiting before the next respawn */
  | 'backoff'
  /** no process: the group is stopping or stopped */
  | 'stopped'
  /** ended normally (normalExitCode or done()) and will not be respawned */
  | 'finished'
  /** respawn gave up after the configured cap */
  | 'failed';

/** Why a worker process ended: only `crash` and `hang` are respawned with backoff. */
export type ExitReason =
  /** an exit nobody asked for: a non-normal code, a signal, an uncaught error */
  | 'crash'
  /** replaced after `executeTimes` executions, `limitSeconds` of age or `maxMemory` of RSS */
  | 'recycle'
  /** the group stopped */
  | 'stop'
  /** `restart`: every worker stopped and started again */
  | 'restart'
  /** ended on its own: `normalExitCode` or `worker.done()`; not respawned */
  | 'normal'
  /** replaced by a rolling reload (SIGHUP, `reload`) once its successor was ready */
  | 'reload'
  /** killed after missing heartbeats for `hangTimeout` */
  | 'hang'
  /** removed by a scale down (SIGTTOU, `scale`) */
  | 'scale'
  /** a task pool's temporary worker that had nothing to do for `idleTimeout` */
  | 'idle';

export interface ExitRecord {
  code: number | null;
  signal: NodeJS.Signals | null;
  reason: ExitReason;
  /** epoch ms */
  at: number;
  /** first line of the error that ended it, when the worker reported one */
  error?: string;
}

export interface WorkerStatus {
  pin: number;
  pid: number | null;
  title: string;
  state: WorkerState;
  /** permanent workers are kept; temporary ones (task pools) leave when idle */
  kind: 'permanent' | 'temporary';
  /** resident set size in bytes */
  memory: number | null;
  /** percent of one core since the previous sample */
  cpu: number | null;
  /** epoch ms */
  startedAt: number | null;
  uptimeSeconds: number;
  executions: number;
  restarts: number;
  lastExit: ExitRecord | null;
  /** epoch ms of the next respawn while in backoff */
  nextStartAt?: number;
  /**
   * Present while the PIN crash-loops: its fast crashes in a row (2 or more) that its current
   * worker has not yet outlived by `restart.stableAfter`. Between two crashes the PIN is
   * `starting` or `ready`, so `state` alone does not tell a loop. Absent in an older master's status.
   */
  crashStreak?: number;
  /**
   * Present when the worker did not answer this status query within 300 ms: its event loop runs
   * synchronous code, a long computation or a stuck one (`state` is then `busy`, `executions` the
   * last known). `hangTimeout` has a worker that stays silent that long replaced.
   */
  unresponsive?: true;
  /**
   * Present when the process is stopped (SIGSTOP, SIGTSTP, or a debugger holds it): it runs
   * nothing until it gets SIGCONT. Always with `unresponsive`.
   */
  suspended?: true;
  /**
   * Present while the master refuses messages to this worker (`sendTo` false, `broadcast` skipping
   * it) because it does not read them as fast as they come: `messages` (and their JSON `bytes`)
   * wait in the master for it, at the bound of 10,000 messages or 16 MiB, until it reads down to
   * half; `refused` were refused since `since` (epoch ms). Its event loop is blocked or its process
   * stopped, it reads slower than it is sent to, or it is not ready yet: the master's log says
   * which. Absent in an older master's status.
   */
  messageBacklog?: { messages: number; bytes: number; since: number; refused: number };
  /**
   * The PIN's other live processes, present only while there are some: the successor starting
   * during a reload or a recycle, and replaced processes still finishing their last execution.
   */
  others?: PinProcessStatus[];
}

/** A process of a PIN other than the one serving it (`WorkerStatus.others`). */
export interface PinProcessStatus {
  pid: number;
  title: string;
  /** `successor`: starting to take the PIN over; `replaced`: handed the PIN over, finishing */
  role: 'successor' | 'replaced';
  state: 'starting' | 'ready' | 'draining';
  /** resident set size in bytes */
  memory: number | null;
  /** epoch ms */
  startedAt: number;
  uptimeSeconds: number;
}

/** What a group's workers run (`MasterStatus.run`). */
export interface RunStatus {
  /**
   * The module each worker runs as its main module, absolute: the script of `drover start
   * <script>` or of a config file entry (`mode: 'script'`), or the group's own entry script run
   * again (`mode: 'entry'`: a script that calls `new Manage(...).start()` itself).
   */
  script: string;
  mode: 'script' | 'entry';
  /** the arguments the script gets (`process.argv.slice(2)` in a worker) */
  args: string[];
  /** the workers' working directory, absolute */
  cwd: string;
  /**
   * Node options the workers get, drover's own left out (`--title`, its preload, its export
   * condition): the master's own Node options, then the group's `execArgv` (`--node-args`).
   */
  execArgv: string[];
  /**
   * The config file entry the group was started from: the file (absolute) and the entry as it
   * was validated at the start, without its `env` (JSON: `maxRestarts: Infinity` reads null).
   */
  source?: { file: string; entry: Record<string, unknown> };
  /** the file the master writes the group's log to (background mode); absent on a terminal or a custom logger */
  logFile?: string;
}

/** `ResolvedRestartPolicy` as JSON carries it (`MasterStatus.options.restart`). */
export interface RestartPolicyStatus {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  stableAfterMs: number;
  /** fast restarts in a row before a PIN gives up; null: never gives up (the default, Infinity) */
  maxRestarts: number | null;
}

/** The group's options as the master resolved them (`MasterStatus.options`); times in ms. */
export interface GroupOptionsStatus {
  /** RSS in bytes past which a worker is recycled; 0: no limit */
  maxMemory: number;
  readyWhen: ReadyWhen;
  readyTimeout: number;
  stopTimeout: number;
  /** silence after which a worker is killed and replaced; 0: off */
  hangTimeout: number;
  /** executions after which a worker is recycled; 0: no limit */
  executeTimes: number;
  /** age in seconds after which a worker is recycled; 0: no limit */
  limitSeconds: number;
  /** fraction by which executeTimes and limitSeconds are lowered at random per worker */
  recycleJitter: number;
  restart: RestartPolicyStatus;
  /** the exit code of a worker that finished for good */
  normalExitCode: number;
  /** the account the workers run as, when it is not the master's */
  user?: string | number;
  group?: string | number;
}

/**
 * The last environment update that was kept (`MasterStatus.envUpdate`): by a reload that
 * completed, or a restart (`--update-env`, `reload({ env })`). Names only, never values.
 */
export interface EnvUpdateStatus {
  by: 'reload' | 'restart';
  /** the variables the workers' environment gained, had changed and lost, sorted */
  added: string[];
  changed: string[];
  removed: string[];
}

/** What the last rolling reload did (`MasterStatus.lastReload`), see `ReloadResult`. */
export interface ReloadStatus {
  /** epoch ms when it ended */
  at: number;
  /** running workers replaced by a successor that became ready */
  replaced: number;
  /** PINs without a running worker (crash backoff, given up) that it started, ready */
  started: number;
  /** PINs without a running worker whose new worker did not become ready (their `lastExit` says why) */
  notStarted: number[];
  /** it stopped before the last PIN: the PINs not reached kept their workers */
  aborted: boolean;
  /** why it stopped */
  error?: string;
  /** it carried an environment update (kept only when it did not abort) */
  envUpdate?: true;
}

export interface MasterStatus {
  pid: number;
  title: string;
  baseTitle: string;
  state: 'starting' | 'running' | 'reloading' | 'stopping';
  memory: number;
  /** epoch ms */
  startedAt: number;
  uptimeSeconds: number;
  workerCount: number;
  /** configured number of workers */
  targetWorkers: number;
  /** present while the master's log cannot be written (its lines are dropped): what fails */
  logProblem?: string;
  version: string;
  /*
   * The fields below are sent by masters since `drover status <name>` describes a group; a
   * reader of an older master's status finds them absent.
   */
  /** what the workers run, from where */
  run?: RunStatus;
  /** the options an operator checks, resolved */
  options?: GroupOptionsStatus;
  /** epoch ms of the last environment update that was kept; absent: none since the start */
  envUpdatedAt?: number;
  /** that update (at `envUpdatedAt`): by what, and the names of the variables it changed */
  envUpdate?: EnvUpdateStatus;
  /** the last rolling reload that ran; absent: none since the start */
  lastReload?: ReloadStatus;
}

export interface GroupStatus {
  master: MasterStatus;
  workers: WorkerStatus[];
}
