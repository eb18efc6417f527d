import { abortedError, waitTimeoutError } from './errors.js';
import type { WaitForResultOptions } from './QueueBackend.js';
import { TIMER_MAX_MS } from '../timerLimit.js';

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Pending `waitForResult` calls by task id, with their abort signals and timeouts. Most tasks
 * have one waiter without a signal or timeout: that one is stored as is, with no set around it
 * and no cleanup closures.
 */
export class ResultWaiters {
  private readonly byTask = new Map<string, Waiter | Waiter[]>();

  get size(): number {
    return this.byTask.size;
  }

  /** Registers a waiter synchronously, so a settle right after this call is not missed. */
  wait<R>(taskId: string, options: WaitForResultOptions = {}): Promise<R> {
    const { signal, timeoutMs } = options;
    if (signal === undefined && timeoutMs === undefined)
      return new Promise<R>((resolve, reject) =>
        this.add(taskId, { resolve: resolve as Waiter['resolve'], reject }),
      );
    return new Promise<R>((resolve, reject) => {
      const aborted = () => abortedError(`the wait for the result of task '${taskId}'`, signal?.reason);
      if (signal?.aborted) {
        reject(aborted());
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.remove(taskId, waiter);
      };
      const waiter: Waiter = {
        resolve: (value) => {
          cleanup();
          resolve(value as R);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = () => waiter.reject(aborted());
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined)
        if (timeoutMs <= TIMER_MAX_MS)
          // a wait past the longest timer is a wait without end, not one that ends at once
          timer = setTimeout(() => waiter.reject(waitTimeoutError(taskId, timeoutMs)), timeoutMs);
      this.add(taskId, waiter);
    });
  }

  has(taskId: string): boolean {
    return this.byTask.has(taskId);
  }

  resolve(taskId: string, value: unknown): void {
    const entry = this.take(taskId);
    if (entry === undefined) return;
    if (Array.isArray(entry)) for (const waiter of entry) waiter.resolve(value);
    else entry.resolve(value);
  }

  reject(taskId: string, error: unknown): void {
    const entry = this.take(taskId);
    if (entry === undefined) return;
    if (Array.isArray(entry)) for (const waiter of entry) waiter.reject(error);
    else entry.reject(error);
  }

  rejectAll(error: unknown): void {
    for (const taskId of [...this.byTask.keys()]) this.reject(taskId, error);
  }

  /** Rejects every wait with an error of its own task. */
  rejectEach(errorFor: (taskId: string) => unknown): void {
    for (const taskId of [...this.byTask.keys()]) this.reject(taskId, errorFor(taskId));
  }

  /** The ids waited for, the longest waiting first; at most `limit`, from the `from`th on. */
  ids(limit = Number.POSITIVE_INFINITY, from = 0): string[] {
    const ids: string[] = [];
    let skipped = 0;
    for (const taskId of this.byTask.keys()) {
      if (ids.length >= limit) break;
      if (skipped < from) skipped++;
      else ids.push(taskId);
    }
    return ids;
  }

  private add(taskId: string, waiter: Waiter): void {
    const entry = this.byTask.get(taskId);
    if (entry === undefined) this.byTask.set(taskId, waiter);
    else if (Array.isArray(entry)) entry.push(waiter);
    else this.byTask.set(taskId, [entry, waiter]);
  }

  private remove(taskId: string, waiter: Waiter): void {
    const entry = this.byTask.get(taskId);
    if (entry === waiter) this.byTask.delete(taskId);
    else if (Array.isArray(entry)) {
      const rest = entry.filter((w) => w !== waiter);
      if (rest.length === 0) this.byTask.delete(taskId);
      else this.byTask.set(taskId, rest);
    }
  }

  /** Removes and returns a task's waiters: settling them (and their cleanups) cannot touch the map entry again. */
  private take(taskId: string): Waiter | Waiter[] | undefined {
    const entry = this.byTask.get(taskId);
    if (entry !== undefined) this.byTask.delete(taskId);
    return entry;
  }
}
