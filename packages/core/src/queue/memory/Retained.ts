import { TIMER_MAX_MS } from '../../timerLimit.js';
import { Fifo } from './Fifo.js';

/** The sweep of entries past their age runs at most this often: a steady stream of them wakes it once a second. */
const SWEEP_EVERY_MS = 1_000;

interface Kept<V> {
  readonly key: string;
  readonly value: V;
  readonly at: number;
}

/**
 * Finished entries (results, dead letters) kept for a while: evicted when older than `ageMs` or
 * beyond the newest `count`. Age order lives in a FIFO beside the map: scanning a Map from its
 * oldest end after many deletions walks its tombstones, which made eviction O(n). Entries past
 * their age leave on a timer too, so that a burst's do not wait for the next entry stored: one
 * unref'd timer, armed only while something is kept, for the oldest entry's end (at most once
 * every SWEEP_EVERY_MS).
 */
export class Retained<V> {
  private readonly entries = new Map<string, Kept<V>>();
  /** the same entries, oldest first (one object per entry serves both) */
  private readonly order = new Fifo<Kept<V>>();
  private sweep: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly limits: { ageMs: number; count: number }) {}

  get size(): number {
    this.evict();
    return this.entries.size;
  }

  set(key: string, value: V): void {
    if (this.limits.count === 0 || this.limits.ageMs === 0) {
      this.entries.delete(key);
      return;
    }
    const at = Date.now();
    const kept: Kept<V> = { key, value, at };
    this.entries.set(key, kept);
    this.order.push(kept);
    this.evict(at);
    if (this.sweep === undefined) this.armSweep(at);
  }

  get(key: string): V | undefined {
    const kept = this.entries.get(key);
    if (!kept) return undefined;
    if (Date.now() - kept.at > this.limits.ageMs) {
      this.entries.delete(key);
      return undefined;
    }
    return kept.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Newest first. */
  newest(limit: number): V[] {
    this.evict();
    const values = [...this.entries.values()].sort((a, b) => b.at - a.at).map((kept) => kept.value);
    return values.slice(0, limit);
  }

  /** No more sweeps (the queue closed); what is kept stays readable, and is evicted as it is read. */
  close(): void {
    this.closed = true;
    clearTimeout(this.sweep);
    this.sweep = undefined;
  }

  private armSweep(now: number): void {
    const head = this.order.peek();
    if (!head || this.closed) return;
    const ends = head.at + this.limits.ageMs - now;
    this.sweep = setTimeout(
      () => {
        this.sweep = undefined;
        const at = Date.now();
        this.evict(at);
        this.armSweep(at);
      },
      Math.min(TIMER_MAX_MS, Math.max(SWEEP_EVERY_MS, ends + 1)),
    );
    // kept results are no reason for a process to stay alive
    this.sweep.unref();
  }

  private evict(now = Date.now()): void {
    const oldest = now - this.limits.ageMs;
    for (;;) {
      const head = this.order.peek();
      if (!head) return;
      const current = this.entries.get(head.key) === head;
      // An order entry whose key was set again since is stale: drop it without touching the map.
      if (current && this.entries.size <= this.limits.count && head.at >= oldest) return;
      this.order.shift();
      if (current) this.entries.delete(head.key);
    }
  }
}
