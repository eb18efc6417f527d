import type { QueueBackend, TaskSpec, WaitForResultOptions } from './QueueBackend.js';

/**
 * Enqueues one task and resolves with its result, from whichever process runs it. The wait starts
 * after the enqueue; a result that arrives in between is read from the kept results.
 */
export async function submitAndWait<P, R>(
  backend: QueueBackend<P, R>,
  task: TaskSpec<P>,
  options: WaitForResultOptions = {},
): Promise<R> {
  const [taskId] = await backend.enqueue([task], { signal: options.signal });
  return backend.waitForResult(taskId!, options);
}
