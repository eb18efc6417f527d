/** A FIFO with O(1) push and shift (an array with a moving head, compacted now and then). */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    // Compact once the consumed prefix dominates, so memory follows the live size.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes every item matching `predicate` (O(n); for rare removals only). */
  removeWhere(predicate: (item: T) => boolean): number {
    const kept = this.items.slice(this.head).filter((item) => !predicate(item as T));
    const removed = this.size - kept.length;
    this.items = kept;
    this.head = 0;
    return removed;
  }
}
