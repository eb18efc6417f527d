/**
 * Every error drover raises for bad input or a refused operation names the thing, the value and
 * the fix, so a message read at 3 a.m. says what to do next.
 */
export class DroverError extends Error {
  /** Stable machine-readable code, e.g. `EALREADYRUNNING`, `ECONFIG`. */
  readonly code: string;
  /** What to do about it, one sentence. */
  readonly hint?: string;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(options.hint ? `${message}; ${options.hint}` : message, { cause: options.cause });
    this.name = 'DroverError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** A configuration key holds a value that is not allowed. */
export class ConfigError extends DroverError {
  readonly key: string;
  readonly value: unknown;

  constructor(key: string, value: unknown, allowed: string) {
    super('ECONFIG', `drover: config '${key}' is ${describeValue(value)}`, { hint: `expected ${allowed}` });
    this.name = 'ConfigError';
    this.key = key;
    this.value = value;
  }
}

/** Another master already holds the single-instance lock of this group. */
export class AlreadyRunningError extends DroverError {
  readonly pid: number | null;

  /**
   * `lockName`: the abstract socket that is taken, named in the hint when no pid file names the
   * holder (a master still starting, or another process of any user holding the name).
   */
  constructor(baseTitle: string, pid: number | null, lockName?: string) {
    super('EALREADYRUNNING', `drover: '${baseTitle}' is already running${pid ? ` (pid ${pid})` : ''}`, {
      // in the words of both ways in: the CLI and the API
      hint:
        `stop it first (drover stop ${baseTitle}, or stop() on its Manage), or give the new group another name (--name, baseTitle)` +
        (pid === null && lockName
          ? `; no pid file names its master: if none is starting, another process holds the group's lock '@${lockName}' ('ss -xlp | grep ${lockName}' names it)`
          : ''),
    });
    this.name = 'AlreadyRunningError';
    this.pid = pid;
  }
}

/** No running master answers for this group. */
export class NotRunningError extends DroverError {
  constructor(baseTitle: string, running: readonly string[] = []) {
    super(
      'ENOTRUNNING',
      `drover: no group named '${baseTitle}' is running${running.length ? `; running: ${running.join(', ')}` : ''}`,
      { hint: running.length ? undefined : `start it first ('start')` },
    );
    this.name = 'NotRunningError';
  }
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return `an array (${value.length} items)`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
