import type { LogLevel } from './levels.js';

/** One log entry, from the master itself or from one of its workers. */
export interface LogRecord {
  /** epoch ms */
  time: number;
  level: LogLevel;
  baseTitle: string;
  /** the worker's PIN, or `'master'` for the master's own events */
  pin: number | 'master';
  pid: number;
  /** set when the record is a line a worker wrote to its stdout or stderr */
  stream?: 'stdout' | 'stderr';
  message: string;
  fields?: Record<string, unknown>;
}
