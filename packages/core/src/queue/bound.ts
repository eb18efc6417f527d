import { TIMER_MAX_MS } from '../timerLimit.js';

/** What bounds one wait: the caller's signal and what is left of its `timeoutMs`. */
export interface Bound {
  readonly signal?: AbortSignal;
  /** ms; past Node's longest timer it is no bound */
  readonly timeoutMs?: number;
}

/**
 * Settles as `promise` does, or rejects with `onTimeout()` once `timeoutMs` passed, or with
 * `onAbort(reason)` when `signal` aborts first. `promise` is left to settle on its own (a late
 * rejection of it is handled, not reported as unhandled).
 */
export function bounded<T>(
  promise: Promise<T>,
  { signal, timeoutMs }: Bound,
  onTimeout: () => Error,
  onAbort: (reason: unknown) => Error,
): Promise<T> {
  const timed = timeoutMs !== undefined && timeoutMs <= TIMER_MAX_MS;
  if (!signal && !timed) return promise;
  if (signal?.aborted) {
    promise.catch(() => {});
    return Promise.reject(onAbort(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
    };
    const aborted = () => {
      done();
      reject(onAbort(signal?.reason));
    };
    signal?.addEventListener('abort', aborted, { once: true });
    if (timed)
      timer = setTimeout(() => {
        done();
        reject(onTimeout());
      }, timeoutMs);
    promise.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
}

/** A `timeoutMs` counted from now, shared by the steps of one submit. */
export class Deadline {
  private readonly end: number | undefined;

  constructor(readonly timeoutMs: number | undefined) {
    this.end = timeoutMs === undefined || timeoutMs > TIMER_MAX_MS ? undefined : Date.now() + timeoutMs;
  }

  /** ms left (0 once past), or the caller's `timeoutMs` as it was when there is no end to count to. */
  left(): number | undefined {
    if (this.end === undefined) return this.timeoutMs;
    return Math.max(0, this.end - Date.now());
  }
}
