/** Data model of `status`, shared by the master, the control socket and the CLI. */

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
   * Present when the worker did not answer this status query within 300 ms: its event loop runs
   * synchronous code, a long computation or a stuck one (`state` is then `busy`, `executions` the
   * last known). `hangTimeout` has a worker that stays silent that long replaced.
   */
  unresponsive?: true;
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
}

export interface GroupStatus {
  master: MasterStatus;
  workers: WorkerStatus[];
}
