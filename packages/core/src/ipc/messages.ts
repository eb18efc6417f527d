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

/** The signals that stop a worker gracefully, a second one at once. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/** master -> worker */
export type MasterMessage =
  /**
   * finish the current execution, drain servers, exit. `signal`: the master stops because it got
   * this signal; sent to the whole process group (Ctrl-C, systemd's KillMode=control-group), its
   * copy reaches the worker too, and a script's own SIGTERM handler gets that one, not a relay
   */
  | { $drover: 'stop'; reason: ExitReason; signal?: StopSignal }
  /** heartbeat for hang detection */
  | { $drover: 'ping'; seq: number }
  /** ask for live figures for status */
  | { $drover: 'query'; seq: number }
  | { $drover: 'msg'; data: unknown }
  /** the answer to `sync`: every message sent to the worker before it has arrived */
  | { $drover: 'synced'; seq: number }
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
  /** SIGTERM or SIGINT reached the worker itself, not through the master */
  | { $drover: 'signalled'; signal: string }
  /** asks for `synced`: a round trip through the channel, in order with everything else on it */
  | { $drover: 'sync'; seq: number }
  | { $drover: 'msg'; data: unknown }
  /** task pool: outcomes of dispatched tasks */
  | { $drover: 'results'; results: TaskOutcome[] }
  /**
   * it started process `pid`: should the worker be killed outright (SIGKILL from outside, the OOM
   * killer, a V8 abort), the master ends what it left behind
   */
  | { $drover: 'child'; pid: number };

/**
 * One task handed to a pool worker: `[dispatch number, task id, attempt, payload]`. A tuple,
 * because thousands travel per second and JSON keys would be most of their bytes. The dispatch
 * number is unique per master process; the attempt is 1-based.
 */
export type TaskMessage = [seq: number, taskId: string, attempt: number, payload: unknown];

/**
 * The outcome of one dispatched task: `[seq, 0, value]`, `[seq, 1, error]`, or `[seq, 2]` when
 * the worker was stopping and never ran it (it goes to another worker, no attempt spent).
 * `[seq, 3]` says the attempt has settled and its outcome follows in the next message: a large
 * result takes a while to cross the channel, and that time is not the handler's (taskTimeout).
 */
export type TaskOutcome =
  | [seq: number, kind: 0, value?: unknown]
  | [seq: number, kind: 1, error: SerializedError]
  | [seq: number, kind: 2]
  | [seq: number, kind: 3];

export function isDroverMessage(value: unknown): value is { $drover: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[IPC_KEY] === 'string'
  );
}

/**
 * An error thrown by user code, as data for the channel. Anything can be thrown: an Error, an
 * object with a `message` (kept with its `name` and `code`), a string, or a value that cannot
 * even be turned into a string (a null-prototype object), which must not end the worker.
 */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: typeof err.name === 'string' ? err.name : 'Error',
      message: typeof err.message === 'string' ? err.message : safeString(err.message),
      ...(typeof err.stack === 'string' ? { stack: err.stack } : {}),
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    return asSerializedError(err);
  }
  return { name: 'Error', message: safeString(err) };
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return `(a thrown value with no string form: ${describeValue(value)})`;
  }
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
  /** a plain script is ready once a server listens, or once it sends 'ready'; absent: once loaded */
  readyWhen?: 'listening' | 'message';
}

export const ENVELOPE_VAR = 'DROVER_WORKER';

/** The export condition under which '@drover/core' resolves to its worker entry (a worker's Node option). */
export const WORKER_CONDITION = 'drover-worker';

/**
 * An error as a worker reported it, made safe to read: a worker is user code, and what comes
 * over its channel is input. Anything that is not `{ name, message }` with strings is described.
 */
export function asSerializedError(value: unknown): SerializedError {
  if (typeof value === 'object' && value !== null) {
    const { name, message, stack, code } = value as Record<string, unknown>;
    if (typeof message === 'string') {
      return {
        name: typeof name === 'string' ? name : 'Error',
        message,
        ...(typeof stack === 'string' ? { stack } : {}),
        ...(typeof code === 'string' ? { code } : {}),
      };
    }
  }
  return { name: 'Error', message: `(the worker reported ${describeValue(value)} as its error)` };
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
  return `${typeof value} ${text}`;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function isOutcome(o: unknown): boolean {
  return Array.isArray(o) && isCount(o[0]) && (o[1] === 0 || o[1] === 1 || o[1] === 2 || o[1] === 3);
}

/**
 * Checks a message from a worker against `WorkerMessage` and returns it ready to use (errors
 * made safe), or a description of what is wrong with it. One malformed message must not take
 * the master, and every group it runs, down with it. Types this master does not know pass:
 * a newer worker runtime may send them, and they are ignored.
 */
export function checkWorkerMessage(m: {
  readonly $drover: string;
  readonly [key: string]: unknown;
}): WorkerMessage | string {
  const r = m;
  switch (m.$drover) {
    case 'ready':
      return r.loop === undefined || typeof r.loop === 'boolean'
        ? (m as WorkerMessage)
        : 'loop is not a boolean';
    case 'init-failed':
    case 'fatal':
      return { $drover: m.$drover, error: asSerializedError(r.error) };
    case 'pong':
    case 'sync':
      return isCount(r.seq) ? (m as WorkerMessage) : 'seq is not a count';
    case 'report':
      if (!isCount(r.seq) || !isCount(r.executions)) return 'seq or executions is not a count';
      return typeof r.busy === 'boolean' ? (m as WorkerMessage) : 'busy is not a boolean';
    case 'recycle':
      return isCount(r.executions) ? (m as WorkerMessage) : 'executions is not a count';
    case 'done':
      return typeof r.code === 'number' && Number.isInteger(r.code) && r.code >= 0 && r.code <= 255
        ? (m as WorkerMessage)
        : 'code is not an exit code (an integer 0-255)';
    case 'signalled':
      return typeof r.signal === 'string' ? (m as WorkerMessage) : 'signal is not a string';
    case 'child':
      return Number.isSafeInteger(r.pid) && (r.pid as number) > 1 ? (m as WorkerMessage) : 'pid is not a pid';
    case 'results': {
      const results = r.results;
      if (!Array.isArray(results)) return 'results is not an array';
      for (const o of results) {
        if (!isOutcome(o)) return 'a result is not [seq, 0 | 1 | 2 | 3, value?]';
        if (o[1] === 1) o[2] = asSerializedError(o[2]);
      }
      return m as WorkerMessage;
    }
    default:
      return m as WorkerMessage;
  }
}
