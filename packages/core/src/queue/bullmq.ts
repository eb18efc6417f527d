/**
 * The shared queue backend on BullMQ (Redis): several masters, on several hosts, enqueue to and
 * consume from one queue. Its own subpath export (`@drover/core/bullmq`), the only core module
 * that loads bullmq and ioredis (optional peer dependencies).
 */
import {
  type ConnectionOptions,
  type Job,
  type JobsOptions,
  type KeepJobs,
  Queue,
  QueueEvents,
  Worker,
} from 'bullmq';
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { closest } from '../closest.js';
import { ConfigError, DroverError } from '../errors.js';
import {
  abortedError,
  backendClosedError,
  waitClosedError,
  batchTooLargeError,
  enqueueAbortedError,
  enqueueClosedError,
  enqueueFailedError,
  enqueueTimeoutError,
  NOT_QUEUED_HINT,
  roomTimeoutError,
  consumerClosedError,
  leaseLostError,
  queueFullError,
  readClosedError,
  TaskFailedError,
  unknownTaskError,
} from './errors.js';
import {
  encodeJson,
  type ResolvedBackendOptions,
  resolveBackendOptions,
  validateConcurrency,
  validateTaskSpec,
} from './options.js';
import type {
  BackendCapabilities,
  BackendFactory,
  BackendOptions,
  CloseConsumerOptions,
  ConsumeOptions,
  Consumer,
  DeadLetter,
  Delivery,
  EnqueueOptions,
  Handler,
  QueueBackend,
  QueueStats,
  Retention,
  TaskSpec,
  WaitForResultOptions,
} from './QueueBackend.js';
import {
  describeRedisConnection,
  type RedisConnection,
  type RedisConnectionOptions,
  resolveRedisConnection,
} from './redisConnection.js';
import { bounded } from './bound.js';
import { LazyAbort } from './LazyAbort.js';
import { LostTasks } from './LostTasks.js';
import { ResultWaiters } from './ResultWaiters.js';

export type { RedisConnection, RedisConnectionOptions } from './redisConnection.js';

/** Where Redis is and how BullMQ is tuned; the rest (queue, retry, lease, bounds) comes from the core. */
export interface BullMQConnectionOptions {
  /** A URL (`redis://`, `rediss://`, `unix:///path.sock`), a socket path, or ioredis options. */
  readonly connection: RedisConnection;
  /** Key prefix, one per deployment so queues of different apps never meet. Default `drover`. */
  readonly prefix?: string;
  /**
   * How often each consumer looks for tasks whose lease expired. A dead consumer's task comes back
   * after about `leaseMs` + 1-2 × this. Default: `leaseMs`.
   */
  readonly stalledIntervalMs?: number;
  /** Give up creating the backend when Redis does not answer within this. Default 10_000. */
  readonly connectTimeoutMs?: number;
  /** Connection and event-reader errors of the backend itself (consumers have their own `onError`). */
  onError?(error: Error): void;
}

export interface BullMQBackendOptions extends BackendOptions, BullMQConnectionOptions {}

const CAPABILITIES: BackendCapabilities = {
  durable: true,
  shared: true,
  priorities: true,
  delayedTasks: true,
  idempotentIds: true,
};

/** The name BullMQ stores as the job's backoff type; the consumer's retry policy computes it. */
const BACKOFF_TYPE = 'drover';
const JOB_NAME = 'task';
/** Job hash fields that keep the last attempt's error code and hint (BullMQ keeps its message). */
const CODE_FIELD = 'droverCode';
const HINT_FIELD = 'droverHint';
/** BullMQ's reason for a task picked up after its last allowed attempt lost its lease. */
const STARTED_LIMIT_REASON = 'job started more than allowable limit';
const STALLED_LIMIT_REASON = 'job stalled more than allowable limit';
/** How long a job found missing is looked for again before its task counts as lost. */
const LOST_GRACE_MS = 1_000;
/** Writes of a few fields to a job hash that exists: a job gone from Redis must not come back as a stub. */
const HSET_IF_EXISTS = `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], unpack(ARGV, 1, 2))
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`;
const HINCRBY_IF_EXISTS = `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/** An outcome BullMQ refused: the delivery no longer held the job's lock, or the job is gone. */
interface RefusedOutcome {
  readonly jobId: string;
  /** 'gone': the job's hash is missing (Redis lost the queue's keys); 'late': the lease had moved on */
  readonly kind: 'gone' | 'late';
}

const REFUSED: readonly [RegExp, RefusedOutcome['kind']][] = [
  [/^Missing key for job (\S+)\. \S+$/, 'gone'],
  [/^Missing lock for job (\S+)\. \S+$/, 'late'],
  [/^Lock mismatch for job (\S+)\. Cmd /, 'late'],
  [/^Job (\S+) is not in the active state\. /, 'late'],
];

function refusedOutcome(error: Error): RefusedOutcome | undefined {
  const message = error.message.trim();
  for (const [pattern, kind] of REFUSED) {
    const match = pattern.exec(message);
    if (match) return { jobId: match[1]!, kind };
  }
  return undefined;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function keepJobs(retention: Required<Retention>): KeepJobs {
  if (retention.count === 0 || retention.ageMs === 0) return { count: 0 };
  return { age: Math.ceil(retention.ageMs / 1000), count: retention.count };
}

function delay(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(what, signal.reason, NOT_QUEUED_HINT));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(what, signal?.reason, NOT_QUEUED_HINT));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The ioredis clients behind a BullMQ Queue, Worker or QueueEvents (BullMQ 6 keeps them on its `backend`). */
function clientsOf(owner: unknown): Redis[] {
  const backend = (owner as { backend?: Record<string, { _client?: Redis } | undefined> } | undefined)
    ?.backend;
  return [backend?.connection?._client, backend?.blockingConnection?._client].filter(
    (client): client is Redis => client !== undefined,
  );
}

/** ioredis's error for a command on a connection that was ended. */
const CONNECTION_CLOSED = 'Connection is closed.';

function isConnectionClosed(error: Error): boolean {
  return error.message === CONNECTION_CLOSED;
}

/**
 * Ends ioredis clients now. A client between two reconnect attempts emits no 'end' when it is
 * disconnected (ioredis clears its retry timer and has no socket left to close), and BullMQ's
 * close waits for that 'end' for good, Redis back or not: such a client is ended by hand, the
 * commands it queued rejected. An ended client stays ended: BullMQ's fetch watchdog reconnects a
 * blocking connection whose wait timed out (its close has not begun yet), and that new
 * connection would hold the process.
 */
function endClients(clients: readonly Redis[]): void {
  for (const client of clients) {
    (client as { connect(): Promise<void> }).connect = () => Promise.reject(new Error(CONNECTION_CLOSED));
    try {
      client.disconnect();
      // disconnect() ends the socket gracefully: with Redis frozen (SIGSTOP) its half-closed
      // socket would hold the process for seconds more
      (client as unknown as { stream?: { destroy?(): void } }).stream?.destroy?.();
      if (client.status === 'end') continue;
      const internals = client as unknown as {
        flushQueue?(error: Error): void;
        setStatus?(status: string): void;
      };
      internals.flushQueue?.(new Error(CONNECTION_CLOSED));
      internals.setStatus?.('end');
    } catch {
      // a client that fails to end is one we no longer use
    }
  }
}

/** Resolves with `gate`, or rejects with ABORTED when `signal` aborts first. */
function waitOrAbort(gate: Promise<void>, signal: AbortSignal | undefined, what: string): Promise<void> {
  if (!signal) return gate;
  if (signal.aborted) return Promise.reject(abortedError(what, signal.reason, NOT_QUEUED_HINT));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(abortedError(what, signal.reason, NOT_QUEUED_HINT));
    signal.addEventListener('abort', onAbort, { once: true });
    gate.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** A queue on Redis through BullMQ. Build it with `createBullMQBackend` (it checks the connection). */
export class BullMQBackend<P = unknown, R = unknown> implements QueueBackend<P, R> {
  readonly kind = 'bullmq';
  readonly capabilities = CAPABILITIES;
  readonly queue: string;
  readonly prefix: string;
  readonly stalledIntervalMs: number;
  /** @internal */
  readonly options: ResolvedBackendOptions;
  /** @internal */
  readonly redis: RedisConnectionOptions;

  private readonly producer: Queue;
  private readonly waiters = new ResultWaiters();
  private readonly consumers = new Set<BullMQConsumer>();
  private readonly onError?: (error: Error) => void;
  private events: Promise<QueueEvents> | undefined;
  /** the events reader once created (its start may still be waiting for Redis) */
  private eventsReader: QueueEvents | undefined;
  private admin: Redis | undefined;
  private closing: Promise<void> | undefined;
  /** terminate() ended the connections */
  private ended = false;
  /** waits whose job is gone from Redis (a restart without persistence, a flush) */
  private readonly lost: LostTasks;
  /** the epoch of the queue's keys this backend saw last (keysGone); null until it looked */
  private epoch: string | null = null;
  private adopting: Promise<void> | null = null;
  /** looks for the oldest waits' jobs while there are waits (a flush without a reconnect) */
  private probeTimer: NodeJS.Timeout | undefined;
  /** settles when this process's last bounded enqueue is added (see enqueue) */
  private admitting: Promise<void> = Promise.resolve();
  /**
   * The end of this backend's generated ids, `<n>~<token>`. BullMQ's own ids count from 1 again
   * once Redis lost the queue's keys, and a new job's result then settled an old wait for the
   * same id; these are never made twice, by any producer, in any epoch of the keys. A caller's
   * own ids cannot hold a `~`.
   */
  private readonly idSuffix = `~${randomBytes(9).toString('base64url')}`;
  private generatedIds = 0;

  constructor(options: BullMQBackendOptions) {
    this.options = resolveBackendOptions(options);
    this.queue = this.options.queue;
    this.redis = resolveRedisConnection(options.connection);
    this.prefix = validatePrefix(options.prefix);
    this.stalledIntervalMs = validateStalledInterval(options.stalledIntervalMs ?? this.options.leaseMs);
    this.onError = options.onError;
    this.producer = new Queue(this.queue, {
      connection: this.connectionFor('producer'),
      prefix: this.prefix,
    });
    this.producer.on('error', (error) => this.reportError(error));
    this.lost = new LostTasks(
      {
        queue: this.queue,
        where: describeRedisConnection(this.redis),
        waited: (limit, from) => this.waiters.ids(limit, from),
        missing: (ids) => this.missingJobs(ids),
        finished: (ids) => this.settleFinished(ids),
        reject: (taskId, error) => this.waiters.reject(taskId, error),
        report: (error) => this.reportLost(error),
      },
      LOST_GRACE_MS,
    );
  }

  /** Where the queue lives, for messages. */
  get location(): string {
    return `Redis at ${describeRedisConnection(this.redis)}`;
  }

  /** Waits for Redis to answer; on timeout closes everything and throws EREDIS. */
  async connect(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    // Settled either way, so a rejection after the timeout is not left unhandled.
    const ready = this.producer.waitUntilReady().then(
      () => 'ready' as const,
      (error: unknown) => toError(error),
    );
    const outcome = await Promise.race([ready, timeout]).finally(() => clearTimeout(timer));
    if (outcome === 'ready') {
      // the epoch of the queue's keys as this backend found them: a later loss is told from it
      await this.adoptEpoch().catch(() => {});
      return;
    }
    await this.close().catch(() => undefined);
    const where = describeRedisConnection(this.redis);
    throw new DroverError(
      'EREDIS',
      outcome === 'timeout'
        ? `drover: queue '${this.queue}' cannot reach Redis at ${where} within ${timeoutMs} ms`
        : `drover: queue '${this.queue}' cannot connect to Redis at ${where} (${outcome.message})`,
      {
        hint: 'check that redis-server runs and that the connection (URL or socket path) points to it',
        cause: outcome === 'timeout' ? undefined : outcome,
      },
    );
  }

  async enqueue(specs: readonly TaskSpec<P>[], options: EnqueueOptions = {}): Promise<string[]> {
    this.assertOpen();
    if (!Array.isArray(specs))
      throw new DroverError('ECONFIG', `drover: enqueue() takes an array of task specs`, {
        hint: 'wrap a single task: enqueue([{ payload }])',
      });
    specs.forEach((spec, index) => {
      validateTaskSpec(spec, index);
      encodeJson(spec.payload, `tasks[${index}].payload`);
    });
    const { signal, timeoutMs } = options;
    if (!signal && timeoutMs === undefined) return this.enqueueChecked(specs, undefined, { sent: false });
    if (signal?.aborted)
      throw abortedError(`an enqueue to queue '${this.queue}'`, signal.reason, NOT_QUEUED_HINT);
    // Bounded: a Redis that hangs or is down must not hold the caller for the whole outage. What
    // was not sent yet is called off; what was sent may still reach Redis: it may or may not be queued.
    const stop = new AbortController();
    const progress = { sent: false };
    const adding = this.enqueueChecked(
      specs,
      signal ? AbortSignal.any([signal, stop.signal]) : stop.signal,
      progress,
    );
    const ids = specs.map((spec) => spec.id);
    const where = describeRedisConnection(this.redis);
    return bounded(
      adding,
      { signal, timeoutMs },
      () => {
        stop.abort();
        return progress.sent
          ? enqueueTimeoutError(this.queue, where, ids, timeoutMs!)
          : roomTimeoutError(this.queue, ids, this.options.maxQueued, timeoutMs!, where);
      },
      (reason) =>
        progress.sent
          ? enqueueAbortedError(this.queue, where, ids, reason)
          : abortedError(`an enqueue waiting for room in queue '${this.queue}'`, reason, NOT_QUEUED_HINT),
    );
  }

  /** The enqueue of checked specs; `progress.sent` turns true once the tasks left for Redis. */
  private async enqueueChecked(
    specs: readonly TaskSpec<P>[],
    signal: AbortSignal | undefined,
    progress: { sent: boolean },
  ): Promise<string[]> {
    if (this.options.maxQueued === Number.POSITIVE_INFINITY) return this.add(specs, progress);
    // Bounded: this process's enqueues count and add one after the other, so those of one tick
    // cannot all pass the count before any of them is added.
    const previous = this.admitting;
    let release!: () => void;
    this.admitting = new Promise<void>((resolve) => {
      release = resolve;
    });
    const what = `an enqueue waiting for room in queue '${this.queue}'`;
    try {
      await waitOrAbort(previous, signal, what);
      this.assertOpen();
      await this.admit(specs, signal).catch((error: unknown) => {
        throw this.redisFailed(error, specs, false);
      });
      this.assertOpen();
      if (signal?.aborted) throw abortedError(what, signal.reason, NOT_QUEUED_HINT);
      return await this.add(specs, progress);
    } finally {
      // the next one goes once both this one and the one before it are done
      void previous.then(release);
    }
  }

  private async add(specs: readonly TaskSpec<P>[], progress: { sent: boolean }): Promise<string[]> {
    this.assertOpen();
    progress.sent = true;
    const jobs = await this.producer
      .addBulk(
        specs.map((spec) => ({ name: JOB_NAME, data: spec.payload ?? null, opts: this.jobOptions(spec) })),
      )
      .catch((error: unknown) => {
        throw this.redisFailed(error, specs, true);
      });
    return jobs.map((job) => job.id!);
  }

  /**
   * An enqueue's error in drover words: ioredis's own ("Reached the max retries per request
   * limit", ...) have no code. `sent`: the tasks had left for Redis, which may have added them.
   */
  private redisFailed(error: unknown, specs: readonly TaskSpec<P>[], sent: boolean): Error {
    if (error instanceof DroverError) return error;
    const ids = specs.map((spec) => spec.id);
    // this process closed the queue meanwhile (ioredis's "Connection is closed.")
    if (this.closed)
      return sent
        ? enqueueClosedError(this.kind, this.queue, ids)
        : backendClosedError(this.kind, this.queue);
    const cause = toError(error);
    const where = describeRedisConnection(this.redis);
    if (sent) return enqueueFailedError(this.queue, where, ids, cause);
    return new DroverError(
      'EREDIS',
      `drover: queue '${this.queue}' could not count its tasks on Redis at ${where} before an enqueue (${cause.message}); nothing was queued`,
      { hint: `check that redis-server runs and answers at ${where}; ${NOT_QUEUED_HINT}`, cause },
    );
  }

  consume(handler: Handler<P, R>, options: ConsumeOptions<P>): Consumer {
    this.assertOpen();
    if (typeof handler !== 'function')
      throw new DroverError('ECONFIG', `drover: consume() needs a handler function, got ${typeof handler}`, {
        hint: 'pass async (delivery) => result',
      });
    const consumer = new BullMQConsumer(
      this as BullMQBackend,
      handler as Handler<unknown, unknown>,
      options as ConsumeOptions<unknown>,
    );
    this.consumers.add(consumer);
    return consumer;
  }

  async stats(): Promise<QueueStats> {
    this.assertReadable('stats');
    const counts = await this.producer
      .getJobCounts('wait', 'prioritized', 'delayed', 'active', 'failed')
      .catch((error: unknown) => this.readFailed(error, 'stats'));
    return {
      ready: (counts.wait ?? 0) + (counts.prioritized ?? 0),
      delayed: counts.delayed ?? 0,
      inFlight: counts.active ?? 0,
      dead: counts.failed ?? 0,
    };
  }

  async waitForResult(taskId: string, options: WaitForResultOptions = {}): Promise<R> {
    this.assertOpen();
    const closed = this.closedWait(taskId);
    if (closed) throw closed;
    // The waiter first, so that its signal and timeoutMs bound the start of the events reader too
    // (a Redis that hangs). Then the events, then the stored state: a task that finishes in
    // between is seen by one of them.
    const result = this.waiters.wait<R>(taskId, options);
    this.startEvents().then(
      () => {
        if (!this.waiters.has(taskId)) return;
        this.checkFinished(taskId).catch((error) =>
          this.waiters.reject(taskId, this.closedWait(taskId) ?? error),
        );
        this.probeLost();
      },
      (error: unknown) => this.waiters.reject(taskId, this.closedWait(taskId) ?? error),
    );
    return result;
  }

  /** The ECLOSED of a wait, once this process has closed the queue. */
  private closedWait(taskId: string): DroverError | undefined {
    return this.closing || this.ended ? waitClosedError(this.kind, this.queue, taskId) : undefined;
  }

  async deadLetters(options: { limit?: number } = {}): Promise<DeadLetter<P>[]> {
    const limit = options.limit ?? 100;
    if (limit <= 0) return [];
    this.assertReadable('dead letters');
    const jobs = (await this.producer
      .getFailed(0, limit - 1)
      .catch((error: unknown) => this.readFailed(error, 'dead letters'))) as Job[];
    return jobs.map((job) => ({
      taskId: job.id!,
      payload: job.data as P,
      attempts: this.attemptsOf(job),
      error: this.reasonOf(job.id!, job.failedReason),
      failedAt: job.finishedOn ?? 0,
    }));
  }

  /** Ends every connection now, Redis reachable or not; pending waits reject with ECLOSED. */
  terminate(): void {
    this.ended = true;
    this.stopProbe();
    for (const consumer of this.consumers) consumer.terminate();
    endClients([
      ...clientsOf(this.producer),
      ...clientsOf(this.eventsReader),
      ...(this.admin ? [this.admin] : []),
    ]);
    this.waiters.rejectEach((taskId) => waitClosedError(this.kind, this.queue, taskId));
  }

  close(): Promise<void> {
    this.stopProbe();
    this.closing ??= (async () => {
      await Promise.all([...this.consumers].map((consumer) => consumer.close({ drain: false })));
      // An events reader between two reconnect attempts (its connection dropped, Redis down or
      // not) would hold BullMQ's close for good (see endClients); it only reads results, which a
      // closing backend waits for no more.
      const idle = clientsOf(this.eventsReader).filter((client) => client.status !== 'ready');
      if (idle.length > 0) endClients(idle);
      const events = this.events;
      await Promise.allSettled([
        events?.then((e) => e.close()),
        this.producer.close(),
        this.admin?.quit().catch(() => this.admin?.disconnect()),
      ]);
      this.waiters.rejectEach((taskId) => waitClosedError(this.kind, this.queue, taskId));
    })();
    return this.closing;
  }

  // ---- used by consumers ----

  /** @internal ioredis options for one of the backend's connections. */
  connectionFor(role: 'producer' | 'worker' | 'events' | 'admin'): ConnectionOptions {
    const base = { ...this.redis, connectionName: `drover:${this.queue}:${role}` } as ConnectionOptions;
    // Blocking readers must wait out a Redis restart instead of failing their command.
    return role === 'producer' || role === 'admin' ? base : { ...base, maxRetriesPerRequest: null };
  }

  /** @internal The Redis key of a task's job hash. */
  jobKey(taskId: string): string {
    return this.producer.toKey(taskId);
  }

  /** @internal */
  detach(consumer: BullMQConsumer): void {
    this.consumers.delete(consumer);
  }

  /** @internal A consumer found the job of `taskId` gone from Redis (BullMQ's "Missing key"). */
  jobGone(taskId: string): void {
    if (!this.closing) this.lost.jobGone(taskId);
  }

  /** @internal Deliveries made: stalls count, the pickup that only reports a lost last lease does not. */
  attemptsOf(job: Job): number {
    return Math.max(1, Math.min(job.attemptsStarted, job.opts.attempts ?? this.options.retry.maxAttempts));
  }

  /** @internal BullMQ's stall-limit reasons, said in drover's words. */
  reasonOf(taskId: string, reason: string | undefined): string {
    if (this.isLeaseLimit(reason)) {
      const { maxAttempts } = this.options.retry;
      return leaseLostError(taskId, maxAttempts, maxAttempts, this.options.leaseMs).message;
    }
    return reason ?? 'unknown error';
  }

  private isLeaseLimit(reason: string | undefined): boolean {
    return reason === STARTED_LIMIT_REASON || reason === STALLED_LIMIT_REASON;
  }

  /** @internal This process closed the queue (or is closing it): its connections end. */
  get closed(): boolean {
    return this.closing !== undefined || this.ended;
  }

  /** @internal */
  reportError(error: Error): void {
    // what the close itself ended is no news
    if (this.closed && isConnectionClosed(error)) return;
    try {
      this.onError?.(error);
    } catch {
      // an error reporter that throws has nowhere left to report to
    }
  }

  // ---- internals ----

  private assertOpen(): void {
    if (this.closing) throw backendClosedError(this.kind, this.queue);
  }

  private assertReadable(what: string): void {
    if (this.closing || this.ended) throw readClosedError(this.kind, this.queue, what);
  }

  /** A read that failed because this process closed the queue meanwhile says so (not ioredis's "Connection is closed."). */
  private readFailed(error: unknown, what: string): never {
    if (this.closing || this.ended) throw readClosedError(this.kind, this.queue, what);
    throw error;
  }

  /**
   * Those of `ids` whose job hash is missing, when Redis lost the queue's keys; none otherwise: a
   * job removed once its result was stored (`keepResults`) is no loss, its result reaches its wait
   * through the events stream, however late that reader catches up.
   */
  private async missingJobs(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0 || !(await this.keysGone())) return [];
    const missing: string[] = [];
    for (let from = 0; from < ids.length; from += 1_000) {
      const slice = ids.slice(from, from + 1_000);
      const pipeline = this.adminClient().pipeline();
      for (const id of slice) pipeline.exists(this.jobKey(id));
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([error, exists], i) => {
        if (error) throw error;
        if (exists === 0) missing.push(slice[i]!);
      });
    }
    return missing;
  }

  /**
   * Settles the waits of those of `ids` whose job has finished: BullMQ trims the events stream, so
   * a result event this process did not read in time (its event loop stalled, its connection was
   * down) never comes. One read of the job hash each; the whole state only for finished ones.
   */
  private async settleFinished(ids: readonly string[]): Promise<void> {
    for (let from = 0; from < ids.length; from += 1_000) {
      const slice = ids.slice(from, from + 1_000);
      const pipeline = this.adminClient().pipeline();
      for (const id of slice) pipeline.hget(this.jobKey(id), 'finishedOn');
      const replies = (await pipeline.exec()) ?? [];
      const finished = slice.filter((id, i) => {
        const [error, finishedOn] = replies[i] ?? [];
        // finishedOn is set once the job completed or failed for good, not for an attempt retried
        return !error && finishedOn !== null && finishedOn !== undefined && this.waiters.has(id);
      });
      await Promise.all(finished.map((id) => this.checkFinished(id, false).catch(() => {})));
    }
  }

  /** Starts the probe for lost jobs, once per run of waits. */
  private probeLost(): void {
    if (this.probeTimer || this.closing) return;
    this.probeTimer = setInterval(() => {
      if (this.waiters.size === 0) this.stopProbe();
      else void this.lost.probe();
    }, this.stalledIntervalMs);
    this.probeTimer.unref();
  }

  private stopProbe(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  /** A batch of lost tasks, said once: to the backend's onError and to every consumer's. */
  private reportLost(error: Error): void {
    if (this.closing) return;
    this.reportError(error);
    for (const consumer of this.consumers) consumer.report(error);
    // the loss was said: from now on an unknown id is an unknown id again
    void this.adoptEpoch().catch(() => {});
  }

  /** Drover's own key beside the queue's, holding the epoch of its keys (see keysGone). */
  private get epochKey(): string {
    return `${this.producer.toKey('')}drover-epoch`;
  }

  /** Takes the queue's current epoch, writing one if there is none (a new queue, or keys lost). */
  private adoptEpoch(): Promise<void> {
    this.adopting ??= (async () => {
      const admin = this.adminClient();
      await admin.set(this.epochKey, `${process.pid}.${Date.now()}.${Math.random()}`, 'NX');
      this.epoch = await admin.get(this.epochKey);
    })().finally(() => {
      this.adopting = null;
    });
    return this.adopting;
  }

  /**
   * Whether Redis lost the queue's keys since this backend last looked: the epoch key is gone, or
   * another process wrote a new one after it found them gone. A missing job hash alone is no proof.
   */
  private async keysGone(): Promise<boolean> {
    // a loss just said is being put behind: compare with the epoch taken after it
    if (this.adopting) await this.adopting.catch(() => {});
    if (this.epoch === null) {
      await this.adoptEpoch();
      return false;
    }
    return (await this.adminClient().get(this.epochKey)) !== this.epoch;
  }

  private jobOptions(spec: TaskSpec<P>): JobsOptions {
    return {
      jobId: spec.id ?? `${++this.generatedIds}${this.idSuffix}`,
      ...(spec.delayMs ? { delay: spec.delayMs } : {}),
      ...(spec.priority ? { priority: spec.priority } : {}),
      attempts: this.options.retry.maxAttempts,
      backoff: { type: BACKOFF_TYPE },
      removeOnComplete: keepJobs(this.options.keepResults),
      removeOnFail: keepJobs(this.options.keepDeadLetters),
    };
  }

  /** @internal A plain connection for reads and small writes outside BullMQ's scripts. */
  adminClient(): Redis {
    if (!this.admin) {
      // after terminate(): a client that never connects, whose commands reject at once
      const admin = new Redis({
        ...(this.connectionFor('admin') as RedisOptions),
        ...(this.ended ? { lazyConnect: true } : {}),
      });
      if (this.ended) endClients([admin]);
      admin.on('error', (error) => this.reportError(error));
      // Redis back after an outage: a restart without persistence took every job with it
      let readyBefore = false;
      admin.on('ready', () => {
        if (readyBefore && !this.closing && this.waiters.size > 0) {
          void this.lost.check();
          // results that left the events stream while this process was cut off
          this.settleFinished(this.waiters.ids()).catch(() => {});
        }
        readyBefore = true;
      });
      this.admin = admin;
    }
    return this.admin;
  }

  /**
   * Waits until the new tasks fit under `maxQueued`. Shared by every producer, so the check is
   * approximate: two producers checking at once can both pass.
   */
  private async admit(specs: readonly TaskSpec<P>[], signal: AbortSignal | undefined): Promise<void> {
    const { maxQueued } = this.options;
    let pollMs = 25;
    for (;;) {
      const fresh = await this.countNew(specs);
      if (fresh > maxQueued) throw batchTooLargeError(this.queue, fresh, maxQueued);
      const counts = await this.producer.getJobCounts('wait', 'prioritized', 'delayed');
      const queued = Object.values(counts).reduce((sum, n) => sum + n, 0);
      if (fresh === 0 || queued + fresh <= maxQueued) return;
      if (this.options.whenFull === 'reject') throw queueFullError(this.queue, queued, fresh, maxQueued);
      await delay(pollMs, signal, `an enqueue waiting for room in queue '${this.queue}'`);
      this.assertOpen();
      pollMs = Math.min(pollMs * 2, 500);
    }
  }

  private async countNew(specs: readonly TaskSpec<P>[]): Promise<number> {
    const ids = [...new Set(specs.flatMap((spec) => (spec.id === undefined ? [] : [spec.id])))];
    const generated = specs.filter((spec) => spec.id === undefined).length;
    if (ids.length === 0) return generated;
    const pipeline = this.adminClient().pipeline();
    for (const id of ids) pipeline.exists(this.producer.toKey(id));
    const replies = (await pipeline.exec()) ?? [];
    return generated + replies.filter(([error, exists]) => !error && exists === 0).length;
  }

  /** One events reader per backend, reading from the stream's end as it was when it started. */
  private startEvents(): Promise<QueueEvents> {
    this.events ??= (async () => {
      const newest = await this.adminClient().xrevrange(this.producer.keys.events!, '+', '-', 'COUNT', 1);
      const events = new QueueEvents(this.queue, {
        connection: this.connectionFor('events'),
        prefix: this.prefix,
        lastEventId: newest[0]?.[0] ?? '0-0',
      });
      this.eventsReader = events;
      events.on('error', (error) => this.reportError(toError(error)));
      events.on('completed', ({ jobId, returnvalue }) => this.waiters.resolve(jobId, returnvalue));
      events.on('failed', ({ jobId }) => {
        if (this.waiters.has(jobId))
          this.checkFinished(jobId).catch((error) => this.waiters.reject(jobId, error));
      });
      await events.waitUntilReady();
      return events;
    })();
    // A failed start is retried by the next waitForResult instead of failing every later one.
    this.events.catch(() => {
      this.events = undefined;
    });
    return this.events;
  }

  /**
   * Settles the wait for `taskId` from its job's stored state, if it finished. `unknownIsError`: a
   * job Redis does not have is ETASKUNKNOWN (a new wait); a probe leaves such a wait alone, since
   * a job removed once finished still has its event on the way.
   */
  private async checkFinished(taskId: string, unknownIsError = true): Promise<void> {
    const state = await this.producer.getJobState(taskId);
    if (state === 'unknown') {
      // the queue's epoch key gone or replaced too: Redis lost the queue's keys
      const keysGone = await this.keysGone().catch(() => false);
      if (keysGone) this.lost.jobGone(taskId);
      else if (unknownIsError)
        this.waiters.reject(taskId, unknownTaskError(this.queue, taskId, this.options.keepResults.ageMs));
      return;
    }
    if (state !== 'completed' && state !== 'failed') return;
    const job = (await this.producer.getJob(taskId)) as Job | undefined;
    if (!job) return;
    if (state === 'completed') {
      this.waiters.resolve(taskId, job.returnvalue);
      return;
    }
    const [code, hint] = this.isLeaseLimit(job.failedReason)
      ? ['ELEASELOST', null]
      : await this.adminClient()
          .hmget(this.jobKey(taskId), CODE_FIELD, HINT_FIELD)
          .catch(() => [null, null]);
    this.waiters.reject(
      taskId,
      new TaskFailedError(
        taskId,
        this.attemptsOf(job),
        this.reasonOf(taskId, job.failedReason),
        code ?? undefined,
        hint ?? undefined,
      ),
    );
  }
}

/** One running delivery inside a BullMQ processor. */
interface Running {
  readonly delivery: Delivery;
  readonly controller: LazyAbort;
  /** fail the attempt now (close without draining) */
  interrupt(error: Error): void;
  /** never settle: the job keeps its lock until it expires (simulated crash) */
  abandon(): void;
}

/** A job BullMQ fetched while this consumer had no free slot: it waits here, lock renewed. */
interface Held {
  readonly job: Job;
  start(): void;
  giveBack(): void;
}

/**
 * A BullMQ `Worker` behind the `Consumer` interface. BullMQ may fetch one job more than the
 * limit (a blocking fetch in flight when the limit drops or the consumer pauses), so handlers
 * start only through this consumer's own gate: a job beyond the limit waits for a slot, and one
 * fetched while paused or closing goes back to the queue without spending an attempt.
 */
class BullMQConsumer implements Consumer {
  private readonly worker: Worker;
  private readonly runningByJob = new Map<string, Running>();
  private readonly deliveries = new WeakMap<Job, Delivery>();
  private held: Held[] = [];
  /** jobs whose outcome BullMQ was handed and has not recorded yet (see lowerWhenRecorded) */
  private readonly unrecorded = new Set<string>();
  /** jobs whose result BullMQ was handed and has not stored yet */
  private readonly completing = new Set<string>();
  /**
   * jobs whose result BullMQ refused: it then tries to fail the attempt, which the same lost lease
   * refuses too; that second refusal is the same outcome, not said again
   */
  private readonly refusedResults = new Set<string>();
  private lowerTimer: NodeJS.Timeout | undefined;
  private limit: number;
  private paused = false;
  private closing: Promise<void> | undefined;
  /** pause/resume calls on the worker, one after the other */
  private transition: Promise<void> = Promise.resolve();

  constructor(
    private readonly backend: BullMQBackend,
    private readonly handler: Handler<unknown, unknown>,
    private readonly options: ConsumeOptions<unknown>,
  ) {
    this.limit = validateConcurrency(options.concurrency);
    const resolved = backend.options;
    const { maxAttempts } = resolved.retry;
    // A two-argument processor: BullMQ then makes no AbortController per job; lease loss reaches
    // the delivery through 'lockRenewalFailed' instead.
    this.worker = new Worker(backend.queue, (job) => this.process(job), {
      connection: backend.connectionFor('worker'),
      prefix: backend.prefix,
      autorun: false,
      concurrency: Math.max(1, this.limit),
      lockDuration: resolved.leaseMs,
      stalledInterval: backend.stalledIntervalMs,
      // Every delivery counts as an attempt, stalls included: a job started maxAttempts times
      // is not retried, and one picked up again after that fails for good at once.
      maxStartedAttempts: maxAttempts,
      maxStalledCount: maxAttempts,
      removeOnComplete: keepJobs(resolved.keepResults),
      removeOnFail: keepJobs(resolved.keepDeadLetters),
      settings: {
        backoffStrategy: (_made, _type, error, job) => this.backoff(job as Job | undefined, error),
      },
    });
    this.worker.on('error', (error) => this.onWorkerError(error));
    this.worker.on('failed', (job, error) => {
      this.recorded(job?.id);
      if (job?.id !== undefined) this.refusedResults.delete(job.id);
      this.onFailed(job, error);
    });
    this.worker.on('completed', (job) => {
      this.recorded(job.id);
      this.completing.delete(job.id!);
      const delivery = this.deliveries.get(job);
      if (delivery && this.options.onAcknowledged)
        this.callback(() => this.options.onAcknowledged!(delivery));
    });
    this.worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        const running = this.runningByJob.get(jobId);
        if (running)
          running.controller.abort(
            leaseLostError(jobId, running.delivery.attempt, maxAttempts, resolved.leaseMs),
          );
      }
    });
    this.apply();
  }

  get concurrency(): number {
    return this.limit;
  }

  get running(): number {
    return this.runningByJob.size;
  }

  setConcurrency(n: number): void {
    const previous = this.limit;
    const raised = validateConcurrency(n) > previous;
    this.limit = n;
    // Only a fetch loop that is full waits for a job to finish before it fetches again; one that
    // has room is already fetching (or blocked on the queue's marker, which a pause would lose).
    this.apply(raised && this.runningByJob.size + this.held.length >= previous);
  }

  async pause(): Promise<void> {
    this.paused = true;
    await this.apply();
  }

  async resume(): Promise<void> {
    this.paused = false;
    await this.apply();
  }

  close(options: CloseConsumerOptions = {}): Promise<void> {
    this.closing ??= (async () => {
      if (options.abandon) {
        for (const running of this.runningByJob.values()) running.abandon();
        this.held = [];
        await this.worker.close(true);
      } else {
        this.giveBackHeld();
        // A blocking client waiting to reconnect would hold BullMQ's close for good (see endClients);
        // it only fetches new jobs, which a closing consumer takes no more of.
        const blocking = (
          this.worker as unknown as { backend?: { blockingConnection?: { _client?: Redis } } }
        ).backend?.blockingConnection?._client;
        if (blocking && blocking.status !== 'ready') endClients([blocking]);
        const closed = this.worker.close(false);
        if (options.drain === false)
          for (const [jobId, running] of this.runningByJob) running.interrupt(consumerClosedError(jobId));
        await closed;
      }
      await this.transition;
      this.backend.detach(this);
    })();
    return this.closing;
  }

  /** Ends the worker's connections now; the close in progress then settles. */
  terminate(): void {
    // failed here, so BullMQ's close stops waiting for them; Redis is not told (its lease expires)
    for (const [jobId, running] of this.runningByJob) running.interrupt(consumerClosedError(jobId));
    this.held = [];
    endClients(clientsOf(this.worker));
  }

  private get hasRoom(): boolean {
    return !this.paused && !this.closing && this.runningByJob.size < this.limit;
  }

  /** Brings the worker in line with `limit` and `paused`, and the gate with both. */
  private apply(raised = false): Promise<void> {
    if (this.closing) return this.transition;
    if (this.limit > 0) {
      const settling = this.runningByJob.size + this.unrecorded.size;
      if (this.limit >= this.worker.concurrency || settling === 0) this.worker.concurrency = this.limit;
      else this.lowerWhenRecorded();
    }
    const run = !this.paused && this.limit > 0;
    if (run) this.startHeld();
    else this.giveBackHeld();
    this.transition = this.transition
      .then(async () => {
        if (!run) return this.worker.pause(true);
        // A running worker waits for a job to finish before it fetches again, even when its
        // concurrency rose; a pause/resume wakes its fetch loop now.
        if (raised && this.worker.isRunning() && !this.worker.isPaused()) await this.worker.pause(true);
        await this.worker.resume();
      })
      .catch((error) => this.report(toError(error)));
    return this.transition;
  }

  /**
   * BullMQ decides whether to fetch the next job (and so reads the next retry's time) when it
   * records an outcome, from its concurrency then: lowered before the outcomes handed to it are
   * recorded (a worker lost with its tasks), it records them without looking and its fetch then
   * waits its whole drain delay (5 s) instead of the retry's backoff. So it is lowered once an
   * outcome was recorded after the change (the running jobs' outcomes come first).
   */
  private lowerWhenRecorded(): void {
    if (this.lowerTimer) return;
    // a recording that never comes (Redis gone) does not hold it for long
    this.lowerTimer = setTimeout(() => this.lowerNow(), 1_000);
    this.lowerTimer.unref();
  }

  private lowerNow(): void {
    if (this.lowerTimer) clearTimeout(this.lowerTimer);
    this.lowerTimer = undefined;
    this.unrecorded.clear();
    if (!this.closing && this.limit > 0 && this.limit < this.worker.concurrency)
      this.worker.concurrency = this.limit;
  }

  /** BullMQ has recorded the outcome of `jobId`. */
  private recorded(jobId: string | undefined): void {
    if (jobId === undefined || !this.unrecorded.delete(jobId)) return;
    if (this.unrecorded.size === 0 && this.lowerTimer) this.lowerNow();
  }

  private process(job: Job): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const start = () => this.start(job, resolve, reject);
      if (this.hasRoom && this.held.length === 0) {
        start();
        return;
      }
      const giveBack = () =>
        this.giveBack(job).then(
          () => reject(Worker.RateLimitError()),
          (error) => reject(toError(error)),
        );
      if (this.paused || this.limit === 0 || this.closing) giveBack();
      else this.held.push({ job, start, giveBack });
    });
  }

  private startHeld(): void {
    while (this.held.length > 0 && this.hasRoom) this.held.shift()!.start();
  }

  private giveBackHeld(): void {
    const held = this.held;
    this.held = [];
    for (const entry of held) entry.giveBack();
  }

  /**
   * Returns a job this consumer never started. BullMQ counted its fetch as a start, so the count
   * is taken back first (the lock is still ours); BullMQ's rate-limit path then moves it to wait.
   */
  private async giveBack(job: Job): Promise<void> {
    if (job.attemptsStarted > 0) {
      await this.backend.adminClient().eval(HINCRBY_IF_EXISTS, 1, this.backend.jobKey(job.id!), 'ats', -1);
      job.attemptsStarted--;
    }
  }

  /** Runs the handler now; registers the delivery synchronously so the gate counts it at once. */
  private start(job: Job, resolve: (value: unknown) => void, reject: (error: Error) => void): void {
    const jobId = job.id!;
    const controller = new LazyAbort();
    const delivery: Delivery = {
      taskId: jobId,
      payload: job.data,
      attempt: job.attemptsStarted,
      maxAttempts: this.backend.options.retry.maxAttempts,
      get signal() {
        return controller.signal;
      },
      onAbort: (listener) => controller.onAbort(listener),
    };
    this.deliveries.set(job, delivery);
    let abandoned = false;
    const running: Running = {
      delivery,
      controller,
      interrupt: (error) => {
        controller.abort(error);
        this.unrecorded.add(jobId);
        reject(error);
      },
      abandon: () => {
        abandoned = true;
        controller.abort(
          new DroverError('EABANDONED', `drover: the consumer of task '${jobId}' was abandoned`, {
            hint: 'the task is delivered again after its lease expires',
          }),
        );
      },
    };
    this.runningByJob.set(jobId, running);
    const settled = () => {
      if (this.runningByJob.get(jobId) === running) this.runningByJob.delete(jobId);
      if (!abandoned) this.unrecorded.add(jobId);
      this.startHeld();
    };
    Promise.resolve()
      .then(() => this.handler(delivery))
      .then(
        (value) => {
          settled();
          if (abandoned) return;
          encodeJson(value, `the result of task '${jobId}'`);
          this.completing.add(jobId);
          resolve(value === undefined ? null : value);
        },
        (error) => {
          settled();
          if (!abandoned) this.fail(jobId, toError(error), reject);
        },
      )
      .catch((error) => reject(toError(error)));
  }

  /**
   * Fails the attempt, its error's code first stored next to BullMQ's failedReason (which keeps
   * only the message), so an ETASKFAILED read in any process carries it.
   */
  private fail(jobId: string, error: Error, reject: (error: Error) => void): void {
    const { code, hint } = error as Error & { code?: unknown; hint?: unknown };
    const fields: string[] = [];
    if (typeof code === 'string' && code.length > 0) fields.push(CODE_FIELD, code);
    if (typeof hint === 'string' && hint.length > 0) fields.push(HINT_FIELD, hint);
    const stored = this.backend
      .adminClient()
      .eval(HSET_IF_EXISTS, 1, this.backend.jobKey(jobId), CODE_FIELD, HINT_FIELD, ...fields);
    stored.then(
      () => reject(error),
      () => reject(error),
    );
  }

  private backoff(job: Job | undefined, error: Error | undefined): number {
    const attempt = job?.attemptsStarted ?? 1;
    try {
      const ms = this.backend.options.retry.backoffMs(attempt, error ?? new Error('unknown error'));
      return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : 0;
    } catch (backoffError) {
      this.report(toError(backoffError));
      return 0;
    }
  }

  private onFailed(job: Job | undefined, error: Error): void {
    // finishedOn is set only when the job moved to the failed set: retries leave it unset.
    if (job && !job.finishedOn) {
      const delivery = this.deliveries.get(job);
      if (delivery && this.options.onRetry) this.callback(() => this.options.onRetry!(delivery, error));
      return;
    }
    if (!job) return;
    const taskId = job.id!;
    const attempt = this.backend.attemptsOf(job);
    const lastError =
      error.message === STARTED_LIMIT_REASON || error.message === STALLED_LIMIT_REASON
        ? leaseLostError(
            taskId,
            attempt,
            this.backend.options.retry.maxAttempts,
            this.backend.options.leaseMs,
          )
        : error;
    const delivery = this.deliveries.get(job) ?? {
      taskId,
      payload: job.data,
      attempt,
      maxAttempts: this.backend.options.retry.maxAttempts,
      signal: AbortSignal.abort(lastError),
    };
    try {
      this.options.onFinalFailure?.(delivery, lastError);
    } catch (callbackError) {
      this.report(toError(callbackError));
    }
  }

  private onWorkerError(error: Error): void {
    const refused = refusedOutcome(error);
    if (!refused) {
      this.report(error);
      return;
    }
    const { jobId, kind } = refused;
    // BullMQ fails an attempt whose result it refused; the same lease refuses that too
    if (this.refusedResults.delete(jobId)) return;
    if (this.completing.delete(jobId)) this.refusedResults.add(jobId);
    if (kind === 'gone') {
      // said once for the whole batch, by the backend
      this.backend.jobGone(jobId);
      return;
    }
    this.report(
      new DroverError(
        'ELATEACK',
        `drover: the outcome of task '${jobId}' in queue '${this.backend.queue}' came after its lease was lost; ignored (${error.message.trim()})`,
        {
          hint: 'stop work when delivery.signal aborts; raise leaseMs if the event loop stalls',
          cause: error,
        },
      ),
    );
  }

  /** Runs a caller's callback; one that throws is reported, not thrown into BullMQ. */
  private callback(call: () => void): void {
    try {
      call();
    } catch (callbackError) {
      this.report(toError(callbackError));
    }
  }

  /** @internal */
  report(error: Error): void {
    // what the close itself ended is no news
    if (this.backend.closed && isConnectionClosed(error)) return;
    try {
      this.options.onError?.(error);
    } catch {
      // an error reporter that throws has nowhere left to report to
    }
  }
}

/** Creates a BullMQ backend and waits until Redis answers (EREDIS after `connectTimeoutMs`). */
export async function createBullMQBackend<P = unknown, R = unknown>(
  options: BullMQBackendOptions,
): Promise<BullMQBackend<P, R>> {
  const backend = new BullMQBackend<P, R>(options);
  await backend.connect(options.connectTimeoutMs ?? 10_000);
  return backend;
}

/** A factory for the core: `bullmqBackend({ connection })` builds a BullMQ backend from the core's options. */
export function bullmqBackend<P = unknown, R = unknown>(
  connection: BullMQConnectionOptions,
): BackendFactory<P, R> {
  validateConnectionOptions(connection);
  return (options) => createBullMQBackend<P, R>({ ...connection, ...options });
}

const CONNECTION_KEYS = ['connection', 'prefix', 'stalledIntervalMs', 'connectTimeoutMs', 'onError'];

/** Checks `bullmqBackend()`'s options when they are given, not when the pool starts. */
function validateConnectionOptions(options: BullMQConnectionOptions): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new ConfigError(
      'bullmqBackend options',
      options,
      "an object such as { connection: 'redis://127.0.0.1:6379' }",
    );
  const o = options as unknown as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (CONNECTION_KEYS.includes(key)) continue;
    const near = closest(key, CONNECTION_KEYS);
    throw new ConfigError(
      key,
      o[key],
      `a bullmqBackend() option${near ? ` (did you mean '${near}'?)` : `: ${CONNECTION_KEYS.join(', ')}`}; queue options (leaseMs, maxQueued, ...) go to the Pool`,
    );
  }
  resolveRedisConnection(options.connection);
  validatePrefix(options.prefix);
  if (options.stalledIntervalMs !== undefined) validateStalledInterval(options.stalledIntervalMs);
  if (
    options.connectTimeoutMs !== undefined &&
    (!Number.isInteger(options.connectTimeoutMs) || options.connectTimeoutMs < 1)
  )
    throw new ConfigError('connectTimeoutMs', options.connectTimeoutMs, 'an integer >= 1 (milliseconds)');
  if (options.onError !== undefined && typeof options.onError !== 'function')
    throw new ConfigError('onError', options.onError, 'a function (error) => void');
}

function validatePrefix(prefix: unknown): string {
  const value = prefix ?? 'drover';
  if (typeof value !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(value))
    throw new ConfigError('prefix', prefix, 'a key prefix of 1-64 letters, digits, "-", "_" or "."');
  return value;
}

function validateStalledInterval(ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 100)
    throw new ConfigError('stalledIntervalMs', ms, 'an integer >= 100 (milliseconds)');
  return ms;
}
