import type { ExitReason } from '../status.js';

/**
 * Internal messages between a master and its workers over the IPC channel. They carry the key
 * `$drover`, so user messages (wrapped in `msg`) never collide with them. The channel keeps
 * order per worker.
 */
export const IPC_KEY = '$drover';

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** a DroverError's or a Node error's code */
  code?: string;
}

/** master -> worker */
export type MasterMessage =
  /** finish the current execution, drain servers, exit */
  | { $drover: 'stop'; reason: ExitReason }
  /** heartbeat for hang detection */
  | { $drover: 'ping'; seq: number }
  /** ask for live figures for status */
  | { $drover: 'query'; seq: number }
  | { $drover: 'msg'; data: unknown }
  /** task pool: run these tasks */
  | { $drover: 'tasks'; tasks: TaskMessage[] }
  /** task pool: abort the signals of these dispatched tasks (their lease was lost) */
  | { $drover: 'abort'; seqs: number[]; reason: SerializedError };

/** worker -> master */
export type WorkerMessage =
  /** `loop`: it runs the execution loop (work), whose executions a PIN must not run twice at once */
  | { $drover: 'ready'; loop?: boolean }
  | { $drover: 'init-failed'; error: SerializedError }
  | { $drover: 'pong'; seq: number }
  | { $drover: 'report'; seq: number; executions: number; busy: boolean }
  /** reached executeTimes: stops executing and asks to be replaced */
  | { $drover: 'recycle'; executions: number }
  /** finished for good with this code (worker.done()) */
  | { $drover: 'done'; code: number }
  /** an uncaught error is about to end the process */
  | { $drover: 'fatal'; error: SerializedError }
  /** the worker is closing its IPC channel itself (process.disconnect()): it cannot be controlled any more */
  | { $drover: 'channel-closing' }
  | { $drover: 'msg'; data: unknown }
  /** task pool: outcomes of dispatched tasks */
  | { $drover: 'results'; results: TaskOutcome[] };

/**
 * One task handed to a pool worker: `[dispatch number, task id, attempt, payload]`. A tuple,
 * because thousands travel per second and JSON keys would be most of their bytes. The dispatch
 * number is unique per master process; the attempt is 1-based.
 */
export type TaskMessage = [seq: number, taskId: string, attempt: number, payload: unknown];

/**
 * The outcome of one dispatched task: `[seq, 0, value]`, `[seq, 1, error]`, or `[seq, 2]` when
 * the worker was stopping and never ran it (it goes to another worker, no attempt spent).
 */
export type TaskOutcome =
  | [seq: number, kind: 0, value?: unknown]
  | [seq: number, kind: 1, error: SerializedError]
  | [seq: number, kind: 2];

export function isDroverMessage(value: unknown): value is { $drover: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[IPC_KEY] === 'string'
  );
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      stack: err.stack,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

/**
 * What the master hands a worker at fork time, in the DROVER_WORKER environment variable.
 * Limits are already jittered for this worker.
 */
export interface WorkerEnvelope {
  group: string;
  pin: number;
  title: string;
  normalExitCode: number;
  executeTimes: number;
  executeUSleep: number;
  stopTimeout: number;
  /** a task pool's temporary worker leaves when idle; absent means permanent */
  kind?: 'permanent' | 'temporary';
  /** script mode: the main script whose `work`/`init` exports the runtime runs (absolute path) */
  script?: string;
}

export const ENVELOPE_VAR = 'DROVER_WORKER';
