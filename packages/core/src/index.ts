export {
  type ManageConfig,
  type ManageOptions,
  parseSize,
  type RestartPolicyOptions,
  resolveManageConfig,
} from './config.js';
export { AlreadyRunningError, ConfigError, DroverError, NotRunningError } from './errors.js';
export { Manage, type ManageDeps } from './Manage.js';
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
export type {
  ExitReason,
  ExitRecord,
  GroupStatus,
  MasterStatus,
  WorkerState,
  WorkerStatus,
} from './status.js';
export { formatTitle } from './title.js';
export { VERSION } from './version.js';
export { Worker } from './worker/Worker.js';
export type { Work, WorkInit } from './worker/WorkerRuntime.js';
