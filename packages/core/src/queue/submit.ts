import { Deadline } from './bound.js';
import { waitTimeoutError } from './errors.js';
import type { QueueBackend, TaskSpec, WaitForResultOptions } from './QueueBackend.js';

/**
 * Enqueues one task and resolves with its result, from whichever process runs it. The wait starts
 * after the enqueue; a result that arrives in between is read from the kept results. `signal` and
 * `timeoutMs` bound the whole of it: the enqueue (waiting for room, or for the server to confirm
 * it) and then the wait, with what is left of `timeoutMs`.
 */
export async function submitAndWait<P, R>(
  backend: QueueBackend<P, R>,
  task: TaskSpec<P>,
  options: WaitForResultOptions = {},
): Promise<R> {
  const deadline = new Deadline(options.timeoutMs);
  const [taskId] = await backend.enqueue([task], { signal: options.signal, timeoutMs: deadline.left() });
  return waitWithin(backend, taskId!, options, deadline);
}

/** `submitAndWait` of many tasks, enqueued at once (all or nothing); results in order. */
export async function submitAllAndWait<P, R>(
  backend: QueueBackend<P, R>,
  tasks: readonly TaskSpec<P>[],
  options: WaitForResultOptions = {},
): Promise<R[]> {
  const deadline = new Deadline(options.timeoutMs);
  const ids = await backend.enqueue(tasks, { signal: options.signal, timeoutMs: deadline.left() });
  return Promise.all(ids.map((id) => waitWithin(backend, id, options, deadline)));
}

/**
 * The wait for a result with what is left of the submit's `timeoutMs`; its ETIMEOUT names the
 * whole `timeoutMs`, which is what the caller gave.
 */
export function waitWithin<P, R>(
  backend: QueueBackend<P, R>,
  taskId: string,
  options: WaitForResultOptions,
  deadline: Deadline,
): Promise<R> {
  const left = deadline.left();
  const wait = backend.waitForResult(taskId, { signal: options.signal, timeoutMs: left });
  return namingWholeTimeout(wait, taskId, options.timeoutMs, left);
}

/**
 * `wait`, a wait for `taskId` bounded by `left` ms of the caller's `timeoutMs`: its ETIMEOUT names
 * the whole `timeoutMs`, which is what the caller gave.
 */
export function namingWholeTimeout<R>(
  wait: Promise<R>,
  taskId: string,
  timeoutMs: number | undefined,
  left: number | undefined,
): Promise<R> {
  if (timeoutMs === undefined || left === timeoutMs) return wait;
  return wait.catch((error: unknown) => {
    throw isWaitTimeout(error, taskId) ? waitTimeoutError(taskId, timeoutMs) : error;
  });
}

function isWaitTimeout(error: unknown, taskId: string): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    code === 'ETIMEOUT' &&
    typeof message === 'string' &&
    message.startsWith(`drover: no result for task '${taskId}' within `)
  );
}
