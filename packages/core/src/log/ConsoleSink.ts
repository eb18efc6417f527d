import { formatLogLine } from './format.js';
import { isAtLeast } from './levels.js';
import type { LogRecord } from './LogRecord.js';
import type { LogSink } from './LogSink.js';

export interface ConsoleSinkOptions {
  /** debug, info and notice; default `process.stdout` */
  stdout?: NodeJS.WritableStream;
  /** warning, error and fatal; default `process.stderr` */
  stderr?: NodeJS.WritableStream;
  /** default: `colorWanted(stream)` (NO_COLOR, FORCE_COLOR, TERM=dumb, a TTY) */
  color?: boolean;
  /** unwritten bytes in a stream above which the sink is congested; default 1 MiB */
  maxPendingBytes?: number;
  /** unwritten bytes above which lines are dropped and counted; default 4 × maxPendingBytes */
  hardLimitBytes?: number;
}

const DEFAULT_MAX_PENDING_BYTES = 1024 * 1024;

/**
 * Colour decision for one output stream, the rule of `@drover/command` (and picocolors): off under
 * a non-empty `NO_COLOR`, which wins; on under a non-empty `FORCE_COLOR` other than `0`/`false`;
 * else off for `TERM=dumb`, on for a terminal. An empty variable counts as unset.
 */
export function colorWanted(
  stream: NodeJS.WritableStream | { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  if (env.TERM === 'dumb') return false;
  return (stream as { isTTY?: boolean }).isTTY === true;
}

type Output = {
  name: 'stdout' | 'stderr';
  stream: NodeJS.WritableStream;
  color: boolean;
  broken: boolean;
  onError: (error: Error) => void;
  onDrain: () => void;
};

function pendingOf(stream: NodeJS.WritableStream): number {
  return (stream as { writableLength?: number }).writableLength ?? 0;
}

/**
 * Writes records to the terminal: debug, info and notice to stdout; warning, error and fatal to
 * stderr. A stream that buffers (a pipe read slowly) makes the sink congested past
 * `maxPendingBytes`; past `hardLimitBytes` lines are dropped and counted. A closed stream
 * (EPIPE) is not an error: its lines are dropped.
 */
export class ConsoleSink implements LogSink {
  // Made on first use: a process's first read of process.stdout builds its stream (a pipe's costs
  // a master milliseconds before its first fork, when nothing is logged yet).
  #outStream: () => NodeJS.WritableStream;
  #errStream: () => NodeJS.WritableStream;
  #color: boolean | undefined;
  #outOutput: Output | null = null;
  #errOutput: Output | null = null;
  #maxPendingBytes: number;
  #hardLimitBytes: number;
  #dropped = 0;
  #unreported = 0;
  #dropReason = '';
  #congested = false;
  #closed = false;
  #waiters: (() => void)[] = [];

  constructor(opts: ConsoleSinkOptions = {}) {
    this.#maxPendingBytes = opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.#hardLimitBytes = opts.hardLimitBytes ?? this.#maxPendingBytes * 4;
    const { stdout, stderr } = opts;
    this.#outStream = stdout ? () => stdout : () => process.stdout;
    this.#errStream = stderr ? () => stderr : () => process.stderr;
    this.#color = opts.color;
    // streams handed in exist already: listen to their errors from the start
    if (stdout) void this.#out;
    if (stderr) void this.#err;
  }

  get #out(): Output {
    this.#outOutput ??= this.#output('stdout', this.#outStream(), this.#color);
    return this.#outOutput;
  }

  get #err(): Output {
    this.#errOutput ??= this.#output('stderr', this.#errStream(), this.#color);
    return this.#errOutput;
  }

  /** The outputs made so far: what was never written to has nothing to flush or release. */
  #made(): Output[] {
    return [this.#outOutput, this.#errOutput].filter((o): o is Output => o !== null);
  }

  /** Lines lost to a closed or overfull stream. */
  get droppedLines(): number {
    return this.#dropped;
  }

  get congested(): boolean {
    return this.#congested;
  }

  whenDrained(): Promise<void> {
    if (!this.#congested) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  write(record: LogRecord): void {
    // (a closed sink makes no stream)
    const output = this.#closed ? null : isAtLeast(record.level, 'warning') ? this.#err : this.#out;
    if (output === null || output.broken || pendingOf(output.stream) > this.#hardLimitBytes) {
      if (this.#unreported === 0) {
        this.#dropReason = !output
          ? 'the sink was closed'
          : output.broken
            ? `${output.name} was closed`
            : `${output.name} was not read fast enough`;
      }
      this.#dropped++;
      this.#unreported++;
      return;
    }
    if (this.#unreported > 0) {
      const count = this.#unreported;
      this.#unreported = 0;
      const notice: LogRecord = {
        time: Date.now(),
        level: 'warning',
        baseTitle: record.baseTitle,
        pin: 'master',
        pid: process.pid,
        message: `dropped ${count} log lines: ${this.#dropReason}`,
        fields: { dropped: count },
      };
      if (!this.#err.broken) this.#err.stream.write(`${formatLogLine(notice, { color: this.#err.color })}\n`);
    }
    output.stream.write(`${formatLogLine(record, { color: output.color })}\n`);
    if (!this.#congested && pendingOf(output.stream) > this.#maxPendingBytes) this.#congested = true;
  }

  async flush(): Promise<void> {
    await Promise.all(this.#made().map((output) => this.#flushed(output)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    for (const output of this.#made()) {
      output.stream.removeListener('error', output.onError);
      output.stream.removeListener('drain', output.onDrain);
    }
    this.#release();
  }

  #output(name: Output['name'], stream: NodeJS.WritableStream, color: boolean | undefined): Output {
    const output: Output = {
      name,
      stream,
      color: color ?? colorWanted(stream),
      broken: false,
      onError: () => {
        // EPIPE and friends: the reader went away; keep running without this stream
        output.broken = true;
        this.#checkDrained();
      },
      onDrain: () => this.#checkDrained(),
    };
    stream.on('error', output.onError);
    stream.on('drain', output.onDrain);
    return output;
  }

  #checkDrained(): void {
    if (!this.#congested) return;
    const busy = (o: Output) => !o.broken && pendingOf(o.stream) > this.#maxPendingBytes / 2;
    if (this.#made().some(busy)) return;
    this.#congested = false;
    this.#release();
  }

  #release(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  #flushed(output: Output): Promise<void> {
    if (output.broken || pendingOf(output.stream) === 0) return Promise.resolve();
    // an empty write's callback runs once everything written before it has been handled
    return new Promise((resolve) => {
      output.stream.write('', () => resolve());
    });
  }
}
