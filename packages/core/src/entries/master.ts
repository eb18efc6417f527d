/**
 * `@drover/core/master`: the master's life cycle as a class, for a façade of one's own (Manage
 * and Pool are built on it), and the logger a master writes with (`ManageDeps.logger`). A master
 * loads all of it anyway; a worker does not.
 */
export type { MasterEvents, ReloadResult, WorkerExitInfo, WorkerInfo } from '../master/events.js';
export { type LaunchSpec, scriptLaunch, selfLaunch } from '../master/launch.js';
export { Master, type MasterOptions } from '../master/Master.js';
export { RestartPolicy } from '../master/RestartPolicy.js';
export { ConsoleSink, type ConsoleSinkOptions } from '../log/ConsoleSink.js';
export { FileSink, type FileSinkOptions } from '../log/FileSink.js';
export { Logger, type LoggerOptions, type WorkerLog } from '../log/Logger.js';
export { OutputCapture, type OutputCaptureOptions } from '../log/OutputCapture.js';
export type { LogLevel } from '../log/levels.js';
export type { LogSink } from '../log/LogSink.js';
