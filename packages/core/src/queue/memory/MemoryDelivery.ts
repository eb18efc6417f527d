import type { LazyAbort } from '../LazyAbort.js';
import type { Delivery } from '../QueueBackend.js';

/** One delivery of the in-memory queue. A class: an object literal with a getter cost a closure and a slow shape per task. */
export class MemoryDelivery implements Delivery {
  constructor(
    readonly taskId: string,
    readonly payload: unknown,
    readonly attempt: number,
    readonly maxAttempts: number,
    private readonly abort: LazyAbort,
  ) {}

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  onAbort(listener: (reason: unknown) => void): void {
    this.abort.onAbort(listener);
  }

  /** The same delivery with another payload (a copy for a callback). */
  withPayload(payload: unknown): MemoryDelivery {
    return new MemoryDelivery(this.taskId, payload, this.attempt, this.maxAttempts, this.abort);
  }
}
