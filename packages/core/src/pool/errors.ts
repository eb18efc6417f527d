import { DroverError } from '../errors.js';
import type { SerializedError } from '../ipc/messages.js';

/** The worker running an attempt exited before the attempt settled. */
export function workerLostError(
  taskId: string,
  attempt: number,
  pid: number,
  code: number | null,
  signal: NodeJS.Signals | null,
): DroverError {
  return new DroverError(
    'EWORKERLOST',
    `drover: task '${taskId}' attempt ${attempt}: worker ${pid} exited (${signal ?? `code ${code}`}) while running it`,
    { hint: 'the task goes to another worker; a task that keeps killing workers ends in the dead letters' },
  );
}

/** An attempt ran past `taskTimeout`. */
export function taskTimeoutError(taskId: string, attempt: number, timeoutMs: number): DroverError {
  return new DroverError(
    'ETASKTIMEOUT',
    `drover: task '${taskId}' attempt ${attempt} ran past taskTimeout (${timeoutMs} ms)`,
    {
      hint: 'stop work when ctx.signal aborts, or raise taskTimeout',
    },
  );
}

/** An attempt ran past `taskTimeout` + `taskTimeoutGrace` without settling: its worker is recycled. */
export function taskStuckError(taskId: string, attempt: number, timeoutMs: number, pid: number): DroverError {
  return new DroverError(
    'ETASKSTUCK',
    `drover: task '${taskId}' attempt ${attempt} did not settle after taskTimeout (${timeoutMs} ms) and its grace; worker ${pid} is recycled`,
    { hint: 'a handler should stop when ctx.signal aborts; synchronous loops block the whole worker' },
  );
}

/** A result that cannot travel back to the master. */
export function resultNotSerializableError(taskId: string, cause: unknown): DroverError {
  return new DroverError(
    'EPAYLOAD',
    `drover: the result of task '${taskId}' cannot be sent as JSON (${(cause as Error)?.message ?? String(cause)})`,
    { hint: 'return plain data: objects, arrays, strings, numbers, booleans, null' },
  );
}

/** Rebuilds a handler's error in the master from what the worker sent. */
export function reviveError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  if (serialized.code) (error as Error & { code?: string }).code = serialized.code;
  return error;
}
