/**
 * An AbortController made only when someone reads its signal: most handlers never do, and
 * creating one per delivery cost a tenth of the in-memory queue's time per task.
 */
export class LazyAbort {
  private controller: AbortController | undefined;
  private listeners: ((reason: unknown) => void)[] | undefined;
  private reason: unknown;
  private aborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** `listener(reason)` once aborted (now, if it is), with no AbortController made for it. */
  onAbort(listener: (reason: unknown) => void): void {
    if (this.aborted) {
      listener(this.reason);
      return;
    }
    this.listeners ??= [];
    this.listeners.push(listener);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener(reason);
  }
}
