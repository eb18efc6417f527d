import { ConfigError } from '../errors.js';
import type { BackPressure } from './LogSink.js';

export interface OutputCaptureOptions {
  /** longest line kept whole; a longer one is split into pieces of at most this many bytes; default 16 KiB */
  maxLineBytes?: number;
  /** while it is congested the stream is paused, so the writer is slowed instead of buffered */
  backPressure?: BackPressure;
}

/** Appended to every piece of a split line but the last. */
export const LINE_CONTINUES = ' [continues]';

const DEFAULT_MAX_LINE_BYTES = 16 * 1024;
const NEWLINE = 0x0a;

/** Largest cut at or before `max` that does not split a UTF-8 character. */
function utf8Boundary(bytes: Buffer, max: number): number {
  let cut = max;
  // step back over continuation bytes (10xxxxxx), at most the 3 a character can have
  while (cut > max - 3 && cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return (bytes[cut]! & 0xc0) === 0x80 || cut === 0 ? max : cut;
}

/**
 * Reads a worker's stdout or stderr and calls `onLine` once per line (without the newline; a
 * trailing `\r` is dropped). Memory is bounded: at most one partial line of `maxLineBytes` is
 * held; a longer line is split into pieces, each but the last ending with `LINE_CONTINUES`.
 * Nothing is lost: with `backPressure`, the stream is paused while the log is congested.
 */
export class OutputCapture {
  readonly maxLineBytes: number;
  #stream: NodeJS.ReadableStream;
  #onLine: (text: string) => void;
  #backPressure: BackPressure | undefined;
  #partial: Buffer | null = null;
  #paused = false;
  #ended = false;
  #pauses = 0;

  constructor(
    stream: NodeJS.ReadableStream,
    onLine: (text: string) => void,
    opts: OutputCaptureOptions = {},
  ) {
    const max = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(max) || max < 16)
      throw new ConfigError('maxLineBytes', max, 'an integer of at least 16');
    this.maxLineBytes = max;
    this.#stream = stream;
    this.#onLine = onLine;
    this.#backPressure = opts.backPressure;
    stream.on('data', this.#onData);
    stream.once('end', this.#onEnd);
    stream.once('error', this.#onEnd);
  }

  /** How many times the stream was paused for back-pressure. */
  get pauses(): number {
    return this.#pauses;
  }

  /** Emits the partial line held, if any (a worker's last line without a newline, at exit). */
  flush(): void {
    const partial = this.#partial;
    this.#partial = null;
    if (partial && partial.length > 0) this.#emit(partial, false);
  }

  /** Stops reading: flushes and removes the listeners (the stream itself is left alone). */
  detach(): void {
    this.flush();
    this.#ended = true;
    this.#stream.removeListener('data', this.#onData);
    this.#stream.removeListener('end', this.#onEnd);
    this.#stream.removeListener('error', this.#onEnd);
  }

  // the end of the stream, or a read error (the worker's pipe broke): what is held is its last line
  #onEnd = (): void => {
    this.#ended = true;
    this.flush();
  };

  #onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    while (start < bytes.length) {
      const newline = bytes.indexOf(NEWLINE, start);
      const end = newline === -1 ? bytes.length : newline;
      this.#take(bytes.subarray(start, end), newline !== -1);
      if (newline === -1) break;
      start = newline + 1;
    }
    this.#applyBackPressure();
  };

  #take(segment: Buffer, complete: boolean): void {
    let line = this.#partial ? Buffer.concat([this.#partial, segment]) : segment;
    this.#partial = null;
    while (line.length > this.maxLineBytes) {
      const cut = utf8Boundary(line, this.maxLineBytes);
      this.#emit(line.subarray(0, cut), true);
      line = line.subarray(cut);
    }
    if (complete) this.#emit(line, false);
    // a copy, so the partial line does not pin the whole chunk it came in
    else if (line.length > 0) this.#partial = Buffer.from(line);
  }

  #emit(bytes: Buffer, continues: boolean): void {
    let text = bytes.toString('utf8');
    if (continues) text += LINE_CONTINUES;
    else if (text.endsWith('\r')) text = text.slice(0, -1);
    this.#onLine(text);
  }

  #applyBackPressure(): void {
    const pressure = this.#backPressure;
    if (!pressure || this.#paused || !pressure.congested) return;
    this.#paused = true;
    this.#pauses++;
    this.#stream.pause();
    pressure.whenDrained().then(
      () => this.#resume(),
      () => this.#resume(),
    );
  }

  #resume(): void {
    this.#paused = false;
    if (!this.#ended) this.#stream.resume();
  }
}
