export {
  type ManageConfig,
  type ManageOptions,
  parseSize,
  type RestartPolicyOptions,
  resolveManageConfig,
} from './config.js';
export { ControlClient, type MasterAddress, SocketGoneError } from './control/ControlClient.js';
export { AlreadyRunningError, ConfigError, DroverError, NotRunningError } from './errors.js';
export {
  type BackgroundOptions,
  DaemonStartError,
  DEFAULT_SETTLE_MS,
} from './daemon/launcher.js';
export {
  CONFIG_FILE_NAMES,
  findConfigFile,
  type GroupEntry,
  GroupsConfigError,
  loadGroupsConfig,
  manageFromEntry,
} from './groups/config.js';
export { type RunningGroup, runningGroups } from './groups/discovery.js';
export { lastLines, type TailOptions, tailLog } from './groups/logs.js';
export {
  type LogFileOptions,
  Manage,
  type ManageDeps,
  type MasterRunOptions,
  type ShowStatusOptions,
} from './Manage.js';
export { type GroupReloadResult, ManageMultiple, type ManageMultipleOptions } from './ManageMultiple.js';
export { type LaunchSpec, scriptLaunch, selfLaunch } from './master/launch.js';
export {
  Master,
  type MasterEvents,
  type MasterOptions,
  type ReloadResult,
  type WorkerExitInfo,
  type WorkerInfo,
} from './master/Master.js';
export { RestartPolicy } from './master/RestartPolicy.js';
export { CpuSampler, Process, type ProcStat } from './process/Process.js';
export type {
  ExitReason,
  ExitRecord,
  GroupStatus,
  MasterStatus,
  PinProcessStatus,
  WorkerState,
  WorkerStatus,
} from './status.js';
export { describeExit, renderStatusTable, type StatusTableOptions } from './status/StatusTable.js';
export { formatBytes, formatClock, formatDuration, formatPercent } from './status/units.js';
export { defaultRunDir } from './runtime/RunDir.js';
export { formatTitle } from './title.js';
export { VERSION } from './version.js';
export { Worker } from './worker/Worker.js';
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
export * from './queue/index.js';
