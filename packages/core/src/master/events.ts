/** What a master tells its façades (Manage, Pool) and their listeners. */
import type { WorkerMessage } from '../ipc/messages.js';
import type { ExitReason } from '../status.js';

export interface WorkerInfo {
  pin: number;
  pid: number;
  title: string;
}

export interface WorkerExitInfo extends WorkerInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  reason: ExitReason;
  error?: string;
}

export interface ReloadResult {
  replaced: number;
  aborted: boolean;
  error?: string;
}

export interface MasterEvents {
  workerStart: [WorkerInfo];
  workerReady: [WorkerInfo];
  workerExit: [WorkerExitInfo];
  /** a worker was asked to stop (stop, reload, recycle, scale) */
  workerStop: [WorkerInfo & { reason: ExitReason }];
  workerBackoff: [WorkerInfo & { delayMs: number; streak: number }];
  workerFailed: [{ pin: number; restarts: number }];
  message: [data: unknown, worker: WorkerInfo];
  /** an internal message the master does not handle itself (task pool results) */
  internalMessage: [message: WorkerMessage, worker: WorkerInfo];
  reload: [ReloadResult];
  stop: [];
}

/** Every event a Master emits, for the façades (Manage, Pool) that re-emit them. */
export const MASTER_EVENT_NAMES = [
  'workerStart',
  'workerReady',
  'workerExit',
  'workerStop',
  'workerBackoff',
  'workerFailed',
  'message',
  'reload',
  'stop',
] as const satisfies readonly (keyof MasterEvents)[];
