import { DroverError } from '../errors.js';

/** A task failed for good: every attempt of its retry policy was used. */
export class TaskFailedError extends DroverError {
  readonly taskId: string;
  readonly attempts: number;
  /** the last attempt's error message */
  readonly lastError: string;
  /** the last attempt's error code (EWORKERLOST, ETASKTIMEOUT, EPAYLOAD, a handler's own), if it had one */
  readonly lastCode: string | undefined;
  /** the last attempt's error (in another process than the one that ran it: its message and code) */
  declare readonly cause: Error;

  /**
   * @param last the last attempt's error, or its message as stored elsewhere (then with its
   *   `code` and `hint`, if it had them)
   */
  constructor(taskId: string, attempts: number, last: Error | string, code?: string, hint?: string) {
    const cause =
      typeof last === 'string'
        ? Object.assign(new Error(last), code ? { code } : {}, hint ? { hint } : {})
        : last;
    const lastCode = (cause as Error & { code?: unknown }).code;
    super(
      'ETASKFAILED',
      `drover: task '${taskId}' failed after ${attempts} attempt(s): ${withoutHint(cause)}`,
      {
        hint: 'see its dead letter (deadLetters()) and the cause; fix it and enqueue the task again under a new id',
        cause,
      },
    );
    this.name = 'TaskFailedError';
    this.taskId = taskId;
    this.attempts = attempts;
    this.lastError = cause.message;
    this.lastCode = typeof lastCode === 'string' ? lastCode : undefined;
  }
}

/** An error's message without the hint a DroverError appends (the hint stays on the error itself). */
function withoutHint(error: Error): string {
  const hint = (error as Error & { hint?: unknown }).hint;
  const suffix = typeof hint === 'string' ? `; ${hint}` : '';
  const message =
    suffix && error.message.endsWith(suffix) ? error.message.slice(0, -suffix.length) : error.message;
  // the outer message already says drover
  return message.startsWith('drover: ') ? message.slice('drover: '.length) : message;
}

/** An abort signal's reason, for a message: ` (why)`, or nothing for a bare `abort()`. */
function abortReason(reason: unknown): string {
  if (reason instanceof Error) return reason.name === 'AbortError' ? '' : ` (${reason.message})`;
  return ` (${String(reason)})`;
}

/** A wait (for a result, or for room in a bounded queue) ended by its caller's abort signal. */
export function abortedError(
  what: string,
  reason: unknown,
  hint = 'the task itself stays queued: its result can still be read with its id',
): DroverError {
  const error = new DroverError(
    'ABORTED',
    `drover: ${what} was aborted by its signal${abortReason(reason)}`,
    {
      hint,
      cause: reason,
    },
  );
  error.name = 'AbortError';
  return error;
}

/** The hint of an enqueue that waited for room and was cut short: nothing was added. */
export const NOT_QUEUED_HINT = 'the task was not queued: submit it again';

/** What an enqueue that ended without an answer names: its task, or how many. */
function enqueued(taskIds: readonly (string | undefined)[]): string {
  if (taskIds.length === 1) return taskIds[0] === undefined ? 'a task' : `task '${taskIds[0]}'`;
  return `${taskIds.length} tasks`;
}

/** What to do about an enqueue that may or may not have been added; `from`: where to submit again. */
function unconfirmedHint(taskIds: readonly (string | undefined)[], from = ''): string {
  const own = taskIds.filter((id): id is string => id !== undefined);
  if (own.length === 0)
    return 'its id would be generated again, so a new submit may run it twice: give submits an id ({ id }) to make a repeat safe';
  if (own.length < taskIds.length)
    return `submit them again with the same ids${from}: those with an id of their own are waited for if they were queued, those without one may run twice`;
  if (own.length === 1)
    return `submit it again with the same id ({ id: '${own[0]}' })${from}: if it was queued, that submit waits for it instead of running it twice`;
  return `submit them again with the same ids${from}: those that were queued are waited for instead of run twice`;
}

/**
 * An enqueue still unconfirmed when this process closed the queue (its pool stopped): the
 * command may have reached the server, so the task may or may not be queued.
 */
export function enqueueClosedError(
  kind: string,
  queue: string,
  taskIds: readonly (string | undefined)[],
): DroverError {
  return new DroverError(
    'ECLOSED',
    `drover: the ${kind} queue '${queue}' was closed in this process (its pool stopped, or close() was called) before Redis confirmed the enqueue of ${enqueued(taskIds)}; it may or may not be queued`,
    { hint: unconfirmedHint(taskIds, ' from a running pool or a producer') },
  );
}

/**
 * An enqueue the queue's server did not confirm within the caller's `timeoutMs`: the command may
 * still reach it, so the task may or may not be queued.
 */
export function enqueueTimeoutError(
  queue: string,
  where: string,
  taskIds: readonly (string | undefined)[],
  timeoutMs: number,
): DroverError {
  return new DroverError(
    'ETIMEOUT',
    `drover: Redis at ${where} did not confirm the enqueue of ${enqueued(taskIds)} to queue '${queue}' within ${timeoutMs} ms; it may or may not be queued`,
    { hint: `check that Redis answers; ${unconfirmedHint(taskIds)}` },
  );
}

/** An enqueue the caller's signal ended before the queue's server confirmed it. */
export function enqueueAbortedError(
  queue: string,
  where: string,
  taskIds: readonly (string | undefined)[],
  reason: unknown,
): DroverError {
  const error = new DroverError(
    'ABORTED',
    `drover: the enqueue of ${enqueued(taskIds)} to queue '${queue}' was aborted by its signal${abortReason(reason)} before Redis at ${where} confirmed it; it may or may not be queued`,
    { hint: unconfirmedHint(taskIds), cause: reason },
  );
  error.name = 'AbortError';
  return error;
}

/** An enqueue that waited for room (or for the queue's server to count it) past the caller's `timeoutMs`. */
export function roomTimeoutError(
  queue: string,
  taskIds: readonly (string | undefined)[],
  maxQueued: number,
  timeoutMs: number,
  where?: string,
): DroverError {
  const answer = where ? ` or an answer from Redis at ${where}` : '';
  return new DroverError(
    'ETIMEOUT',
    `drover: the enqueue of ${enqueued(taskIds)} to queue '${queue}' got no room (maxQueued ${maxQueued})${answer} within ${timeoutMs} ms; nothing was queued`,
    { hint: 'submit it again later; raise timeoutMs or maxQueued, or add consumers' },
  );
}

/** An enqueue that Redis failed (an ioredis error, which has no code): it may or may not have been added. */
export function enqueueFailedError(
  queue: string,
  where: string,
  taskIds: readonly (string | undefined)[],
  cause: Error,
): DroverError {
  return new DroverError(
    'EREDIS',
    `drover: queue '${queue}' could not enqueue ${enqueued(taskIds)} on Redis at ${where} (${cause.message}); it may or may not be queued`,
    {
      hint: `check that redis-server runs and answers at ${where}; ${unconfirmedHint(taskIds)}`,
      cause,
    },
  );
}

export function queueFullError(
  queue: string,
  queued: number,
  adding: number,
  maxQueued: number,
): DroverError {
  return new DroverError(
    'EQUEUEFULL',
    `drover: queue '${queue}' is full: ${queued} task(s) waiting, ${adding} more would pass maxQueued ${maxQueued}`,
    { hint: "retry later, add consumers, raise maxQueued, or set whenFull: 'wait'" },
  );
}

export function batchTooLargeError(queue: string, adding: number, maxQueued: number): DroverError {
  return new DroverError(
    'EQUEUEFULL',
    `drover: an enqueue of ${adding} tasks can never fit queue '${queue}' (maxQueued ${maxQueued})`,
    { hint: `enqueue at most ${maxQueued} tasks per call, or raise maxQueued` },
  );
}

export function unknownTaskError(queue: string, taskId: string, keptMs: number): DroverError {
  return new DroverError('ETASKUNKNOWN', `drover: queue '${queue}' does not know task '${taskId}'`, {
    hint: `check the id; results are kept for ${keptMs} ms (keepResults), wait for them sooner or keep them longer`,
  });
}

export function consumerClosedError(taskId: string): DroverError {
  return new DroverError(
    'ECONSUMERCLOSED',
    `drover: task '${taskId}' was interrupted: its consumer closed before it finished`,
    { hint: 'it runs again, on a consumer still open, as its next attempt' },
  );
}

export function leaseLostError(
  taskId: string,
  attempt: number,
  maxAttempts: number,
  leaseMs: number,
): DroverError {
  return new DroverError(
    'ELEASELOST',
    `drover: task '${taskId}' lost its lease on attempt ${attempt} of ${maxAttempts} (its consumer stopped renewing it for ${leaseMs} ms)`,
    { hint: 'a consumer process died or was blocked; a longer leaseMs tolerates longer event-loop stalls' },
  );
}

export function backendClosedError(kind: string, queue: string): DroverError {
  return new DroverError('ECLOSED', `drover: the ${kind} queue '${queue}' is closed`, {
    hint: 'a stopped pool (or a closed backend) takes no more tasks: submit to a running pool, or create a new one',
  });
}

/**
 * The wait of a task the in-memory queue was running when it closed: the stop gave up on it (a
 * pool kills the worker still running it at stopTimeout), so it may have partly run.
 */
export function runningClosedError(
  queue: string,
  taskId: string,
  attempt: number,
  cause: Error,
): DroverError {
  return new DroverError(
    'ECLOSED',
    `drover: task '${taskId}' was running (attempt ${attempt}) when the memory queue '${queue}' closed: the stop gave up on it before it finished (a pool kills the worker still running it at stopTimeout), so it may have partly run`,
    {
      hint: 'the in-memory queue keeps nothing once its pool stops: check what the task did before you submit it again; a longer stopTimeout lets running tasks finish',
      cause,
    },
  );
}

/** A task id drover generated (an integer, or BullMQ's `<n>~<token>`): a caller's own ids never are. */
function isGeneratedId(taskId: string): boolean {
  return /^\d+$/.test(taskId) || taskId.includes('~');
}

/**
 * A wait for a result cut short by the close of a shared queue: the task itself is still queued
 * there (durable). A submit with the same id waits for it again without running it twice; a
 * generated id can only be waited for through a backend.
 */
export function waitClosedError(kind: string, queue: string, taskId: string): DroverError {
  return new DroverError(
    'ECLOSED',
    `drover: stopped waiting for the result of task '${taskId}': the ${kind} queue '${queue}' was closed in this process; the task stays queued for the next consumer`,
    {
      hint: isGeneratedId(taskId)
        ? `its id was generated, so a new submit would run it twice: read its result with waitForResult('${taskId}') of a backend on queue '${queue}' (createBullMQBackend() from '@drover/core/bullmq'); submit with an id ({ id }) to make a submit idempotent`
        : `submit it again with the same id ({ id: '${taskId}' }) from a running pool or a producer: the id makes that submit wait for this task instead of running it twice`,
    },
  );
}

/** What to do about a lost task: submit it again, under the same id when it had one of its own. */
function resubmitHint(taskIds: readonly string[]): string {
  const own = taskIds.filter((id) => !isGeneratedId(id));
  if (own.length === 0) return 'submit it again';
  if (taskIds.length === 1) return `submit it again with the same id ({ id: '${taskIds[0]}' })`;
  return 'submit them again with the same ids';
}

const KEEP_DATA =
  "Redis restarted without persistence or was flushed: keep the queue's data with 'appendonly yes' (or 'save' snapshots) in redis.conf";

/** A task whose job is gone from Redis: no consumer will run it and no result will come. */
export function taskLostError(queue: string, taskId: string, where: string): DroverError {
  return new DroverError(
    'ETASKLOST',
    `drover: task '${taskId}' is lost: its job is gone from queue '${queue}' on Redis (${where}), with the queue's keys, so no result will come`,
    { hint: `${KEEP_DATA}; ${resubmitHint([taskId])} to run it` },
  );
}

/** The log line for a batch of lost tasks: said once, not once per job. */
export function tasksLostError(queue: string, taskIds: readonly string[], where: string): DroverError {
  const shown = taskIds.slice(0, 5).map((id) => `'${id}'`);
  const more = taskIds.length > shown.length ? ` and ${taskIds.length - shown.length} more` : '';
  return new DroverError(
    'ETASKLOST',
    `drover: queue '${queue}' lost ${taskIds.length} task(s) (${shown.join(', ')}${more}): their jobs are gone from Redis (${where}), with the queue's keys; their waits reject with ETASKLOST`,
    { hint: `${KEEP_DATA}; ${resubmitHint(taskIds)} to run them` },
  );
}

/** A read (stats, dead letters) of a queue this process has closed. */
export function readClosedError(kind: string, queue: string, what: string): DroverError {
  return new DroverError(
    'ECLOSED',
    `drover: cannot read the ${what} of the ${kind} queue '${queue}': it was closed in this process (its pool stopped, or close() was called)`,
    {
      hint: 'read them from a process whose pool is running (its status() or stats()), or from a producer Pool on the same queue',
    },
  );
}

export function waitTimeoutError(taskId: string, timeoutMs: number): DroverError {
  return new DroverError('ETIMEOUT', `drover: no result for task '${taskId}' within ${timeoutMs} ms`, {
    hint: 'raise timeoutMs, or check that a consumer is running (stats())',
  });
}
