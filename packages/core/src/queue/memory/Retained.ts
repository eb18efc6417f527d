interface Kept<V> {
  value: V;
  at: number;
}

/**
 * Finished entries (results, dead letters) kept for a while: evicted when older than `ageMs` or
 * beyond the newest `count`. A Map keeps insertion order, which is age order here.
 */
export class Retained<V> {
  private readonly entries = new Map<string, Kept<V>>();

  constructor(private readonly limits: { ageMs: number; count: number }) {}

  get size(): number {
    this.evict();
    return this.entries.size;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.limits.count > 0 && this.limits.ageMs > 0) this.entries.set(key, { value, at: Date.now() });
    this.evict();
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
    const values = [...this.entries.values()].map((kept) => kept.value);
    return values.reverse().slice(0, limit);
  }

  clear(): void {
    this.entries.clear();
  }

  private evict(): void {
    while (this.entries.size > this.limits.count) this.entries.delete(this.entries.keys().next().value!);
    const oldest = Date.now() - this.limits.ageMs;
    for (const [key, kept] of this.entries) {
      if (kept.at >= oldest) break;
      this.entries.delete(key);
    }
  }
}
