import { EventEmitter } from 'node:events';
import { type ManageConfig, type ManageOptions, resolveManageConfig } from './config.js';
import { ControlClient } from './control/ControlClient.js';
import { DroverError, NotRunningError } from './errors.js';
import { ConsoleSink } from './log/ConsoleSink.js';
import { Logger } from './log/Logger.js';
import { type LaunchSpec, selfLaunch } from './master/launch.js';
import { Master, type MasterEvents, type ReloadResult } from './master/Master.js';
import { defaultRunDir, groupPaths } from './runtime/RunDir.js';
import type { GroupStatus } from './status.js';
import { type Work, type WorkInit, WorkerRuntime } from './worker/WorkerRuntime.js';

const MASTER_EVENTS = [
  'workerStart',
  'workerReady',
  'workerExit',
  'workerStop',
  'workerBackoff',
  'workerFailed',
  'message',
  'reload',
  'stop',
] as const satisfies readonly (keyof MasterEvents)[];

export interface ManageDeps {
  /** Where life-cycle events and worker output go. Default: the terminal. */
  logger?: Logger;
  /** What workers run. Default: this script again (process.argv[1]) with the same arguments. */
  launch?: LaunchSpec;
  /** End the process after a stop by signal or when all workers finished. Default true. */
  exitProcess?: boolean;
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
export class Manage<R = unknown> extends EventEmitter<MasterEvents> {
  readonly config: ManageConfig;
  private init?: WorkInit<R>;
  private work?: Work<R>;
  private master: Master | null = null;
  private readonly deps: ManageDeps;

  constructor(options: ManageOptions, deps: ManageDeps = {}) {
    super();
    this.config = resolveManageConfig(options);
    this.deps = deps;
  }

  /** Runs once per worker process before the first execution; its result is passed to every execution. */
  setWorkInit(init: WorkInit<R>): this {
    this.init = init;
    return this;
  }

  /** One execution. Repeated until a stop, a recycle or `worker.done()`. */
  setWork(work: Work<R>): this {
    this.work = work;
    return this;
  }

  get baseTitle(): string {
    return this.config.baseTitle;
  }

  /** True in a worker process of this group. */
  get isWorker(): boolean {
    return WorkerRuntime.current()?.group === this.config.baseTitle;
  }

  /** True in the process that runs this group's master. */
  get isMaster(): boolean {
    return this.master !== null;
  }

  async start(): Promise<void> {
    const runtime = WorkerRuntime.current();
    if (runtime) {
      // A worker of another group in the same script: nothing to do here.
      if (runtime.group !== this.config.baseTitle) return;
      if (this.work) await runtime.runLoop(this.init, this.work);
      else await runtime.runPlain(this.init);
      // The worker's life ends with process.exit; code after start() is master-only.
      return new Promise<never>(() => {});
    }
    if (this.master) return this.master.start();
    const master = new Master({
      config: this.config,
      launch: this.deps.launch ?? selfLaunch(),
      logger:
        this.deps.logger ??
        new Logger({
          baseTitle: this.config.baseTitle,
          level: this.config.logLevel,
          sinks: [new ConsoleSink()],
        }),
      exitProcess: this.deps.exitProcess,
    });
    for (const name of MASTER_EVENTS) {
      master.on(name, (...args: unknown[]) =>
        (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args),
      );
    }
    this.master = master;
    await master.start();
  }

  /** Graceful stop of this group (here, or in the process that runs it). */
  async stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.master) return this.master.stop();
    await this.remote('stop', opts);
  }

  /** Rolling reload: each worker is replaced once its successor is ready. */
  async reload(opts: { timeoutMs?: number } = {}): Promise<ReloadResult> {
    if (this.master) return this.master.reload();
    return this.remote<ReloadResult>('reload', opts);
  }

  /** Stops all workers, then starts them all again. */
  async restart(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.master) return this.master.restart();
    await this.remote('restart', opts);
  }

  /** Sets the number of workers. */
  async scale(workers: number): Promise<{ from: number; to: number }> {
    if (this.master) return this.master.scale(workers);
    return this.remote('scale', { workers });
  }

  /** Status of the master and every worker. */
  async status(): Promise<GroupStatus> {
    if (this.master) return this.master.getAllStatus();
    return this.remote<GroupStatus>('status');
  }

  getAllStatus(): Promise<GroupStatus> {
    return this.status();
  }

  /** Sends a structured value to every worker (master side). */
  broadcast(data: unknown): void {
    this.requireMaster('broadcast').broadcast(data);
  }

  /** Sends a structured value to the worker on `pin` (master side). */
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

  private async remote<T>(cmd: string, args?: object): Promise<T> {
    const runDir = this.config.runDir ?? defaultRunDir();
    const paths = groupPaths(runDir, this.config.baseTitle);
    const client = await ControlClient.connect(paths.socket).catch((err: { code?: string }) => {
      if (err.code === 'ENOTRUNNING') throw new NotRunningError(this.config.baseTitle);
      throw err;
    });
    try {
      return await client.request<T>(cmd, args, {
        timeoutMs: (args as { timeoutMs?: number })?.timeoutMs ?? 60_000,
      });
    } finally {
      client.close();
    }
  }
}
