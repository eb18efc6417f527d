import type { ManageEvents } from '../master/events.js';

/** Which worker an attempt ran on. */
export interface TaskWorker {
  pid: number;
  pin: number;
  kind: 'permanent' | 'temporary';
}

/** One attempt of one task, as the pool's events report it. */
export interface TaskAttempt extends TaskWorker {
  taskId: string;
  /** 1-based */
  attempt: number;
}

/** A task that failed for good, as `onError` and `taskFail` report it. */
export interface FailedTask<P = unknown> {
  taskId: string;
  payload: P;
  /** attempts made */
  attempts: number;
}

export interface ScaleInfo {
  /** temporary workers started now */
  started: number;
  /** tasks waiting in the queue when the autoscaler looked */
  backlog: number;
  /** permanent + temporary workers, after this step */
  workers: number;
}

/** Events of a `Pool` in its master: the worker group's own, plus the tasks' and the autoscaler's. */
export interface PoolEvents<P = unknown, R = unknown> extends ManageEvents {
  /** an attempt was handed to a worker */
  taskStart: [TaskAttempt];
  /** an attempt succeeded */
  taskDone: [TaskAttempt & { ms: number; result: R }];
  /** an attempt failed and the task will be delivered again */
  taskRetry: [TaskAttempt & { error: Error }];
  /** the last attempt failed: the task is a dead letter now */
  taskFail: [FailedTask<P> & { error: Error }];
  /** the backlog outgrew the workers: temporary workers were started */
  scaleUp: [ScaleInfo];
}
