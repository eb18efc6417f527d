import type { LogRecord } from './LogRecord.js';

/**
 * Lets a producer slow down instead of growing a queue: while `congested` is true the producer
 * stops reading (a worker's pipe is paused) until `whenDrained()` resolves.
 */
export interface BackPressure {
  readonly congested: boolean;
  /** Resolves once the queue is short again (at once when it already is). */
  whenDrained(): Promise<void>;
}

/** An event a sink reports about itself, e.g. that its file cannot be written. */
export interface SinkNotice {
  level: 'warning' | 'error';
  message: string;
  fields?: Record<string, unknown>;
}

/** A destination for log records. `write` never throws and never blocks. */
export interface LogSink extends Partial<BackPressure> {
  write(record: LogRecord): void;
  /** Resolves when every record written so far has been handed to the OS (or dropped). */
  flush(): Promise<void>;
  /** Flushes, then releases the destination; later writes are dropped. */
  close(): Promise<void>;
  /** Subscribes to the sink's own notices (failures, recoveries, drops). */
  onNotice?(listener: (notice: SinkNotice) => void): void;
  /**
   * Puts back, now, a file of the sink that was removed or moved away, instead of when its watch
   * notices: what is written next must go to the file a reader finds.
   */
  recheckFiles?(): void;
}
