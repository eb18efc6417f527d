import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { formatLogLine } from './format.js';
import { isAtLeast } from './levels.js';
import type { LogRecord } from './LogRecord.js';
import type { LogSink, SinkNotice } from './LogSink.js';
import { LogFileWatch } from './LogFileWatch.js';
import { prepareLogFiles } from './logDir.js';
import { RotatingWriter, type WriterEvent } from './RotatingWriter.js';
import { type RotationOptions, resolveRotation } from './rotation.js';

export interface FileSinkOptions {
  /** directory of the log files; created 0700 when missing */
  dir: string;
  /** files are `<baseTitle>.log` and, with `separateErrorFile`, `<baseTitle>.error.log` */
  baseTitle: string;
  /** rotation by size and by interval, on by default (`10M`, `1d`, 14 files); `false` for none */
  rotation?: RotationOptions | false;
  /** error and fatal records also go to `<baseTitle>.error.log`; default false */
  separateErrorFile?: boolean;
  /** unwritten bytes above which the sink is congested (back-pressure); default 1 MiB */
  maxPendingBytes?: number;
  /** unwritten bytes above which lines are dropped; default 4 × maxPendingBytes */
  hardLimitBytes?: number;
  /** delay before reopening a file that failed (EFBIG, ENOSPC, ...); default 5000 ms */
  retryMs?: number;
  /** `dir` is the run directory's own `logs`: never through a symbolic link (see prepareLogFiles) */
  inRunDir?: boolean;
}

const DEFAULT_MAX_PENDING_BYTES = 1024 * 1024;
const DEFAULT_RETRY_MS = 5000;
const UNSAFE_NAME = /[/\\\0]/;

function positiveInteger(key: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(key, value, `an integer of at least ${min}`);
  }
  return value;
}

/**
 * Writes records to `<dir>/<baseTitle>.log`, rotated with rotating-file-stream (classical
 * naming: `.log.1` is the newest rotated file). Memory is bounded: past `maxPendingBytes` the
 * sink is congested, so captured worker output pauses until it drains; past `hardLimitBytes`,
 * while a file cannot be written, or after close, lines are dropped and counted, and one
 * "dropped N lines" record says so once writing works again.
 */
export class FileSink implements LogSink {
  readonly path: string;
  readonly errorPath: string | null;
  #main: RotatingWriter;
  #errors: RotatingWriter | null;
  #listeners: ((notice: SinkNotice) => void)[] = [];
  #watch: LogFileWatch | null = null;
  #baseTitle = '';

  private constructor(main: RotatingWriter, errors: RotatingWriter | null) {
    this.#main = main;
    this.#errors = errors;
    this.path = main.path;
    this.errorPath = errors?.path ?? null;
  }

  /**
   * Validates the options, creates the directory and the files, and opens them. Throws at once
   * (`ConfigError` for bad options, `DroverError` `ELOGDIR` naming the path and the fix for an
   * unusable directory or file), never later.
   */
  static open(opts: FileSinkOptions): FileSink {
    const { dir, baseTitle } = opts;
    if (typeof dir !== 'string' || dir === '') throw new ConfigError('logDir', dir, 'a directory path');
    if (
      typeof baseTitle !== 'string' ||
      baseTitle === '' ||
      baseTitle === '.' ||
      baseTitle === '..' ||
      UNSAFE_NAME.test(baseTitle)
    ) {
      throw new ConfigError(
        'baseTitle',
        baseTitle,
        'a name without "/", "\\" or NUL, to be used as a file name',
      );
    }
    const rotation = resolveRotation(opts.rotation, 'logRotation');
    const maxPendingBytes = positiveInteger(
      'maxPendingBytes',
      opts.maxPendingBytes,
      DEFAULT_MAX_PENDING_BYTES,
      1024,
    );
    const hardLimitBytes = positiveInteger(
      'hardLimitBytes',
      opts.hardLimitBytes,
      maxPendingBytes * 4,
      maxPendingBytes,
    );
    const retryMs = positiveInteger('retryMs', opts.retryMs, DEFAULT_RETRY_MS);
    const mainPath = join(dir, `${baseTitle}.log`);
    const errorPath = opts.separateErrorFile ? join(dir, `${baseTitle}.error.log`) : null;
    prepareLogFiles(dir, errorPath ? [mainPath, errorPath] : [mainPath], { inRunDir: opts.inRunDir });

    let sink: FileSink | null = null;
    const onEvent = (event: WriterEvent) => {
      if (sink) sink.#notify(event, retryMs);
    };
    const droppedLine = (count: number, reason: string) =>
      formatLogLine({
        time: Date.now(),
        level: 'warning',
        baseTitle,
        pin: 'master',
        pid: process.pid,
        message: `dropped ${count} log lines: ${reason}`,
        fields: { dropped: count },
      });
    const writer = (path: string) =>
      new RotatingWriter({ path, rotation, maxPendingBytes, hardLimitBytes, retryMs, droppedLine, onEvent });
    sink = new FileSink(writer(mainPath), errorPath ? writer(errorPath) : null);
    const paths = errorPath ? [mainPath, errorPath] : [mainPath];
    const opened = sink;
    opened.#baseTitle = baseTitle;
    opened.#watch = new LogFileWatch(dir, paths, () => opened.#renew(dir, paths, opts.inRunDir));
    opened.#watch.start();
    return sink;
  }

  /** Lines lost so far, over all files of this sink. */
  get droppedLines(): number {
    return this.#main.droppedLines + (this.#errors?.droppedLines ?? 0);
  }

  /** Bytes accepted but not yet written, over all files. */
  get pendingBytes(): number {
    return this.#main.pendingBytes + (this.#errors?.pendingBytes ?? 0);
  }

  get congested(): boolean {
    return this.#main.congested || (this.#errors?.congested ?? false);
  }

  async whenDrained(): Promise<void> {
    await Promise.all([this.#main.whenDrained(), this.#errors?.whenDrained()]);
  }

  write(record: LogRecord): void {
    const line = formatLogLine(record);
    this.#main.write(line);
    if (this.#errors && isAtLeast(record.level, 'error')) this.#errors.write(line);
  }

  async flush(): Promise<void> {
    await Promise.all([this.#main.flush(), this.#errors?.flush()]);
  }

  /**
   * A file was removed or moved away (or its whole directory): makes the directory and the files
   * again, as at open, and has the writers start new files. False while that cannot be done.
   */
  #renew(dir: string, paths: readonly string[], inRunDir: boolean | undefined): boolean {
    // a rotation renamed the file and is about to open the new one itself
    if (this.#main.rotating || this.#errors?.rotating) return true;
    try {
      prepareLogFiles(dir, paths, { inRunDir });
    } catch {
      return false;
    }
    const renewed = [this.#main.renew(), this.#errors?.renew() ?? false];
    if (!renewed.includes(true)) return true;
    const message = `log file '${this.path}' was removed or moved away while written: writing a new one`;
    // the new file's first line says why it begins here (a logger tells only its other sinks)
    this.write({
      time: Date.now(),
      level: 'warning',
      baseTitle: this.#baseTitle,
      pin: 'master',
      pid: process.pid,
      message,
    });
    for (const listener of this.#listeners)
      listener({ level: 'warning', message, fields: { file: this.path } });
    return true;
  }

  recheckFiles(): void {
    this.#watch?.checkNow();
  }

  async close(): Promise<void> {
    this.#watch?.stop();
    await Promise.all([this.#main.close(), this.#errors?.close()]);
  }

  onNotice(listener: (notice: SinkNotice) => void): void {
    this.#listeners.push(listener);
  }

  #notify(event: WriterEvent, retryMs: number): void {
    const notice: SinkNotice =
      event.type === 'failed'
        ? {
            level: 'error',
            message: `log file '${event.path}' cannot be written (${(event.error as NodeJS.ErrnoException).code ?? event.error.message}); dropping its lines until it can, retrying every ${retryMs} ms`,
            fields: { file: event.path, dropped: event.dropped },
          }
        : {
            level: 'warning',
            message: `log file '${event.path}' is writable again; ${event.dropped} lines were dropped`,
            fields: { file: event.path, dropped: event.dropped },
          };
    for (const listener of this.#listeners) listener(notice);
  }
}
