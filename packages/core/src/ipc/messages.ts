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
}

/** master -> worker */
export type MasterMessage =
  /** finish the current execution, drain servers, exit */
  | { $drover: 'stop'; reason: ExitReason }
  /** heartbeat for hang detection */
  | { $drover: 'ping'; seq: number }
  /** ask for live figures for status */
  | { $drover: 'query'; seq: number }
  | { $drover: 'msg'; data: unknown };

/** worker -> master */
export type WorkerMessage =
  | { $drover: 'ready' }
  | { $drover: 'init-failed'; error: SerializedError }
  | { $drover: 'pong'; seq: number }
  | { $drover: 'report'; seq: number; executions: number; busy: boolean }
  /** reached executeTimes: stops executing and asks to be replaced */
  | { $drover: 'recycle'; executions: number }
  /** finished for good with this code (worker.done()) */
  | { $drover: 'done'; code: number }
  /** an uncaught error is about to end the process */
  | { $drover: 'fatal'; error: SerializedError }
  | { $drover: 'msg'; data: unknown };

export function isDroverMessage(value: unknown): value is { $drover: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[IPC_KEY] === 'string'
  );
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
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
  /** script mode: the user script to import (absolute path) */
  script?: string;
}

export const ENVELOPE_VAR = 'DROVER_WORKER';
