import { type LogLevel, LOG_LEVELS, isAtLeast, parseLogLevel } from './levels.js';
import type { LogRecord } from './LogRecord.js';
import type { BackPressure, LogSink } from './LogSink.js';

export interface LoggerOptions {
  /** the group's name, in every line */
  baseTitle: string;
  /** the master's pid; default `process.pid` */
  pid?: number;
  /** records below this level are discarded; default `info` */
  level?: LogLevel;
  sinks: LogSink[];
}

/** Where one worker's lines go: its output lines and the events it reports. */
export interface WorkerLog {
  /** A line the worker wrote: stdout is logged at `info`, stderr at `warning`. */
  line(stream: 'stdout' | 'stderr', text: string): void;
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

/** Back-pressure counts only for sinks that can also say when it is over. */
function isCongested(sink: LogSink): boolean {
  return sink.congested === true && typeof sink.whenDrained === 'function';
}

/** Level of a worker's output line: stderr carries its warnings, errors and stack traces. */
export const STREAM_LEVEL = { stdout: 'info', stderr: 'warning' } as const satisfies Record<string, LogLevel>;

/** The last Logger made for each group in this process, until it is closed (see loggerOf). */
const groupLoggers = new Map<string, Logger>();

/**
 * The Logger made last in this process for group `baseTitle` and not closed: in a master, its
 * group's logger (a background daemon writes its own process's warnings through it). Undefined
 * when none was made: the group's master has not started in this process.
 */
export function loggerOf(baseTitle: string): Logger | undefined {
  return groupLoggers.get(baseTitle);
}

/**
 * Turns the master's events and its workers' output into records and hands them to every sink.
 * Logging never throws: a sink that throws is skipped for that record. The logger is the
 * back-pressure of all its sinks: congested while any of them is.
 */
export class Logger implements BackPressure {
  readonly baseTitle: string;
  readonly pid: number;
  #level: LogLevel;
  #sinks: LogSink[];
  #closed = false;
  /** a sink's unresolved failures, by the file they are about */
  readonly #problems = new Map<string, string>();

  constructor(opts: LoggerOptions) {
    this.baseTitle = opts.baseTitle;
    this.pid = opts.pid ?? process.pid;
    this.#level = parseLogLevel(opts.level ?? 'info', 'logLevel');
    this.#sinks = [...opts.sinks];
    groupLoggers.set(this.baseTitle, this);
    for (const sink of this.#sinks) {
      // a sink's trouble (its file failed, came back) is told through the other sinks, and kept
      // for status: a daemon's only sink is its file, so nothing else would tell anyone
      sink.onNotice?.((notice) => {
        const key = String(notice.fields?.file ?? '');
        if (notice.level === 'error') this.#problems.set(key, notice.message);
        else this.#problems.delete(key);
        this.#emit(this.#record(notice.level, 'master', this.pid, notice.message, notice.fields), sink);
      });
    }
  }

  get level(): LogLevel {
    return this.#level;
  }

  /** What a sink reported failing and has not recovered from (a log file that cannot be written), or null. */
  get problem(): string | null {
    return this.#problems.values().next().value ?? null;
  }

  /** Changes the threshold; throws a `ConfigError` for a value that is not a level. */
  setLevel(level: LogLevel): void {
    this.#level = parseLogLevel(level, 'logLevel');
  }

  /** True when records of `level` are kept. */
  enabled(level: LogLevel): boolean {
    return isAtLeast(level, this.#level);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.log('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.log('info', message, fields);
  }
  notice(message: string, fields?: Record<string, unknown>): void {
    this.log('notice', message, fields);
  }
  warning(message: string, fields?: Record<string, unknown>): void {
    this.log('warning', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.log('error', message, fields);
  }
  fatal(message: string, fields?: Record<string, unknown>): void {
    this.log('fatal', message, fields);
  }

  /** A record of the master's own. */
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    this.#emit(this.#record(level, 'master', this.pid, message, fields));
  }

  /** The log of one worker process. */
  worker(pin: number, pid: number): WorkerLog {
    return {
      line: (stream, text) => {
        const level = STREAM_LEVEL[stream];
        if (!this.enabled(level)) return;
        const record = this.#record(level, pin, pid, text, undefined);
        record.stream = stream;
        this.#emit(record);
      },
      log: (level, message, fields) => {
        if (!LOG_LEVELS.includes(level) || !this.enabled(level)) return;
        this.#emit(this.#record(level, pin, pid, message, fields));
      },
    };
  }

  get congested(): boolean {
    return this.#sinks.some(isCongested);
  }

  async whenDrained(): Promise<void> {
    while (!this.#closed && this.congested) {
      await Promise.all(this.#sinks.filter(isCongested).map((sink) => sink.whenDrained!()));
    }
  }

  async flush(): Promise<void> {
    await Promise.all(this.#sinks.map((sink) => sink.flush()));
  }

  /**
   * Has every sink put back, now, a file of it that was removed or moved away (see
   * LogSink.recheckFiles): a record about the removal then goes to the new file, which a reader
   * finds, not to the one that was removed.
   */
  recheckFiles(): void {
    if (this.#closed) return;
    for (const sink of this.#sinks) {
      try {
        sink.recheckFiles?.();
      } catch {
        // the sink's own watch tries again
      }
    }
  }

  /** Flushes and closes every sink; later records are discarded. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (groupLoggers.get(this.baseTitle) === this) groupLoggers.delete(this.baseTitle);
    await Promise.all(this.#sinks.map((sink) => sink.close()));
  }

  #record(
    level: LogLevel,
    pin: number | 'master',
    pid: number,
    message: string,
    fields: Record<string, unknown> | undefined,
  ): LogRecord {
    const record: LogRecord = { time: Date.now(), level, baseTitle: this.baseTitle, pin, pid, message };
    if (fields !== undefined) record.fields = fields;
    return record;
  }

  #emit(record: LogRecord, except?: LogSink): void {
    if (this.#closed) return;
    for (const sink of this.#sinks) {
      if (sink === except) continue;
      try {
        sink.write(record);
      } catch {
        // a broken sink must not take the master down with it
      }
    }
  }
}
