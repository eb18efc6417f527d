import { Fifo } from './Fifo.js';

/** Tasks ready to deliver: priority 0 first, then 1, 2, ...; first in, first out within one. */
export class ReadyQueue<T> {
  private readonly buckets = new Map<number, Fifo<T>>();
  /** priorities that have a bucket, ascending */
  private priorities: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(item: T, priority: number): void {
    let bucket = this.buckets.get(priority);
    if (!bucket) {
      bucket = new Fifo<T>();
      this.buckets.set(priority, bucket);
      this.priorities.push(priority);
      this.priorities.sort((a, b) => a - b);
    }
    bucket.push(item);
    this.count++;
  }

  shift(): T | undefined {
    for (const priority of this.priorities) {
      const bucket = this.buckets.get(priority)!;
      const item = bucket.shift();
      if (item === undefined) continue;
      this.count--;
      if (bucket.size === 0 && priority !== 0) {
        this.buckets.delete(priority);
        this.priorities = this.priorities.filter((p) => p !== priority);
      }
      return item;
    }
    return undefined;
  }
}
