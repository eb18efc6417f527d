/**
 * The contract every task-queue backend implements. The task `Pool` talks to a queue only
 * through these types, so the in-memory default and a shared Redis queue (BullMQ) behave alike:
 * the same retry policy, attempt numbers, leases, dead letters and result waiting.
 *
 * Guarantee: at-least-once. A task whose consumer dies (or loses its lease) is delivered again,
 * so a task may run more than once; handlers should be idempotent.
 */

/** Payloads and results travel as JSON: `undefined` becomes `null`, a `Date` becomes a string. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** How failed attempts are retried. Owned by the core and passed down to every backend. */
export interface RetryPolicy {
  /**
   * Total deliveries of a task, the first one included (>= 1). Every delivery counts: a failed
   * handler, a lease lost because its consumer died, or a consumer closed without draining.
   */
  readonly maxAttempts: number;
  /** Delay in ms before the delivery after a failed `attempt` (1-based). */
  backoffMs(attempt: number, error: Error): number;
}

/** One task to enqueue. */
export interface TaskSpec<P = unknown> {
  /**
   * Idempotency key. Enqueueing an id the backend still knows (queued, running, or its result
   * or dead letter still kept) does nothing and returns the same id. Letters, digits and
   * `-_.@/+=`; not an integer and no `:` (the rules of BullMQ job ids). Default: generated.
   */
  readonly id?: string;
  readonly payload: P;
  /** Not delivered before this many ms have passed. */
  readonly delayMs?: number;
  /** 0 (default) runs first; then 1 (highest) to 2_097_152 (lowest). */
  readonly priority?: number;
}

/** Options of one `enqueue` call. */
export interface EnqueueOptions {
  /**
   * Cancels an `enqueue` that waits for room in a bounded queue (`whenFull: 'wait'`), or whose
   * server has not confirmed it yet (ABORTED; such a task may or may not be queued).
   */
  readonly signal?: AbortSignal;
  /**
   * Rejects with ETIMEOUT when the enqueue has not got room, or its server's confirmation, within
   * this many ms (an unconfirmed task may or may not be queued). Default: no bound.
   */
  readonly timeoutMs?: number;
}

/** One delivery of a task to a handler. */
export interface Delivery<P = unknown> {
  readonly taskId: string;
  readonly payload: P;
  /** 1-based. Deliveries after a lost lease count too, so this never repeats for a task. */
  readonly attempt: number;
  /** The retry policy's `maxAttempts`: `attempt === maxAttempts` is the last try. */
  readonly maxAttempts: number;
  /**
   * Aborted when this delivery no longer owns the task: its lease was lost, or its consumer was
   * closed without draining or abandoned. Stop work then: the result will be discarded.
   */
  readonly signal: AbortSignal;
  /**
   * Calls `listener` with the reason when `signal` aborts (at once if it already has), without
   * creating the signal: at queue speeds an AbortController per task costs a few percent of the
   * consumer's time. Optional for a backend; without it, listen on `signal`.
   */
  readonly onAbort?: (listener: (reason: unknown) => void) => void;
}

/**
 * Runs one delivery. Resolving acknowledges the task and stores the value as its result;
 * rejecting fails this attempt (retried per the policy until `maxAttempts`).
 */
export type Handler<P = unknown, R = unknown> = (delivery: Delivery<P>) => Promise<R>;

/** Counters for the autoscaler and `status`. For a shared backend they cover every process. */
export interface QueueStats {
  /** waiting to be delivered now */
  readonly ready: number;
  /** waiting for their `delayMs` or their retry backoff */
  readonly delayed: number;
  /** delivered, not yet acknowledged or failed */
  readonly inFlight: number;
  /** failed for good and still kept as dead letters */
  readonly dead: number;
}

export interface ConsumeOptions<P = unknown> {
  /** Handlers allowed to run at once (>= 0; 0 takes nothing, like a pause). */
  readonly concurrency: number;
  /**
   * Called once per task that failed for good, in the consumer that made the last attempt, after
   * the task was moved to the dead letters. `error` is the last attempt's error.
   */
  onFinalFailure?(delivery: Delivery<P>, error: Error): void;
  /**
   * Called once the queue has stored the result of `delivery` (its handler resolved and the
   * delivery still owned the task). Not called for an outcome the queue refused (ELATEACK,
   * ETASKLOST): the task's result is then another delivery's.
   */
  onAcknowledged?(delivery: Delivery<P>): void;
  /**
   * Called once the queue has recorded a failed attempt of `delivery` that will be delivered again
   * (after its backoff). Not called for a refused outcome, nor for the last attempt (see
   * `onFinalFailure`).
   */
  onRetry?(delivery: Delivery<P>, error: Error): void;
  /**
   * Problems that belong to no handler: a lost connection, a late acknowledgement refused
   * because the lease had moved on, an `onFinalFailure` that threw. Default: ignored.
   */
  onError?(error: Error): void;
}

export interface CloseConsumerOptions {
  /**
   * true (default): take nothing new and wait for running handlers to settle.
   * false: abort running deliveries at once; each counts as a failed attempt (ECONSUMERCLOSED).
   */
  readonly drain?: boolean;
  /**
   * Simulate a crash of this consumer: running deliveries are aborted and neither acknowledged
   * nor failed; their leases are no longer renewed, so another consumer gets them after the lease
   * expires, with the next attempt number. Takes precedence over `drain`.
   */
  readonly abandon?: boolean;
}

/** A running subscription: the backend calls its handler whenever a slot is free. */
export interface Consumer {
  /** Current limit on handlers running at once. */
  readonly concurrency: number;
  /** Handlers running now (for this consumer). */
  readonly running: number;
  /** Raise or lower the limit (>= 0). Lowering never interrupts running handlers. */
  setConcurrency(n: number): void;
  /** Take no new tasks; running handlers continue and keep their leases. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(options?: CloseConsumerOptions): Promise<void>;
}

export interface WaitForResultOptions {
  readonly signal?: AbortSignal;
  /** Reject with ETIMEOUT after this many ms. Default: wait until settled or aborted. */
  readonly timeoutMs?: number;
}

/** A task that failed for good, as kept by the backend. */
export interface DeadLetter<P = unknown> {
  readonly taskId: string;
  readonly payload: P;
  /** deliveries made */
  readonly attempts: number;
  /** the last error's message */
  readonly error: string;
  /** epoch ms */
  readonly failedAt: number;
}

export interface BackendCapabilities {
  /** Tasks survive the death of the process that enqueued them. */
  readonly durable: boolean;
  /** Several processes (or hosts) can enqueue to and consume from one queue. */
  readonly shared: boolean;
  readonly priorities: boolean;
  readonly delayedTasks: boolean;
  /** `TaskSpec.id` deduplicates. */
  readonly idempotentIds: boolean;
}

export interface QueueBackend<P = unknown, R = unknown> {
  readonly kind: 'memory' | 'bullmq' | (string & {});
  readonly capabilities: BackendCapabilities;
  /** The queue's name (a BullMQ queue name; a label for the memory backend). */
  readonly queue: string;
  /** Where the queue lives, for messages (`Redis at 127.0.0.1:6379`); none for one in this process. */
  readonly location?: string;
  /**
   * Adds tasks and returns their ids, in order. All or nothing: an invalid spec or a full
   * bounded queue (`whenFull: 'reject'`) rejects the whole call with a DroverError.
   */
  enqueue(tasks: readonly TaskSpec<P>[], options?: EnqueueOptions): Promise<string[]>;
  /** Starts a consumer; several consumers (in this or other processes) share the tasks. */
  consume(handler: Handler<P, R>, options: ConsumeOptions<P>): Consumer;
  stats(): Promise<QueueStats>;
  /**
   * The result of a task, from any process that can reach the queue: resolves with the value its
   * handler returned, rejects with ETASKFAILED after its final failure, or with ETASKUNKNOWN when
   * the id is not known (never enqueued, or its result is no longer kept: see `keepResults`).
   */
  waitForResult(taskId: string, options?: WaitForResultOptions): Promise<R>;
  /** Tasks that failed for good, newest first. */
  deadLetters(options?: { limit?: number }): Promise<DeadLetter<P>[]>;
  /**
   * Final. Closes consumers still open without draining (close them first with `{ drain: true }`
   * to let running handlers finish), releases connections and rejects pending waits with ECLOSED.
   */
  close(): Promise<void>;
  /**
   * Optional: ends the backend's connections at once, without waiting for its server (for a stop
   * that must end while the server does not answer). What was not acknowledged is left to its
   * lease. Pending operations and waits reject; `close()` then settles.
   */
  terminate?(): void;
}

/** How long finished tasks stay queryable. Whichever limit is reached first evicts. */
export interface Retention {
  /** evict what finished longer ago than this, in ms */
  readonly ageMs?: number;
  /** keep at most this many, the newest */
  readonly count?: number;
}

/** Options every backend accepts. */
export interface BackendOptions {
  /** Queue name: letters, digits, `-_.`. */
  readonly queue: string;
  readonly retry: RetryPolicy;
  /**
   * How long a delivery may go without its lease being renewed before the task is given to
   * another consumer. Renewal is automatic while the consumer's process is alive. Default 30_000.
   */
  readonly leaseMs?: number;
  /** Bound on tasks waiting (ready + delayed). Default: unbounded. */
  readonly maxQueued?: number;
  /** At the bound: reject with EQUEUEFULL (default), or wait for room. */
  readonly whenFull?: 'reject' | 'wait';
  /** Results kept for `waitForResult`. Default `{ ageMs: 300_000, count: 10_000 }`. */
  readonly keepResults?: Retention;
  /** Dead letters kept. Default `{ ageMs: 7 days, count: 10_000 }`. */
  readonly keepDeadLetters?: Retention;
}

/** Builds a backend from the options the core decides (queue, retry, lease, bounds). */
export type BackendFactory<P = unknown, R = unknown> = (
  options: BackendOptions,
) => QueueBackend<P, R> | Promise<QueueBackend<P, R>>;
