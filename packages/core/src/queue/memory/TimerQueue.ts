import { TIMER_MAX_MS } from '../../timerLimit.js';

interface Entry<T> {
  dueAt: number;
  seq: number;
  item: T;
}

/**
 * Items due at a time (delayed tasks, retry backoffs), kept in a min-heap behind a single timer,
 * so a million delayed tasks cost one pending timer, not a million.
 */
export class TimerQueue<T> {
  private readonly heap: Entry<T>[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(private readonly onDue: (item: T) => void) {}

  get size(): number {
    return this.heap.length;
  }

  add(item: T, dueAt: number): void {
    this.heap.push({ dueAt, seq: this.seq++, item });
    this.up(this.heap.length - 1);
    this.arm();
  }

  clear(): void {
    this.heap.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    const next = this.heap[0];
    if (!next || next.dueAt >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next.dueAt;
    // a due time past the longest timer wakes this early; fire() then arms again for the rest
    this.timer = setTimeout(() => this.fire(), Math.min(TIMER_MAX_MS, Math.max(0, next.dueAt - Date.now())));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    while (this.heap.length > 0 && this.heap[0]!.dueAt <= now) this.onDue(this.pop().item);
    this.arm();
  }

  private pop(): Entry<T> {
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.dueAt < y.dueAt || (x.dueAt === y.dueAt && x.seq < y.seq);
  }

  private swap(a: number, b: number): void {
    const t = this.heap[a]!;
    this.heap[a] = this.heap[b]!;
    this.heap[b] = t;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heap.length && this.less(left, smallest)) smallest = left;
      if (right < this.heap.length && this.less(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
