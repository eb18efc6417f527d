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
 * and an 'error' event nobody listens to ends the process: one listener takes it, removed again
 * once the write went through.
 */
export function writeQuietly(stream: OutputStream, text: string): void {
  const events = stream as Partial<Pick<NodeJS.EventEmitter, 'once' | 'removeListener'>>;
  const listens = typeof events.once === 'function' && typeof events.removeListener === 'function';
  const onError = () => {
    // The message is lost; the exit code is not.
  };
  try {
    if (listens) events.once!('error', onError);
    const written = (error?: unknown) => {
      // After a failed write the listener stays: it takes the 'error' event that follows.
      if (!error && listens) events.removeListener!('error', onError);
    };
    const result = (stream.write as (text: string, done: (error?: unknown) => void) => unknown)(
      text,
      written,
    );
    if (isThenable(result)) result.then(undefined, () => {});
  } catch {
    if (listens) events.removeListener!('error', onError);
    // The message is lost; the exit code is not.
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
