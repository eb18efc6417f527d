import { DroverError } from '../errors.js';
import {
  abortedError,
  backendClosedError,
  batchTooLargeError,
  consumerClosedError,
  leaseLostError,
  NOT_QUEUED_HINT,
  queueFullError,
  roomTimeoutError,
  runningClosedError,
  TaskFailedError,
  unknownTaskError,
} from './errors.js';
import { Deadline } from './bound.js';
import { TIMER_MAX_MS } from '../timerLimit.js';
import { type Lease, MemoryConsumer, type ConsumerHost } from './memory/MemoryConsumer.js';
import { ReadyQueue } from './memory/ReadyQueue.js';
import { LazyAbort } from './LazyAbort.js';
import { MemoryDelivery } from './memory/MemoryDelivery.js';
import { Retained } from './memory/Retained.js';
import { TimerQueue } from './memory/TimerQueue.js';
import { copyJson, plainOrCopy } from './memory/copyJson.js';
import { type ResolvedBackendOptions, resolveBackendOptions, validateTaskSpec } from './options.js';
import type {
  BackendCapabilities,
  BackendOptions,
  ConsumeOptions,
  Consumer,
  DeadLetter,
  EnqueueOptions,
  Handler,
  QueueBackend,
  QueueStats,
  TaskSpec,
  WaitForResultOptions,
} from './QueueBackend.js';
import { ResultWaiters } from './ResultWaiters.js';
import { namingWholeTimeout } from './submit.js';

/** Options of `MemoryQueue.consume`: the contract's, and one for handlers that hand data on. */
export interface MemoryConsumeOptions<P = unknown> extends ConsumeOptions<P> {
  /**
   * The handler only passes payloads on (serialised to another process) without changing them,
   * and resolves with values no one else holds (parsed from another process's reply). Its
   * deliveries then share the queued copy of the payload, and its plain results are kept as they
   * are: two copies fewer per task. Default false: every delivery and result is copied.
   */
  readonly passThrough?: boolean;
}

interface TaskRecord {
  readonly id: string;
  /** a JSON copy taken at enqueue: later changes to the caller's object do not reach it */
  readonly payload: unknown;
  readonly priority: number;
  /** deliveries that ran (or are running) the handler */
  attempts: number;
  lease?: Lease;
  /** set when the last allowed attempt lost its lease: the next pickup fails the task */
  deferredFailure?: Error;
  /** its running attempt was cut short by a close without draining (a stop gave up on it), until delivered again */
  interrupted?: { readonly attempt: number; readonly error: Error };
  /** its generated id was never returned (enqueueAndWait): the result goes to its waiter only */
  readonly unlisted: boolean;
}

interface RoomWaiter {
  readonly needed: number;
  resolve(): void;
  reject(error: unknown): void;
}

interface StoredDeadLetter {
  readonly taskId: string;
  readonly payload: unknown;
  readonly attempts: number;
  readonly error: string;
  /** the last attempt's error itself, for the ETASKFAILED of later waits */
  readonly cause: Error;
  readonly failedAt: number;
}

const CAPABILITIES: BackendCapabilities = {
  durable: false,
  shared: false,
  priorities: true,
  delayedTasks: true,
  idempotentIds: true,
};

function first<R>(results: R[]): R {
  return results[0]!;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * The default queue: tasks live in this process (the master). Same contract as a shared
 * backend: leases with expiry (for abandoned consumers), retries with backoff timers, a dead-letter
 * store, idempotent ids, results kept for `waitForResult`, and an optional bound.
 */
export class MemoryQueue<P = unknown, R = unknown> implements QueueBackend<P, R>, ConsumerHost {
  readonly kind = 'memory';
  readonly capabilities = CAPABILITIES;
  readonly queue: string;

  private readonly options: ResolvedBackendOptions;
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly ready = new ReadyQueue<TaskRecord>();
  private readonly delayed = new TimerQueue<TaskRecord>((task) => this.makeReady(task));
  private readonly results: Retained<unknown>;
  private readonly dead: Retained<StoredDeadLetter>;
  private readonly waiters = new ResultWaiters();
  private readonly abandonedLeases = new Set<Lease>();
  private consumers: MemoryConsumer[] = [];
  private nextConsumer = 0;
  private roomWaiters: RoomWaiter[] = [];
  /** capacity promised to enqueues that waited for room and have not inserted yet */
  private reserved = 0;
  private inFlight = 0;
  private lastId = 0;
  private pumping = false;
  private pumpAgain = false;
  private closed = false;

  constructor(options: BackendOptions) {
    this.options = resolveBackendOptions(options);
    this.queue = this.options.queue;
    this.results = new Retained(this.options.keepResults);
    this.dead = new Retained(this.options.keepDeadLetters);
  }

  async enqueue(specs: readonly TaskSpec<P>[], options: EnqueueOptions = {}): Promise<string[]> {
    const copies = this.checkedCopies(specs);
    if (this.options.maxQueued !== Number.POSITIVE_INFINITY) {
      const reserved = await this.admit(specs, options.signal, options.timeoutMs);
      // the insert below takes the room the reservation held
      this.reserved -= reserved;
    }
    if (this.closed) throw backendClosedError(this.kind, this.queue);
    const ids = specs.map((spec, index) => this.insert(spec, copies[index]));
    this.pump();
    return ids;
  }

  consume(handler: Handler<P, R>, options: MemoryConsumeOptions<P>): Consumer {
    if (this.closed) throw backendClosedError(this.kind, this.queue);
    if (typeof handler !== 'function')
      throw new DroverError('ECONFIG', `drover: consume() needs a handler function, got ${typeof handler}`, {
        hint: 'pass async (delivery) => result',
      });
    const consumer = new MemoryConsumer(
      this,
      handler as Handler<unknown, unknown>,
      options as MemoryConsumeOptions<unknown>,
    );
    this.consumers.push(consumer);
    this.pump();
    return consumer;
  }

  async stats(): Promise<QueueStats> {
    return {
      ready: this.ready.size,
      delayed: this.delayed.size,
      inFlight: this.inFlight,
      dead: this.dead.size,
    };
  }

  /**
   * `enqueue([task])`, then `waitForResult` of its id, in one step: for a submitter that waits for
   * its own task. A task without an `id` gets one that is never returned, so its result goes to
   * this caller only and is not kept (`waitForResult` of it: ETASKUNKNOWN once it is done), in a
   * bounded queue too; its dead letter is kept as usual. `signal` and `timeoutMs` bound the whole
   * of it, the wait for room included, as they do `submitAndWait`.
   */
  enqueueAndWait(task: TaskSpec<P>, options: WaitForResultOptions = {}): Promise<R> {
    if (this.closed || this.options.maxQueued !== Number.POSITIVE_INFINITY)
      return this.admitAndWait([task], options).then(first);
    try {
      validateTaskSpec(task, 0);
      const result = this.insertAndWait(task, copyJson(task.payload, 'tasks[0].payload'), options);
      this.pump();
      return result;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `enqueue(tasks)` (all or nothing), then the result of each, in order, as `enqueueAndWait`
   * does for one: rejects with the first task that failed for good.
   */
  enqueueAndWaitAll(tasks: readonly TaskSpec<P>[], options: WaitForResultOptions = {}): Promise<R[]> {
    if (this.closed || this.options.maxQueued !== Number.POSITIVE_INFINITY || !Array.isArray(tasks))
      return this.admitAndWait(tasks, options);
    try {
      const copies = tasks.map((spec, index) => {
        validateTaskSpec(spec, index);
        return copyJson(spec.payload, `tasks[${index}].payload`);
      });
      const results = tasks.map((spec, index) => this.insertAndWait(spec, copies[index], options));
      this.pump();
      return Promise.all(results);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  waitForResult(taskId: string, options: WaitForResultOptions = {}): Promise<R> {
    if (this.closed) return Promise.reject(backendClosedError(this.kind, this.queue));
    const result = this.results.get(taskId);
    if (result !== undefined) return Promise.resolve(copyJson<R>(result, 'a kept result'));
    const dead = this.dead.get(taskId);
    if (dead) return Promise.reject(new TaskFailedError(taskId, dead.attempts, dead.cause));
    if (!this.tasks.has(taskId))
      return Promise.reject(unknownTaskError(this.queue, taskId, this.options.keepResults.ageMs));
    return this.waiters.wait<R>(taskId, options);
  }

  async deadLetters(options: { limit?: number } = {}): Promise<DeadLetter<P>[]> {
    return this.dead.newest(options.limit ?? 100).map((letter) => ({
      taskId: letter.taskId,
      payload: copyJson<P>(letter.payload, 'a dead letter payload'),
      attempts: letter.attempts,
      error: letter.error,
      failedAt: letter.failedAt,
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing = backendClosedError(this.kind, this.queue);
    for (const waiter of this.roomWaiters) waiter.reject(closing);
    this.roomWaiters = [];
    await Promise.all([...this.consumers].map((consumer) => consumer.close({ drain: false })));
    this.delayed.clear();
    this.results.close();
    this.dead.close();
    for (const lease of this.abandonedLeases) clearTimeout(lease.expiryTimer);
    this.abandonedLeases.clear();
    // a task the stop gave up on while it ran is not one that was refused: it may have partly run
    this.waiters.rejectEach((taskId) => {
      const interrupted = this.tasks.get(taskId)?.interrupted;
      return interrupted
        ? runningClosedError(this.queue, taskId, interrupted.attempt, interrupted.error)
        : closing;
    });
  }

  // ---- ConsumerHost ----

  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.ready.size > 0) {
          const consumer = this.consumerWithRoom();
          if (!consumer) break;
          this.deliver(this.ready.shift()!, consumer);
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
    this.admitWaitingEnqueues();
  }

  interrupt(consumer: MemoryConsumer): void {
    for (const lease of [...consumer.leases]) {
      const task = this.tasks.get(lease.delivery.taskId)!;
      const error = consumerClosedError(task.id);
      task.interrupted = { attempt: lease.delivery.attempt, error };
      lease.controller.abort(error);
      this.release(lease);
      this.failAttempt(task, lease, error);
    }
    this.pump();
  }

  abandon(consumer: MemoryConsumer): void {
    for (const lease of [...consumer.leases]) {
      const task = this.tasks.get(lease.delivery.taskId)!;
      lease.controller.abort(
        new DroverError('EABANDONED', `drover: the consumer of task '${task.id}' was abandoned`, {
          hint: 'the task is delivered again after its lease expires',
        }),
      );
      this.release(lease);
      this.abandonedLeases.add(lease);
      lease.expiryTimer = setTimeout(() => this.expire(task, lease), this.options.leaseMs);
    }
  }

  detach(consumer: MemoryConsumer): void {
    this.consumers = this.consumers.filter((c) => c !== consumer);
  }

  // ---- internals ----

  /** Tasks waiting (ready or delayed), plus room promised to waiting enqueues. */
  private get queued(): number {
    return this.ready.size + this.delayed.size + this.reserved;
  }

  /**
   * Resolves once the new tasks of `specs` fit under `maxQueued` (or throws EQUEUEFULL). Waiting
   * enqueues are served in order, so a large batch is not starved by small ones.
   */
  private async admit(
    specs: readonly TaskSpec<P>[],
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ): Promise<number> {
    const deadline = new Deadline(timeoutMs);
    const { maxQueued } = this.options;
    let reservedHere = 0;
    try {
      for (;;) {
        const fresh = this.countNew(specs);
        if (fresh > maxQueued) throw batchTooLargeError(this.queue, fresh, maxQueued);
        const queuedByOthers = this.queued - reservedHere;
        const myTurn = reservedHere > 0 || this.roomWaiters.length === 0;
        if (queuedByOthers + fresh <= maxQueued && myTurn) {
          // Held until the caller inserts (a microtask later): enqueues of the same tick count it.
          this.reserved += fresh - reservedHere;
          return fresh;
        }
        if (this.options.whenFull === 'reject')
          throw queueFullError(this.queue, queuedByOthers, fresh, maxQueued);
        this.reserved -= reservedHere;
        reservedHere = 0;
        await this.waitForRoom(fresh, signal, deadline, () =>
          roomTimeoutError(
            this.queue,
            specs.map((spec) => spec.id),
            maxQueued,
            timeoutMs!,
          ),
        );
        reservedHere = fresh;
      }
    } catch (error) {
      this.reserved -= reservedHere;
      this.admitWaitingEnqueues();
      throw error;
    }
  }

  private isKnown(id: string): boolean {
    return this.tasks.has(id) || this.results.has(id) || this.dead.has(id);
  }

  private countNew(specs: readonly TaskSpec<P>[]): number {
    const seen = new Set<string>();
    let fresh = 0;
    for (const spec of specs) {
      if (spec.id === undefined) fresh++;
      else if (!seen.has(spec.id) && !this.isKnown(spec.id)) {
        seen.add(spec.id);
        fresh++;
      }
    }
    return fresh;
  }

  /** The specs checked, and a copy of each payload; throws (ECLOSED, ECONFIG, EPAYLOAD) before anything is queued. */
  private checkedCopies(specs: readonly TaskSpec<P>[]): unknown[] {
    if (this.closed) throw backendClosedError(this.kind, this.queue);
    if (!Array.isArray(specs))
      throw new DroverError('ECONFIG', `drover: enqueue() takes an array of task specs`, {
        hint: 'wrap a single task: enqueue([{ payload }])',
      });
    return specs.map((spec, index) => {
      validateTaskSpec(spec, index);
      return copyJson(spec.payload, `tasks[${index}].payload`);
    });
  }

  /**
   * `enqueueAndWaitAll` of a bounded queue: room first, as `enqueue` waits for it (in order, with its
   * errors and its reservation), then the inserts of the unbounded path, so that a task without an
   * id keeps no result here either. `signal` and `timeoutMs` bound both steps, as in `submitAndWait`.
   */
  private async admitAndWait(tasks: readonly TaskSpec<P>[], options: WaitForResultOptions): Promise<R[]> {
    const deadline = new Deadline(options.timeoutMs);
    const copies = this.checkedCopies(tasks);
    if (this.options.maxQueued !== Number.POSITIVE_INFINITY) {
      const reserved = await this.admit(tasks, options.signal, deadline.left());
      // the inserts below take the room the reservation held
      this.reserved -= reserved;
    }
    if (this.closed) throw backendClosedError(this.kind, this.queue);
    const left = deadline.left();
    const results = tasks.map((spec, index) => this.insertAndWait(spec, copies[index], options, left));
    this.pump();
    return Promise.all(results);
  }

  /**
   * Inserts a checked spec and waits for its result (see enqueueAndWait), for `left` ms of the
   * caller's `timeoutMs` (all of it unless room was waited for first).
   */
  private insertAndWait(
    spec: TaskSpec<P>,
    payload: unknown,
    options: WaitForResultOptions,
    left = options.timeoutMs,
  ): Promise<R> {
    const unlisted = spec.id === undefined;
    const id = this.insert(spec, payload, unlisted);
    const bound = left === options.timeoutMs ? options : { signal: options.signal, timeoutMs: left };
    // an unlisted task is new, so there is no result or dead letter to look for
    const wait = unlisted ? this.waiters.wait<R>(id, bound) : this.waitForResult(id, bound);
    return namingWholeTimeout(wait, id, options.timeoutMs, left);
  }

  private insert(spec: TaskSpec<P>, payload: unknown, unlisted = false): string {
    if (spec.id !== undefined && this.isKnown(spec.id)) return spec.id;
    const id = spec.id ?? String(++this.lastId);
    const task: TaskRecord = { id, payload, priority: spec.priority ?? 0, attempts: 0, unlisted };
    this.tasks.set(id, task);
    if (spec.delayMs) this.delayed.add(task, Date.now() + spec.delayMs);
    else this.ready.push(task, task.priority);
    return id;
  }

  private makeReady(task: TaskRecord): void {
    this.ready.push(task, task.priority);
    this.pump();
  }

  private consumerWithRoom(): MemoryConsumer | undefined {
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) {
      const consumer = this.consumers[(this.nextConsumer + i) % n]!;
      if (consumer.hasRoom) {
        this.nextConsumer = (this.nextConsumer + i + 1) % n;
        return consumer;
      }
    }
    return undefined;
  }

  private deliver(task: TaskRecord, consumer: MemoryConsumer): void {
    task.interrupted = undefined;
    const deferred = task.deferredFailure;
    if (!deferred) task.attempts++;
    const controller = new LazyAbort();
    const delivery = new MemoryDelivery(
      task.id,
      // each delivery its own copy, unless the handler only hands it on: a handler that changes
      // it must not change the payload of later attempts and dead letters
      consumer.options.passThrough ? task.payload : copyJson(task.payload, 'a queued payload'),
      task.attempts,
      this.options.retry.maxAttempts,
      controller,
    );
    if (deferred) {
      // The last attempt's consumer died; a live consumer reports the final failure.
      controller.abort(deferred);
      this.finalFailure(task, consumer, delivery, deferred);
      return;
    }
    const lease: Lease = { consumer, controller, delivery, live: true };
    task.lease = lease;
    consumer.leases.add(lease);
    this.inFlight++;
    let outcome: Promise<unknown>;
    try {
      outcome = Promise.resolve(consumer.handler(delivery));
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (value) => this.settle(task, lease, undefined, value),
      (error) => this.settle(task, lease, toError(error), undefined),
    );
  }

  private settle(task: TaskRecord, lease: Lease, error: Error | undefined, value: unknown): void {
    if (!lease.live) {
      // a consumer closed without draining (a pool's bounded stop) gave the lease up itself
      if (lease.consumer.closed && !lease.consumer.abandoned) return;
      lease.consumer.reportError(
        new DroverError(
          'ELATEACK',
          `drover: the outcome of task '${task.id}' attempt ${lease.delivery.attempt} came after its lease was given up; ignored`,
          { hint: 'stop work when delivery.signal aborts' },
        ),
      );
      return;
    }
    this.release(lease);
    if (error) {
      this.failAttempt(task, lease, error);
    } else {
      let result: unknown;
      let carried = true;
      try {
        const what = `the result of task '${task.id}'`;
        result = lease.consumer.options.passThrough ? plainOrCopy(value, what) : copyJson(value, what);
      } catch (encodeError) {
        carried = false;
        this.failAttempt(task, lease, toError(encodeError));
      }
      if (carried) this.complete(task, lease, result);
    }
    this.pump();
  }

  /** Ends a live lease: its consumer gets the slot back. The task stays in flight until decided. */
  private release(lease: Lease): void {
    lease.live = false;
    lease.consumer.leases.delete(lease);
    lease.consumer.released();
  }

  private complete(task: TaskRecord, lease: Lease, result: unknown): void {
    this.leaveFlight(task);
    this.tasks.delete(task.id);
    const { consumer } = lease;
    if (consumer.options.onAcknowledged)
      try {
        consumer.options.onAcknowledged(lease.delivery);
      } catch (callbackError) {
        consumer.reportError(toError(callbackError));
      }
    // the result is the queue's own copy, and no one else can ask for it: handed over as it is
    if (task.unlisted) this.waiters.resolve(task.id, result);
    else {
      this.results.set(task.id, result);
      if (this.waiters.has(task.id)) this.waiters.resolve(task.id, copyJson(result, 'a result'));
    }
  }

  private failAttempt(task: TaskRecord, lease: Lease, error: Error): void {
    this.leaveFlight(task);
    if (task.attempts >= this.options.retry.maxAttempts) {
      this.finalFailure(task, lease.consumer, lease.delivery, error);
      return;
    }
    const { consumer } = lease;
    const delay = this.backoff(task.attempts, error, consumer);
    if (delay > 0) this.delayed.add(task, Date.now() + delay);
    else this.ready.push(task, task.priority);
    if (consumer.options.onRetry)
      try {
        consumer.options.onRetry(lease.delivery, error);
      } catch (callbackError) {
        consumer.reportError(toError(callbackError));
      }
  }

  private backoff(attempt: number, error: Error, consumer: MemoryConsumer): number {
    try {
      const ms = this.options.retry.backoffMs(attempt, error);
      return Number.isFinite(ms) && ms > 0 ? ms : 0;
    } catch (backoffError) {
      consumer.reportError(toError(backoffError));
      return 0;
    }
  }

  /** A lease given up by an abandoned consumer ran out: the attempt is spent. */
  private expire(task: TaskRecord, lease: Lease): void {
    this.abandonedLeases.delete(lease);
    if (task.lease !== lease) return;
    this.leaveFlight(task);
    const { maxAttempts } = this.options.retry;
    if (task.attempts >= maxAttempts)
      task.deferredFailure = leaseLostError(task.id, task.attempts, maxAttempts, this.options.leaseMs);
    this.makeReady(task);
  }

  private leaveFlight(task: TaskRecord): void {
    if (task.lease) {
      task.lease = undefined;
      this.inFlight--;
    }
  }

  private finalFailure(
    task: TaskRecord,
    consumer: MemoryConsumer,
    delivery: MemoryDelivery,
    error: Error,
  ): void {
    this.tasks.delete(task.id);
    this.dead.set(task.id, {
      taskId: task.id,
      payload: task.payload,
      attempts: task.attempts,
      error: error.message,
      cause: error,
      failedAt: Date.now(),
    });
    this.waiters.reject(task.id, new TaskFailedError(task.id, task.attempts, error));
    try {
      consumer.options.onFinalFailure?.(
        // the callback gets a payload of its own: the dead letter keeps the shared one
        consumer.options.passThrough ? delivery.withPayload(copyJson(task.payload, 'a payload')) : delivery,
        error,
      );
    } catch (callbackError) {
      consumer.reportError(toError(callbackError));
    }
  }

  private waitForRoom(
    needed: number,
    signal: AbortSignal | undefined,
    deadline: Deadline,
    timedOut: () => Error,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const aborted = () =>
        abortedError(`an enqueue waiting for room in queue '${this.queue}'`, signal?.reason, NOT_QUEUED_HINT);
      if (signal?.aborted) {
        reject(aborted());
        return;
      }
      const left = deadline.left();
      if (left === 0) {
        reject(timedOut());
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const giveUp = (error: Error) => {
        waiter.reject(error);
        this.roomWaiters = this.roomWaiters.filter((w) => w !== waiter);
        this.admitWaitingEnqueues();
      };
      const onAbort = () => giveUp(aborted());
      const waiter: RoomWaiter = {
        needed,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          if (timer) clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          if (timer) clearTimeout(timer);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (left !== undefined && left <= TIMER_MAX_MS) timer = setTimeout(() => giveUp(timedOut()), left);
      this.roomWaiters.push(waiter);
    });
  }

  /** Wakes waiting enqueues in order while their batches fit, reserving their room. */
  private admitWaitingEnqueues(): void {
    while (this.roomWaiters.length > 0) {
      const head = this.roomWaiters[0]!;
      if (this.queued + head.needed > this.options.maxQueued) return;
      this.roomWaiters.shift();
      this.reserved += head.needed;
      head.resolve();
    }
  }
}

/** The in-memory backend (the default): no setup, nothing shared, nothing survives the process. */
export function createMemoryBackend<P = unknown, R = unknown>(options: BackendOptions): MemoryQueue<P, R> {
  return new MemoryQueue<P, R>(options);
}
