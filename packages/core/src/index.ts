/**
 * `@drover/core`: what a group's script imports. The script runs in its master and again in every
 * worker, so this entry holds only what both need; the master's side loads when a master starts
 * (see masterSide.ts). Tools that control running groups import `@drover/core/control`; the
 * building blocks of a master are in `@drover/core/master`, the queues in `@drover/core/memory`
 * and `@drover/core/bullmq`.
 */
export {
  type Duration,
  type ManageConfig,
  type ManageOptions,
  parseSize,
  type ReadyWhen,
  type RestartPolicyOptions,
  resolveManageConfig,
} from './config.js';
export { SocketGoneError } from './control/SocketGoneError.js';
export type { LogLevel } from './log/levels.js';
export type { RotationOptions } from './log/rotation.js';
export { AlreadyRunningError, ConfigError, DroverError, NotRunningError } from './errors.js';
export { type BackgroundOptions, DaemonStartError, DEFAULT_SETTLE_MS } from './daemon/options.js';
export {
  type BroadcastResult,
  type LogFileOptions,
  Manage,
  type ManageDeps,
  type MasterRunOptions,
  type ReloadOptions,
  type ShowStatusOptions,
} from './Manage.js';
export {
  type GroupReloadResult,
  type GroupStopOutcome,
  ManageMultiple,
  type ManageMultipleOptions,
  type MultipleReloadOptions,
} from './ManageMultiple.js';
export type { EnvUpdate } from './master/workerEnv.js';
export {
  type ManageEvents,
  type MasterEvents,
  type ReloadResult,
  type ScaleResult,
  type StopOutcome,
  stopKillsNote,
  type WorkerExitInfo,
  type WorkerInfo,
} from './master/events.js';
export { type LaunchSpec, scriptLaunch, selfLaunch } from './master/launch.js';
export { RestartPolicy } from './master/RestartPolicy.js';
export { CpuSampler, Process, type ProcStat } from './process/Process.js';
export type {
  EnvUpdateStatus,
  ExitReason,
  ExitRecord,
  GroupOptionsStatus,
  GroupStatus,
  MasterStatus,
  PinProcessStatus,
  ReloadStatus,
  RestartPolicyStatus,
  RunStatus,
  WorkerState,
  WorkerStatus,
} from './status.js';
export { defaultRunDir } from './runtime/RunDir.js';
export { formatTitle } from './title.js';
export { VERSION } from './version.js';
export { Worker } from './worker/exported.js';
export type { Work, WorkInit } from './worker/WorkerRuntime.js';
export type { FailedTask, PoolEvents, ScaleInfo, TaskAttempt, TaskWorker } from './pool/events.js';
export type { BackoffOption, PoolOptions } from './pool/options.js';
export {
  Pool,
  type PoolDeps,
  type PoolFigures,
  type PoolStatus,
  type SubmitBulkOptions,
  type SubmitOptions,
} from './pool/Pool.js';
export type { TaskContext, TaskHandler } from './pool/TaskRunner.js';
export type * from './queue/QueueBackend.js';
export type { MemoryConsumeOptions } from './queue/MemoryQueue.js';
export { memoryBackend } from './queue/memoryBackend.js';
export { TaskFailedError } from './queue/errors.js';
export { type ExponentialBackoffOptions, exponentialBackoff } from './queue/retry.js';
export { submitAndWait } from './queue/submit.js';
export type { RedisConnection, RedisConnectionOptions } from './queue/redisConnection.js';
