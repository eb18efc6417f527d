import { validateConcurrency } from '../options.js';
import type { LazyAbort } from '../LazyAbort.js';
import type { MemoryConsumeOptions } from '../MemoryQueue.js';
import type { CloseConsumerOptions, Consumer, Handler } from '../QueueBackend.js';
import type { MemoryDelivery } from './MemoryDelivery.js';

/** One delivery's claim on a task. `live` turns false once its outcome would be ignored. */
export interface Lease {
  readonly consumer: MemoryConsumer;
  readonly controller: LazyAbort;
  readonly delivery: MemoryDelivery;
  live: boolean;
  expiryTimer?: NodeJS.Timeout;
}

/** What a consumer needs from its queue. */
export interface ConsumerHost {
  /** Offer ready tasks to consumers with free slots. */
  pump(): void;
  /** Fail every live lease of `consumer` at once (close without draining). */
  interrupt(consumer: MemoryConsumer): void;
  /** Drop `consumer`'s leases without an outcome; they expire after the lease time. */
  abandon(consumer: MemoryConsumer): void;
  detach(consumer: MemoryConsumer): void;
}

/** A consumer of the in-memory queue: its limits, state and live leases. */
export class MemoryConsumer implements Consumer {
  readonly leases = new Set<Lease>();
  paused = false;
  closed = false;
  abandoned = false;
  private limit: number;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly host: ConsumerHost,
    readonly handler: Handler<unknown, unknown>,
    readonly options: MemoryConsumeOptions<unknown>,
  ) {
    this.limit = validateConcurrency(options.concurrency);
  }

  get concurrency(): number {
    return this.limit;
  }

  get running(): number {
    return this.leases.size;
  }

  get hasRoom(): boolean {
    return !this.paused && !this.closed && this.leases.size < this.limit;
  }

  setConcurrency(n: number): void {
    this.limit = validateConcurrency(n);
    this.host.pump();
  }

  async pause(): Promise<void> {
    this.paused = true;
  }

  async resume(): Promise<void> {
    this.paused = false;
    this.host.pump();
  }

  async close(options: CloseConsumerOptions = {}): Promise<void> {
    this.closed = true;
    if (options.abandon) {
      if (!this.abandoned) {
        this.abandoned = true;
        this.host.abandon(this);
      }
    } else if (options.drain === false) {
      this.host.interrupt(this);
    } else if (this.leases.size > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    this.host.detach(this);
  }

  /** Called by the queue after a lease leaves this consumer. */
  released(): void {
    if (this.leases.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  reportError(error: Error): void {
    try {
      this.options.onError?.(error);
    } catch {
      // an error reporter that throws has nowhere left to report to
    }
  }
}
