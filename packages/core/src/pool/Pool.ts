import { EventEmitter } from 'node:events';
import { ConfigError, DroverError } from '../errors.js';
import type { Logger } from '../log/Logger.js';
import { Manage, type ManageDeps } from '../Manage.js';
import { masterSide } from '../masterSide.js';
import { MASTER_EVENT_NAMES, type ReloadResult } from '../master/events.js';
import { selfLaunch } from '../master/launch.js';
import type { MemoryConsumeOptions, MemoryQueue } from '../queue/MemoryQueue.js';
import type { Consumer, DeadLetter, Delivery, QueueBackend, QueueStats } from '../queue/QueueBackend.js';
import { bounded } from '../queue/bound.js';
import { DEFAULT_LEASE_MS } from '../queue/options.js';
import { submitAllAndWait, submitAndWait } from '../queue/submit.js';
import type { GroupStatus } from '../status.js';
import { currentRuntime } from '../worker/current.js';
import type { WorkerRuntime, WorkInit } from '../worker/WorkerRuntime.js';
import type { Autoscaler } from './Autoscaler.js';
import { CHUNK_KEY, expandLetter, isChunk, itemId, toChunks, validateChunkSize } from './chunk.js';
import type { Dispatcher, Job, Lane } from './Dispatcher.js';
import type { FailedTask, PoolEvents, TaskAttempt } from './events.js';
import { type PoolConfig, type PoolOptions, resolvePoolConfig } from './options.js';
import type { PoolMaster } from './PoolMaster.js';
import { type TaskHandler, TaskRunner } from './TaskRunner.js';
import { Process } from '../process/Process.js';
import { signalQuietly } from '../process/tree.js';

/** How long a stop waits for the queue to close once stopTimeout has run out. */
const CLOSE_GRACE_MS = 1_000;
/** How long status() waits for the queue's figures before it answers without them. */
const STATUS_QUEUE_MS = 1_000;

/** The queue, for messages: `queue 'jobs' on Redis at 10.0.0.5:6379`. */
function describeQueue(backend: { readonly queue: string; readonly location?: string }): string {
  return `queue '${backend.queue}'${backend.location ? ` on ${backend.location}` : ''}`;
}

/** How long the queue may go unanswered before the master warns: half a lease, 1-10 s. */
function silenceMs(leaseMs: number | undefined): number {
  return Math.min(10_000, Math.max(1_000, Math.round((leaseMs ?? DEFAULT_LEASE_MS) / 2)));
}

/** Resolves true when `promise` settled within `ms`, false otherwise (it is left to settle on its own). */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Options of one `submit`. */
export interface SubmitOptions {
  /** Idempotency key: submitting an id the queue still knows runs nothing new (see TaskSpec.id). */
  readonly id?: string;
  /** Not run before this many ms have passed. */
  readonly delayMs?: number;
  /** 0 (default) runs first; then 1 (highest) to 2_097_152 (lowest). */
  readonly priority?: number;
  /**
   * Stops waiting (ABORTED): for room in a bounded queue (the task is not queued), for Redis to
   * confirm the enqueue (it may or may not be queued: submit again with the same id), or for the
   * result (the task itself stays queued).
   */
  readonly signal?: AbortSignal;
  /**
   * Reject with ETIMEOUT when no result came within this many ms, the enqueue included (one
   * Redis has not confirmed by then may or may not be queued); the task itself stays queued.
   */
  readonly timeoutMs?: number;
}

/** Figures of the pool in its master, next to the group's status. */
export interface PoolFigures {
  minWorkers: number;
  maxWorkers: number;
  /** permanent workers wanted now */
  permanent: number;
  /** temporary workers running or starting */
  temporary: number;
  /** tasks the accepting workers can hold at once */
  capacity: number;
  /** attempts running on workers */
  inFlight: number;
  /** delivered by the queue, waiting here for a worker with room */
  waiting: number;
  /** the queue's figures; null when it did not answer within a second (Redis hung or down) */
  queue: QueueStats | null;
  /** why `queue` is null */
  queueError?: string;
}

export type PoolStatus = GroupStatus & { pool?: PoolFigures };

/** Options of one `submitBulk`. */
export interface SubmitBulkOptions extends Omit<SubmitOptions, 'id'> {
  /**
   * Payloads per queue task. Default 1: every payload is a task of its own. Above 1, tiny tasks
   * share the queue's cost per task: a chunk is delivered, timed, retried and dead-lettered as
   * one unit (if one item throws, the whole chunk runs again), and the task events report the
   * chunk. `ctx.taskId`, `onError` and `deadLetters()` still name each item (`<chunk id>.<index>`).
   */
  readonly chunkSize?: number;
}

export type PoolDeps = ManageDeps;

/** An attempt's outcome as it came back from its worker, before the queue recorded it. */
interface SettledAttempt {
  readonly attempt: TaskAttempt;
  readonly ms: number;
  readonly result: unknown;
}

/**
 * A task pool: workers that take tasks from a queue. The same script runs as master and as
 * worker: in a worker of this pool `start()` runs the task handler for the tasks the master
 * sends; in the master it forks `minWorkers` permanent workers, consumes the queue and hands
 * each task to a worker, adding temporary workers up to `maxWorkers` while the backlog lasts.
 *
 * ```ts
 * const pool = new Pool<{ n: number }, number>({ baseTitle: 'squares', minWorkers: 2, maxWorkers: 8 })
 *   .setTaskHandler(async ({ n }, ctx) => n * n);
 * await pool.start();
 * console.log(await pool.submit({ n: 7 })); // 49, computed in a worker
 * ```
 *
 * At least once: the master holds each task until its outcome arrives. A worker that dies
 * mid-task fails that attempt and the task runs again elsewhere; a handler that throws is
 * retried with backoff up to `maxAttempts`, then `onError`, `taskFail` and the dead letters.
 */
export class Pool<P = unknown, R = unknown, C = unknown> extends EventEmitter<PoolEvents<P, R>> {
  readonly config: PoolConfig<P>;
  private init?: WorkInit<C>;
  private handler?: TaskHandler<P, R, C>;
  private master: PoolMaster | null = null;
  private dispatcher: Dispatcher | null = null;
  private autoscaler: Autoscaler | null = null;
  private consumer: Consumer | null = null;
  private backendPromise: Promise<QueueBackend<P, R>> | null = null;
  private backendClosed: Promise<void> | null = null;
  /** the queue once producer() accepted it: submits skip its checks and awaits */
  private checkedProducer: QueueBackend<P, R> | null = null;
  /** the same, when it is the in-memory queue: submits skip the promise of a shared queue's round trip */
  private memoryProducer: MemoryQueue<P, R> | null = null;
  /** the read of the queue's figures under way for status() and the autoscaler: one at a time */
  private statsRead: Promise<QueueStats> | null = null;
  /** start() was called in this process as the master (the in-memory queue lives here) */
  private startCalled = false;
  private log: Logger | null = null;
  private readonly deps: PoolDeps;
  /**
   * Attempts whose outcome came back from a worker, until the queue records it: the task events
   * report only outcomes the queue accepted (one that came after its lease was lost is not).
   */
  private readonly outcomes = new WeakMap<Delivery, SettledAttempt>();

  constructor(options: PoolOptions<P>, deps: PoolDeps = {}) {
    // an async listener's rejection comes to [captureRejectionSymbol], not to an unhandled rejection
    super({ captureRejections: true });
    this.config = resolvePoolConfig(options);
    this.deps = deps;
  }

  /** Runs once per worker process before its first task; the result is `ctx.resources` (and typed so). */
  setWorkInit<T>(init: WorkInit<T>): Pool<P, R, T> {
    if (typeof init !== 'function')
      throw new ConfigError('setWorkInit()', init, 'a function (worker) => resources, run once per worker');
    const typed = this as unknown as Pool<P, R, T>;
    typed.init = init;
    return typed;
  }

  /**
   * Runs one task in a worker; the value it returns (JSON) is the task's result, and typed so:
   * `await submit()` resolves to what the handler returns (within `R`, when the pool declares it).
   */
  setTaskHandler<R2 extends R = R>(handler: TaskHandler<P, R2, C>): Pool<P, R2, C> {
    if (typeof handler !== 'function')
      throw new ConfigError(
        'setTaskHandler()',
        handler,
        'a function (payload, ctx) => result, run in a worker',
      );
    const typed = this as unknown as Pool<P, R2, C>;
    typed.handler = handler;
    return typed;
  }

  /**
   * A listener that throws (a bug in a `taskDone` handler, say) is logged, and the pool goes on:
   * thrown here, it would cut short the settling of a task (its submitter never answered) or end
   * the master. The group's own events are guarded the same way in the master.
   */
  override emit<K extends keyof PoolEvents<P, R>>(event: K, ...args: PoolEvents<P, R>[K]): boolean {
    try {
      return (super.emit as (event: K, ...args: PoolEvents<P, R>[K]) => boolean)(event, ...args);
    } catch (err) {
      this.listenerFailed(event, err);
      return true;
    }
  }

  override [EventEmitter.captureRejectionSymbol](err: unknown, event: unknown, ..._args: unknown[]): void {
    this.listenerFailed(event, err);
  }

  private listenerFailed(event: unknown, err: unknown): void {
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    if (this.log) this.log.error(`a '${String(event)}' listener threw; the pool goes on`, { error: detail });
    else process.emitWarning(`a '${String(event)}' listener threw; the pool goes on: ${detail}`);
  }

  get baseTitle(): string {
    return this.config.manage.baseTitle;
  }

  /** True in a worker process of this pool. */
  get isWorker(): boolean {
    return currentRuntime()?.group === this.baseTitle;
  }

  /** True in the process that runs this pool's master. */
  get isMaster(): boolean {
    return this.master !== null;
  }

  /**
   * In the master: opens the queue, starts the permanent workers and resolves once they are
   * ready and the queue is consumed. In a worker of this pool: runs its tasks and never returns.
   */
  async start(): Promise<void> {
    const runtime = currentRuntime();
    if (runtime) {
      if (runtime.group !== this.baseTitle) return;
      await this.runWorker(runtime);
      return new Promise<never>(() => {});
    }
    if (this.master) return this.master.start();
    if (!this.handler) throw this.noHandlerError();
    this.startCalled = true;
    try {
      await this.startMaster();
    } catch (error) {
      // what start() opened (the queue's connections, its timers) must not keep the process alive
      this.consumer = null;
      this.autoscaler?.stop();
      this.dispatcher?.close();
      await this.closeBackend();
      throw error;
    }
  }

  private async startMaster(): Promise<void> {
    const { config } = this;
    const { Autoscaler, ConsoleSink, Dispatcher, Logger, PoolMaster } = await masterSide();
    const log =
      this.deps.logger ??
      new Logger({ baseTitle: this.baseTitle, level: config.manage.logLevel, sinks: [new ConsoleSink()] });
    this.log = log;
    // The queue first: a Redis that does not answer fails start() before any worker is forked.
    const backend = await this.backend();
    const master = new PoolMaster({
      maxWorkers: config.maxWorkers,
      config: config.manage,
      launch: this.deps.launch ?? selfLaunch(),
      logger: log,
      exitProcess: this.deps.exitProcess,
    });
    for (const name of MASTER_EVENT_NAMES) {
      master.on(name, (...args: unknown[]) =>
        (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args),
      );
    }
    const dispatcher = new Dispatcher(
      {
        window: config.concurrencyPerWorker,
        taskTimeout: config.taskTimeout,
        taskTimeoutGrace: config.taskTimeoutGrace,
        forwardAborts: backend.capabilities.shared,
      },
      {
        started: (job, lane) => {
          if (this.listenerCount('taskStart') > 0) this.emit('taskStart', this.attemptInfo(job, lane));
        },
        settled: (job, lane, error, value) => this.onSettled(job, lane, error, value),
        stuck: (lane) => {
          log.error(`a task did not settle after taskTimeout: recycling its worker`, {
            pin: lane.pin,
            pid: lane.pid,
          });
          master.recycleWorker(lane.pid);
        },
        capacityChanged: () => this.consumer?.setConcurrency(dispatcher.capacity),
      },
    );
    const autoscaler = new Autoscaler(
      {
        maxWorkers: config.maxWorkers,
        window: config.concurrencyPerWorker,
        idleTimeout: config.idleTimeout,
        interval: config.scaleInterval,
        restart: config.manage.restart,
        queue: describeQueue(backend),
        silenceMs: silenceMs(config.backend.leaseMs),
      },
      master,
      dispatcher,
      () => this.readStats(backend),
      log,
      (info) => this.emit('scaleUp', info),
    );
    master.on('workerReady', (w) => {
      autoscaler.settled(w.pid);
      const send = master.channelTo(w.pid);
      if (send) dispatcher.addLane(w.pid, w.pin, send);
    });
    master.on('workerStart', (w) => {
      if (master.isTemporary(w.pin)) autoscaler.temporaryStarted(w.pid);
    });
    master.on('workerStop', (w) => dispatcher.closeLane(w.pid));
    master.on('workerExit', (w) => {
      autoscaler.exited(w.pid, w.reason);
      dispatcher.laneExited(w.pid, w.code, w.signal);
    });
    master.on('internalMessage', (m, w) => {
      if (m.$drover === 'results') dispatcher.onResults(w.pid, m.results);
    });
    master.setBeforeStop(() => this.quiesce());
    this.master = master;
    this.dispatcher = dispatcher;
    this.autoscaler = autoscaler;
    await master.start();
    const consumeOptions: MemoryConsumeOptions<P> = {
      concurrency: dispatcher.capacity,
      onFinalFailure: (delivery, error) => this.onFinalFailure(delivery, error),
      onAcknowledged: (delivery) => this.onAcknowledged(delivery),
      onRetry: (delivery, error) => this.onRetry(delivery, error),
      onError: (error) => log.warning(`queue: ${error.message}`),
      // the dispatcher only serialises payloads to workers, and its results are fresh from IPC
      passThrough: true,
    };
    this.consumer = backend.consume((delivery) => dispatcher.run(delivery) as Promise<R>, consumeOptions);
    autoscaler.start();
  }

  /** Enqueues one task and resolves with its result (from whichever worker, on whichever host, ran it). */
  submit(payload: P, options: SubmitOptions = {}): Promise<R> {
    const backend = this.memoryProducer;
    if (backend)
      return backend.enqueueAndWait(
        { payload, id: options.id, delayMs: options.delayMs, priority: options.priority },
        { signal: options.signal, timeoutMs: options.timeoutMs },
      );
    return this.submitThrough(payload, options);
  }

  private async submitThrough(payload: P, options: SubmitOptions): Promise<R> {
    const backend = this.checkedProducer ?? (await this.producer());
    const task = { payload, id: options.id, delayMs: options.delayMs, priority: options.priority };
    const wait = { signal: options.signal, timeoutMs: options.timeoutMs };
    // the first submits of a pool come here too, while its in-memory queue is looked up: theirs
    // must keep no result either (a generated id is never returned, so no one could read it)
    if (this.memoryProducer) return this.memoryProducer.enqueueAndWait(task, wait);
    // signal and timeoutMs bound the enqueue too: a Redis that hangs must not hold the submit
    return submitAndWait(backend, task, wait);
  }

  /**
   * Enqueues many tasks at once (all or nothing) and resolves with their results in order;
   * rejects with the first task that failed for good.
   */
  async submitBulk(payloads: readonly P[], options: SubmitBulkOptions = {}): Promise<R[]> {
    if (!Array.isArray(payloads))
      throw new DroverError(
        'ECONFIG',
        `drover: submitBulk() takes an array of payloads, got ${typeof payloads}`,
        {
          hint: 'pass [payload1, payload2, ...], or use submit() for one task',
        },
      );
    const chunkSize = validateChunkSize(options.chunkSize);
    const backend = await this.producer();
    const { delayMs, priority } = options;
    const wait = { signal: options.signal, timeoutMs: options.timeoutMs };
    const specs = (items: readonly unknown[]) =>
      items.map((payload) => ({ payload: payload as P, delayMs, priority }));
    const memory = this.memoryProducer;
    if (memory) {
      if (chunkSize === 1) return memory.enqueueAndWaitAll(specs(payloads), wait);
      const results = await memory.enqueueAndWaitAll(specs(toChunks(payloads, chunkSize)), wait);
      return (results as unknown as R[][]).flat() as R[];
    }
    // signal and timeoutMs bound the enqueue too, as for submit()
    if (chunkSize === 1) return submitAllAndWait(backend, specs(payloads), wait);
    const results = await submitAllAndWait(backend, specs(toChunks(payloads, chunkSize)), wait);
    return (results as unknown as R[][]).flat() as R[];
  }

  /** The queue's counters (for a shared queue: every master's). */
  async stats(): Promise<QueueStats> {
    this.assertQueueHere('stats() of', 'read');
    return (await this.backend()).stats();
  }

  /** Tasks that failed for good, newest first. */
  async deadLetters(limit = 100): Promise<DeadLetter<P>[]> {
    this.assertQueueHere('deadLetters() of', 'read');
    const letters = await (await this.backend()).deadLetters({ limit });
    return letters.flatMap((letter) => expandLetter<P>(letter)).slice(0, limit);
  }

  /** Status of the master and every worker (kind: permanent or temporary), and in the master the pool's figures. */
  async status(): Promise<PoolStatus> {
    if (!this.master) return this.remote().status();
    const group = await this.master.getAllStatus();
    const counts = this.master.slotCounts();
    const dispatcher = this.dispatcher!;
    return {
      ...group,
      pool: {
        minWorkers: this.config.minWorkers,
        maxWorkers: this.config.maxWorkers,
        permanent: counts.permanent,
        temporary: counts.temporary,
        capacity: dispatcher.capacity,
        inFlight: dispatcher.inFlight,
        waiting: dispatcher.waiting,
        ...(await this.boundedStats()),
      },
    };
  }

  /**
   * The queue's figures for status(), waited for a second at most: a health check built on
   * status() gets the workers and `queue: null` with the reason while Redis hangs or is down. A
   * queue this process closed rejects (ECLOSED), as stats() does.
   */
  private async boundedStats(): Promise<{ queue: QueueStats | null; queueError?: string }> {
    const backend = await this.backend();
    const silent = () => new Error(`${describeQueue(backend)} did not answer within ${STATUS_QUEUE_MS} ms`);
    try {
      return {
        queue: await bounded(this.readStats(backend), { timeoutMs: STATUS_QUEUE_MS }, silent, silent),
      };
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ECLOSED') throw error;
      return { queue: null, queueError: (error as Error).message };
    }
  }

  /** One read of the queue's figures at a time: a Redis that hangs does not pile them up. */
  private readStats(backend: QueueBackend<P, R>): Promise<QueueStats> {
    if (!this.statsRead) {
      const read = backend.stats().finally(() => {
        if (this.statsRead === read) this.statsRead = null;
      });
      this.statsRead = read;
    }
    return this.statsRead;
  }

  /**
   * Graceful stop of the pool (here, or in the process that runs it): no new tasks are taken,
   * running ones finish (up to stopTimeout), then the workers stop and the queue closes. Tasks
   * not started stay in a shared queue; with the in-memory queue their `submit` rejects (ECLOSED).
   */
  async stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.master) {
      await this.master.stop();
      await this.closeBackend();
      return;
    }
    await this.remote().stop(opts);
  }

  /** Rolling reload of the workers; tasks running on a replaced worker finish there first. */
  async reload(opts: { timeoutMs?: number } = {}): Promise<ReloadResult> {
    if (this.master) return this.master.reload();
    return this.remote().reload(opts);
  }

  /** Closes this process's connection to the queue (a producer that only submits). */
  async close(): Promise<void> {
    if (this.master) throw this.notForMasterError();
    await this.closeBackend();
  }

  // ---- internals ----------------------------------------------------------------------

  private async runWorker(runtime: WorkerRuntime): Promise<void> {
    const handler = this.handler;
    if (!handler) {
      runtime.failInit(this.noHandlerError());
      return;
    }
    let resources = undefined as C;
    const runner = new TaskRunner<P, R, C>(runtime, handler, () => resources, {
      maxAttempts: this.config.retry.maxAttempts,
      taskTimeout: this.config.taskTimeout,
    });
    runtime.setExtension(runner);
    await runtime.runPlain(async (worker) => {
      if (this.init) resources = await this.init(worker);
    });
  }

  private backend(): Promise<QueueBackend<P, R>> {
    this.backendPromise ??= Promise.resolve().then(
      () => this.config.queue(this.config.backend) as QueueBackend<P, R> | Promise<QueueBackend<P, R>>,
    );
    return this.backendPromise;
  }

  /** The queue, for submitting: any process can submit to a shared queue; the in-memory one lives in the master. */
  private async producer(): Promise<QueueBackend<P, R>> {
    this.assertQueueHere('submit() to', 'submit');
    const backend = await this.backend();
    if (backend.kind === 'memory') {
      const { MemoryQueue } = await masterSide();
      if (backend instanceof MemoryQueue) this.memoryProducer = backend;
    }
    this.checkedProducer = backend;
    return backend;
  }

  /**
   * The in-memory queue lives in the master: any other process (a worker, a script) would open an
   * empty queue of its own, whose submits never run and whose figures say nothing is wrong.
   */
  private assertQueueHere(what: string, verb: 'submit' | 'read'): void {
    if ((this.config.queue as { kind?: string }).kind !== 'memory' || this.startCalled) return;
    const where = currentRuntime() ? 'a worker process' : 'a process that did not start it';
    throw new DroverError(
      'ENOTMASTER',
      `drover: ${what} pool '${this.baseTitle}' from ${where}: its in-memory queue lives in the master, the process that called start()`,
      {
        hint: `${verb} in the master (after calling start()), or use a shared queue (bullmqBackend) to ${verb} from any process`,
      },
    );
  }

  /** Closes the queue; after `timeoutMs` its connections are ended without waiting for its server. */
  private closeBackend(timeoutMs = CLOSE_GRACE_MS): Promise<void> {
    if (!this.backendPromise) return Promise.resolve();
    this.backendClosed ??= this.backendPromise.then(
      async (backend) => {
        if (await settledWithin(backend.close(), timeoutMs)) return;
        this.log?.warning('stop: the queue did not close in time; ending its connections');
        backend.terminate?.();
        await settledWithin(backend.close(), CLOSE_GRACE_MS);
      },
      () => undefined,
    );
    return this.backendClosed;
  }

  /**
   * First step of every stop, bounded by stopTimeout in all: take nothing new, let running tasks
   * finish, close the queue. Tasks still running at the deadline are given up (their workers are
   * killed, as the group's stop would do after its own stopTimeout); a queue that cannot be reached
   * is left without acknowledging them: at least once, another consumer gets them after their
   * lease expires.
   */
  private async quiesce(): Promise<void> {
    this.autoscaler?.stop();
    const deadline = Date.now() + this.config.manage.stopTimeout;
    const left = () => Math.max(0, deadline - Date.now());
    const consumer = this.consumer;
    const dispatcher = this.dispatcher;
    let consumerStuck = false;
    if (consumer) {
      await settledWithin(consumer.pause(), left());
      const idle = (await dispatcher?.whenIdle(left())) ?? true;
      // from here on the pool has given up what still runs: no retry events for it
      this.consumer = null;
      if (!idle && dispatcher) this.killBusyWorkers(dispatcher);
      // Idle: drain, so the backend records the outcomes it has just been handed. Otherwise
      // whatever still runs fails this attempt and is retried later.
      const closed = await settledWithin(consumer.close({ drain: idle }), Math.max(left(), CLOSE_GRACE_MS));
      if (!closed) {
        this.log?.warning(
          'stop: the queue did not close its consumer in time; its tasks are left to their leases',
        );
        consumerStuck = true;
      }
    }
    dispatcher?.close();
    await this.closeBackend(consumerStuck ? 0 : Math.max(left(), CLOSE_GRACE_MS));
  }

  /** Ends the workers that still run tasks at the stop's deadline, so the group's stop need not wait for them. */
  private killBusyWorkers(dispatcher: Dispatcher): void {
    for (const lane of dispatcher.allLanes()) {
      if (lane.load === 0) continue;
      this.log?.warning(`stop: ${lane.load} task(s) still running after stopTimeout: killing their worker`, {
        pin: lane.pin,
        pid: lane.pid,
      });
      // what its task started goes with it (collected while the worker still is their parent)
      for (const child of Process.descendants(lane.pid)) signalQuietly(child.pid, 'SIGKILL');
      signalQuietly(lane.pid, 'SIGKILL');
    }
  }

  private attemptInfo(job: Job, lane: Lane): TaskAttempt {
    return {
      taskId: job.delivery.taskId,
      attempt: job.delivery.attempt,
      pid: lane.pid,
      pin: lane.pin,
      kind: this.master?.isTemporary(lane.pin) ? 'temporary' : 'permanent',
    };
  }

  /** An attempt's outcome came back from its worker; its event waits for the queue to record it. */
  private onSettled(job: Job, lane: Lane, error: Error | undefined, value: unknown): void {
    if (this.listenerCount(error === undefined ? 'taskDone' : 'taskRetry') === 0) return;
    this.outcomes.set(job.delivery, {
      attempt: this.attemptInfo(job, lane),
      ms: Date.now() - job.sentAt,
      result: value,
    });
  }

  private onAcknowledged(delivery: Delivery): void {
    const settled = this.outcomes.get(delivery);
    if (!settled) return;
    this.outcomes.delete(delivery);
    this.emit('taskDone', { ...settled.attempt, ms: settled.ms, result: settled.result as R });
  }

  private onRetry(delivery: Delivery, error: Error): void {
    const settled = this.outcomes.get(delivery);
    if (!settled) return;
    this.outcomes.delete(delivery);
    // once a stop has closed the consumer, what still settles is no longer this pool's to retry
    if (this.consumer !== null) this.emit('taskRetry', { ...settled.attempt, error });
  }

  private onFinalFailure(delivery: Delivery<P>, error: Error): void {
    const { taskId, payload, attempt } = delivery;
    if (isChunk(payload)) {
      // each item of a chunk failed for good with it
      payload[CHUNK_KEY].forEach((item, index) => {
        this.reportFailure({ taskId: itemId(taskId, index), payload: item as P, attempts: attempt }, error);
      });
      return;
    }
    this.reportFailure({ taskId, payload, attempts: attempt }, error);
  }

  private reportFailure(task: FailedTask<P>, error: Error): void {
    this.emit('taskFail', { ...task, error });
    try {
      this.config.onError?.(error, task);
    } catch (callbackError) {
      this.log?.error(`onError threw for task '${task.taskId}': ${(callbackError as Error).message}`);
    }
  }

  private remote(): Manage {
    const { manage } = this.config;
    return new Manage({
      baseTitle: manage.baseTitle,
      titlePrefix: manage.titlePrefix,
      ...(manage.runDir ? { runDir: manage.runDir } : {}),
    });
  }

  private noHandlerError(): DroverError {
    return new DroverError('ENOHANDLER', `drover: pool '${this.baseTitle}' has no task handler`, {
      hint: 'call setTaskHandler(async (payload, ctx) => result) before start(), in the script both roles run',
    });
  }

  private notForMasterError(): DroverError {
    return new DroverError(
      'ENOTPRODUCER',
      `drover: close() is for producer processes of pool '${this.baseTitle}'`,
      {
        hint: 'in the master, call stop(): it stops the workers and closes the queue',
      },
    );
  }
}
