import { DroverError } from '../errors.js';

/** A task failed for good: every attempt of its retry policy was used. */
export class TaskFailedError extends DroverError {
  readonly taskId: string;
  readonly attempts: number;
  /** the last attempt's error message */
  readonly lastError: string;

  constructor(taskId: string, attempts: number, lastError: string) {
    super('ETASKFAILED', `drover: task '${taskId}' failed after ${attempts} attempt(s): ${lastError}`, {
      hint: 'see its dead letter (deadLetters()); fix the cause and enqueue it again under a new id',
    });
    this.name = 'TaskFailedError';
    this.taskId = taskId;
    this.attempts = attempts;
    this.lastError = lastError;
  }
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
  return new DroverError('ECONSUMERCLOSED', `drover: task '${taskId}' was interrupted: its consumer closed`, {
    hint: 'close consumers with { drain: true } to let running tasks finish',
  });
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
    hint: 'create a new backend; close() is final',
  });
}

export function waitTimeoutError(taskId: string, timeoutMs: number): DroverError {
  return new DroverError('ETIMEOUT', `drover: no result for task '${taskId}' within ${timeoutMs} ms`, {
    hint: 'raise timeoutMs, or check that a consumer is running (stats())',
  });
}
