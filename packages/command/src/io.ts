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
 * the message; the exit code still reaches the caller, as `run()` promises.
 */
export function writeQuietly(stream: OutputStream, text: string): void {
  try {
    const result = stream.write(text);
    if (isThenable(result)) result.then(undefined, () => {});
  } catch {
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
