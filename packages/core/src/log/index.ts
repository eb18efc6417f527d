export { ConsoleSink, type ConsoleSinkOptions, colorWanted } from './ConsoleSink.js';
export { FileSink, type FileSinkOptions } from './FileSink.js';
export { escapeControl, type FormatOptions, formatFieldValue, formatLogLine } from './format.js';
export { isAtLeast, LOG_LEVELS, type LogLevel, levelRank, parseLogLevel } from './levels.js';
export { Logger, type LoggerOptions, STREAM_LEVEL, type WorkerLog } from './Logger.js';
export type { LogRecord } from './LogRecord.js';
export type { BackPressure, LogSink, SinkNotice } from './LogSink.js';
export { LINE_CONTINUES, OutputCapture, type OutputCaptureOptions } from './OutputCapture.js';
export {
  DEFAULT_ROTATION,
  type ResolvedRotation,
  type RotationOptions,
  resolveRotation,
} from './rotation.js';
