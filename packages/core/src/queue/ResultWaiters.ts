import { waitTimeoutError } from './errors.js';
import type { WaitForResultOptions } from './QueueBackend.js';

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Pending `waitForResult` calls by task id, with their abort signals and timeouts. */
export class ResultWaiters {
  private readonly byTask = new Map<string, Set<Waiter>>();

  get size(): number {
    return this.byTask.size;
  }

  /** Registers a waiter synchronously, so a settle right after this call is not missed. */
  wait<R>(taskId: string, options: WaitForResultOptions = {}): Promise<R> {
    const { signal, timeoutMs } = options;
    return new Promise<R>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const set = this.byTask.get(taskId);
        set?.delete(waiter);
        if (set?.size === 0) this.byTask.delete(taskId);
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
      const onAbort = () => waiter.reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined)
        timer = setTimeout(() => waiter.reject(waitTimeoutError(taskId, timeoutMs)), timeoutMs);
      let set = this.byTask.get(taskId);
      if (!set) {
        set = new Set();
        this.byTask.set(taskId, set);
      }
      set.add(waiter);
    });
  }

  has(taskId: string): boolean {
    return this.byTask.has(taskId);
  }

  resolve(taskId: string, value: unknown): void {
    for (const waiter of [...(this.byTask.get(taskId) ?? [])]) waiter.resolve(value);
  }

  reject(taskId: string, error: unknown): void {
    for (const waiter of [...(this.byTask.get(taskId) ?? [])]) waiter.reject(error);
  }

  rejectAll(error: unknown): void {
    for (const taskId of [...this.byTask.keys()]) this.reject(taskId, error);
  }
}
