import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RotatingFileStream } from 'rotating-file-stream';
import type { BackPressure } from './LogSink.js';
import type { ResolvedRotation } from './rotation.js';

/** Largest batch handed to one write; rotation never splits a write, so a file ends at most this far past its size. */
const MAX_BATCH_BYTES = 64 * 1024;
const MIN_BATCH_BYTES = 512;

export type WriterEvent =
  | { type: 'failed'; path: string; error: Error; dropped: number }
  | { type: 'recovered'; path: string; dropped: number };

export interface RotatingWriterOptions {
  path: string;
  rotation: ResolvedRotation | null;
  /** above this many unwritten bytes the writer is congested; below half of it, drained again */
  maxPendingBytes: number;
  /** above this many unwritten bytes new lines are dropped (producers that ignore back-pressure) */
  hardLimitBytes: number;
  /** delay before reopening a file that failed */
  retryMs: number;
  /** the formatted "dropped N lines" record written when lines were lost */
  droppedLine: (count: number, reason: string) => string;
  onEvent: (event: WriterEvent) => void;
}

/**
 * Appends lines to one file through rotating-file-stream, one batch at a time, with a bounded
 * queue. When the file fails (EFBIG, ENOSPC, EIO, ...) lines are dropped and counted, the file is
 * reopened every `retryMs`, and the first line after recovery says how many were lost.
 */
export class RotatingWriter implements BackPressure {
  readonly path: string;
  /** bytes per write; a rotated file is at most `size + batchBytes` long (or one line, if longer) */
  readonly batchBytes: number;
  #options: RotatingWriterOptions;
  #stream: RotatingFileStream | null = null;
  #queue: string[] = [];
  #sizes: number[] = [];
  #head = 0;
  #queuedBytes = 0;
  #inflightBytes = 0;
  #inflightLines = 0;
  #writing = false;
  #failed = false;
  #closing = false;
  #closed: Promise<void> | null = null;
  #congested = false;
  #overflowing = false;
  #dropped = 0;
  #unreported = 0;
  #dropReason = '';
  #failureReported = false;
  #recoveredCount = -1;
  #retryTimer: NodeJS.Timeout | null = null;
  /** the file went away: the next write goes to a new stream */
  #renewPending = false;
  /** between rotating-file-stream's `rotation` and its `open`: the path is briefly missing */
  #rotating = false;
  #drainWaiters: (() => void)[] = [];
  #flushWaiters: (() => void)[] = [];

  constructor(options: RotatingWriterOptions) {
    this.#options = options;
    this.path = options.path;
    const size = options.rotation?.sizeBytes;
    this.batchBytes = size
      ? Math.max(MIN_BATCH_BYTES, Math.min(MAX_BATCH_BYTES, Math.floor(size / 16)))
      : MAX_BATCH_BYTES;
    this.#stream = this.#open();
  }

  /** Lines lost so far (failed file, overflow, or written after close). */
  get droppedLines(): number {
    return this.#dropped;
  }

  /** Bytes accepted but not yet written. */
  get pendingBytes(): number {
    return this.#queuedBytes + this.#inflightBytes;
  }

  get congested(): boolean {
    return this.#congested;
  }

  /** True while the file is failed and lines are being dropped. */
  get failed(): boolean {
    return this.#failed;
  }

  whenDrained(): Promise<void> {
    if (!this.#congested) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Appends `line` and a newline; never throws. */
  write(line: string): void {
    if (this.#closing || this.#failed) {
      this.#drop(1, this.#closing ? 'the log was closed' : this.#dropReason);
      return;
    }
    const bytes = Buffer.byteLength(line) + 1;
    // an empty queue takes any line, however long: the limit is on what piles up
    const over = this.pendingBytes > 0 && this.pendingBytes + bytes > this.#options.hardLimitBytes;
    if (this.#overflowing || over) {
      this.#overflowing = true;
      this.#drop(1, `more than ${this.#options.hardLimitBytes} bytes were waiting to be written`);
      return;
    }
    this.#enqueue(`${line}\n`, bytes);
    this.#updatePressure();
    this.#pump();
  }

  /**
   * Starts a new file at the path, for one removed or moved away while open. A write in progress
   * ends in the old file first. False when there is nothing to do: a failed writer opens the path
   * again on its own retry, a rotating one opens the new file itself.
   */
  renew(): boolean {
    if (this.#closing || this.#failed || !this.#stream || this.#rotating) return false;
    this.#renewPending = true;
    if (!this.#writing) this.#swapStream();
    return true;
  }

  /** True while rotating-file-stream rotates: it renamed the file and opens the new one itself. */
  get rotating(): boolean {
    return this.#rotating;
  }

  #swapStream(): void {
    this.#renewPending = false;
    const old = this.#stream;
    try {
      this.#stream = this.#open();
    } catch (error) {
      this.#fail(error as Error);
      return;
    }
    if (old) {
      old.on('error', () => {});
      old.end();
    }
  }

  flush(): Promise<void> {
    if (this.#failed || !this.#stream || this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push(resolve));
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    await this.flush();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    const stream = this.#stream;
    this.#stream = null;
    // nothing more will be written: producers waiting on this file must not wait forever
    this.#congested = false;
    this.#release(this.#drainWaiters);
    if (stream && !stream.destroyed) {
      await new Promise<void>((resolve) => {
        stream.once('close', resolve);
        stream.end();
      });
    }
  }

  #open(): RotatingFileStream {
    const { rotation } = this.#options;
    const stream = rotatingFileStream().createStream(this.path, {
      mode: 0o600,
      ...(rotation?.size ? { size: rotation.size } : {}),
      ...(rotation?.interval ? { interval: rotation.interval } : {}),
      // classical logrotate naming: <name>.1 is the newest, <name>.<maxFiles> the oldest kept
      ...(rotation ? { rotate: rotation.maxFiles } : {}),
    });
    stream.on('error', (error) => {
      if (stream === this.#stream) this.#fail(error);
    });
    stream.on('rotation', () => {
      if (stream === this.#stream) this.#rotating = true;
    });
    stream.on('open', () => {
      if (stream === this.#stream) this.#rotating = false;
    });
    return stream;
  }

  #enqueue(text: string, bytes: number): void {
    this.#queue.push(text);
    this.#sizes.push(bytes);
    this.#queuedBytes += bytes;
  }

  #idle(): boolean {
    return !this.#writing && this.#head === this.#queue.length;
  }

  #drop(count: number, reason: string): void {
    if (this.#unreported === 0) this.#dropReason = reason;
    this.#dropped += count;
    this.#unreported += count;
  }

  #reportDrops(): void {
    if (this.#unreported === 0) return;
    const line = this.#options.droppedLine(this.#unreported, this.#dropReason);
    this.#unreported = 0;
    this.#enqueue(`${line}\n`, Buffer.byteLength(line) + 1);
  }

  #updatePressure(): void {
    const pending = this.pendingBytes;
    const { maxPendingBytes } = this.#options;
    if (this.#overflowing && pending <= maxPendingBytes) {
      this.#overflowing = false;
      this.#reportDrops();
    }
    if (!this.#congested && pending > maxPendingBytes) {
      this.#congested = true;
    } else if (this.#congested && pending <= maxPendingBytes / 2) {
      this.#congested = false;
      this.#release(this.#drainWaiters);
    }
  }

  #pump(): void {
    const stream = this.#stream;
    if (this.#writing || this.#failed || !stream) return;
    if (this.#head === this.#queue.length) {
      this.#clearQueue();
      this.#release(this.#flushWaiters);
      return;
    }
    let text = '';
    let bytes = 0;
    let lines = 0;
    while (this.#head < this.#queue.length) {
      const size = this.#sizes[this.#head]!;
      if (lines > 0 && bytes + size > this.batchBytes) break;
      text += this.#queue[this.#head];
      this.#queue[this.#head++] = '';
      bytes += size;
      lines++;
    }
    this.#queuedBytes -= bytes;
    this.#inflightBytes = bytes;
    this.#inflightLines = lines;
    this.#writing = true;
    if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    stream.write(text, (error) => this.#written(stream, error));
  }

  #written(stream: RotatingFileStream, error: Error | null | undefined): void {
    if (stream !== this.#stream) return;
    if (error) {
      this.#fail(error);
      return;
    }
    this.#writing = false;
    this.#inflightBytes = 0;
    this.#inflightLines = 0;
    if (this.#recoveredCount >= 0) {
      const dropped = this.#recoveredCount;
      this.#recoveredCount = -1;
      this.#failureReported = false;
      this.#options.onEvent({ type: 'recovered', path: this.path, dropped });
    }
    if (this.#renewPending) this.#swapStream();
    this.#updatePressure();
    this.#pump();
  }

  #fail(error: Error): void {
    if (this.#failed) return;
    const stream = this.#stream;
    let lost = this.#queue.length - this.#head + this.#inflightLines;
    if (this.#recoveredCount >= 0) {
      // the "dropped N lines" record of a recovery that did not work: those N are still unreported
      lost -= 1;
      this.#unreported += this.#recoveredCount;
    }
    const code = (error as NodeJS.ErrnoException).code;
    this.#failed = true;
    this.#stream = null;
    this.#clearQueue();
    this.#inflightBytes = 0;
    this.#inflightLines = 0;
    this.#writing = false;
    this.#overflowing = false;
    this.#recoveredCount = -1;
    this.#drop(lost, `'${this.path}' could not be written (${code ?? error.message})`);
    if (stream) {
      stream.on('error', () => {});
      stream.destroy();
    }
    this.#congested = false;
    this.#release(this.#drainWaiters);
    this.#release(this.#flushWaiters);
    if (!this.#failureReported) {
      this.#failureReported = true;
      this.#options.onEvent({ type: 'failed', path: this.path, error, dropped: lost });
    }
    if (!this.#closing) this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    this.#retryTimer = setTimeout(() => this.#reopen(), this.#options.retryMs);
    // a failed log file must not keep the process alive
    this.#retryTimer.unref();
  }

  #reopen(): void {
    this.#retryTimer = null;
    if (this.#closing) return;
    try {
      this.#stream = this.#open();
    } catch {
      this.#scheduleRetry();
      return;
    }
    this.#failed = false;
    this.#recoveredCount = this.#unreported;
    // a write the failure cut short may have left half a line: the next record starts its own
    if (endsMidLine(this.path)) this.#enqueue('\n', 1);
    this.#reportDrops();
    this.#pump();
  }

  #clearQueue(): void {
    this.#queue = [];
    this.#sizes = [];
    this.#head = 0;
    this.#queuedBytes = 0;
  }

  #release(waiters: (() => void)[]): void {
    for (const resolve of waiters.splice(0)) resolve();
  }
}

/** Whether the file at `path` ends with something other than a newline (false when empty or unreadable). */
function endsMidLine(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const { size } = fstatSync(fd);
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

type RotatingFileStreamModule = typeof import('rotating-file-stream');
let rfs: RotatingFileStreamModule | undefined;

/** Loaded on first use: only background logging needs it, and workers import this module too. */
function rotatingFileStream(): RotatingFileStreamModule {
  rfs ??= createRequire(import.meta.url)('rotating-file-stream') as RotatingFileStreamModule;
  return rfs;
}
