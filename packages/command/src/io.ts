/** Where a run writes. `process.stdout`/`process.stderr` fit; so does any object with `write`. */
export interface OutputStream {
  write(text: string): unknown;
  /** Colours are used only on a TTY (and never under `NO_COLOR`). */
  isTTY?: boolean;
  /** Help wraps to this width; 80 when unknown. */
  columns?: number;
}

/** The streams and environment of one `run()`. Every field defaults to the process's own. */
export interface CommandIO {
  stdout?: OutputStream;
  stderr?: OutputStream;
  /** Read for `NO_COLOR`, `FORCE_COLOR` and `DEBUG`; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A `CommandIO` with every field filled in, as actions see it. */
export interface ResolvedIO {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function resolveIO(io: CommandIO = {}): ResolvedIO {
  return {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
  };
}

/**
 * Writes one of the router's own messages. A stream that throws or rejects (a closed pipe) loses
 * the message; the exit code still reaches the caller, as `run()` promises. A Node stream reports
 * a failed write (`EPIPE`: the reader is gone) with an 'error' event after `write()` returned,
 * and an 'error' event nobody listens to ends the process: while writes are pending, one
 * listener per stream takes it.
 */
export function writeQuietly(stream: OutputStream, text: string): void {
  const done = watchWrite(stream);
  try {
    const result = (stream.write as (text: string, written: (error?: unknown) => void) => unknown)(
      text,
      done,
    );
    if (isThenable(result)) result.then(undefined, () => {});
  } catch (error) {
    // The message is lost; the exit code is not.
    done(error);
  }
}

interface PendingWrites {
  count: number;
  readonly listener: () => void;
}

const pending = new WeakMap<object, PendingWrites>();

/**
 * Listens for 'error' on an event-emitting stream until its pending writes went through; after
 * a failed write the listener stays, for the 'error' event that follows the write's callback.
 * Returns the callback for one write.
 */
function watchWrite(stream: OutputStream): (error?: unknown) => void {
  const events = stream as Partial<Pick<NodeJS.EventEmitter, 'on' | 'removeListener'>>;
  if (typeof events.on !== 'function' || typeof events.removeListener !== 'function') return () => {};
  let writes = pending.get(stream);
  if (!writes) {
    writes = { count: 0, listener: () => {} };
    pending.set(stream, writes);
    events.on('error', writes.listener);
  }
  writes.count++;
  let called = false;
  return (error) => {
    if (called) return;
    called = true;
    if (error) return;
    writes.count--;
    if (writes.count === 0) {
      events.removeListener!('error', writes.listener);
      pending.delete(stream);
    }
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
