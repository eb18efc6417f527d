/** What a master tells its façades (Manage, Pool) and their listeners. */
import type { WorkerMessage } from '../ipc/messages.js';
import type { ExitReason } from '../status.js';
import { formatMs } from '../status/units.js';

export interface WorkerInfo {
  /** the worker's stable index, 0..N-1, kept across respawns */
  pin: number;
  pid: number;
  /** its process title, as `ps` shows it */
  title: string;
}

export interface WorkerExitInfo extends WorkerInfo {
  /** exit code, or null when a signal ended it */
  code: number | null;
  signal: NodeJS.Signals | null;
  reason: ExitReason;
  /** first line of the error that ended it, when the worker reported one */
  error?: string;
}

/** What a rolling reload did. */
export interface ReloadResult {
  /** running workers replaced by a successor that became ready */
  replaced: number;
  /** PINs without a running worker (in crash backoff, or given up) that the reload started, ready */
  started: number;
  /**
   * PINs without a running worker whose new worker did not become ready (the reload went on with
   * the others): they back off and are retried as after any crash
   */
  notStarted: { pin: number; error: string }[];
  /** true when the reload stopped before the last PIN: the PINs not reached keep their workers */
  aborted: boolean;
  /** why it stopped */
  error?: string;
}

/**
 * What stopping workers came to (a stop, a restart, a scale down): how many did not finish their
 * execution within stopTimeout and were SIGKILLed. The operation did what was asked either way.
 */
export interface StopOutcome {
  /** workers SIGKILLed at stopTimeout: what they were doing was cut off */
  killed: number;
  /** the group's stopTimeout, in ms */
  stopTimeout: number;
}

/** What a scale did; `killed` and `stopTimeout` as in StopOutcome (absent from an older master). */
export interface ScaleResult extends Partial<StopOutcome> {
  from: number;
  to: number;
}

/**
 * The note a command's success line ends with when workers were SIGKILLed at stopTimeout:
 * `; 2 worker(s) did not finish within stopTimeout 10s and were killed`; empty when none were.
 */
export function stopKillsNote(outcome: Partial<StopOutcome> | null | undefined): string {
  const killed = outcome?.killed;
  if (typeof killed !== 'number' || !(killed > 0)) return '';
  const within =
    typeof outcome?.stopTimeout === 'number' ? `stopTimeout ${formatMs(outcome.stopTimeout)}` : 'stopTimeout';
  return `; ${killed} worker(s) did not finish within ${within} and were killed`;
}

export interface MasterEvents {
  /** a worker process was forked (first start, respawn, recycle, reload, scale up) */
  workerStart: [WorkerInfo];
  /** its `setWorkInit` resolved (or its script loaded): it takes work */
  workerReady: [WorkerInfo];
  /** its process ended; `reason` says why */
  workerExit: [WorkerExitInfo];
  /** a worker was asked to stop (stop, restart, reload, recycle, scale down, idle) */
  workerStop: [WorkerInfo & { reason: ExitReason }];
  /** a crashed worker's respawn waits `delayMs`: the `streak`-th fast crash in a row */
  workerBackoff: [WorkerInfo & { delayMs: number; streak: number }];
  /** the restart policy's `maxRestarts` was reached: the PIN stays empty, state 'failed' */
  workerFailed: [{ pin: number; restarts: number }];
  /** a worker's `worker.send(data)` */
  message: [data: unknown, worker: WorkerInfo];
  /** an internal message the master does not handle itself (task pool results) */
  internalMessage: [message: WorkerMessage, worker: WorkerInfo];
  /** a rolling reload ended: how many PINs were replaced, or why it stopped */
  reload: [ReloadResult];
  /** the group stopped: every worker has exited */
  stop: [];
}

/** The events of a `Manage`: the master's, without its internal channel. */
export type ManageEvents = Omit<MasterEvents, 'internalMessage'>;

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

/** The master's notice when every worker ended with the normal exit code; a launcher looks for it. */
export const ALL_FINISHED_NOTICE = 'every worker finished normally';

/** `ReloadResult.error` of a reload that met a stopping group: nothing of it keeps running. */
export const RELOAD_STOPPING = 'the group is stopping';
