import { closest } from '../closest.js';
import { MANAGE_OPTION_KEYS, type ManageConfig, type ManageOptions, resolveManageConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { memoryBackend } from '../queue/memoryBackend.js';
import { resolveBackendOptions } from '../queue/options.js';
import type { BackendFactory, BackendOptions, Retention, RetryPolicy } from '../queue/QueueBackend.js';
import { TIMER_MAX_MS } from '../timerLimit.js';
import type { FailedTask } from './events.js';

/** How long to wait before the next attempt of a task whose attempt failed. */
export type BackoffOption =
  /** the same delay, in ms, after every failed attempt */
  | number
  | { type: 'fixed'; delayMs: number }
  /**
   * `delayMs · 2^(attempt-1)`, capped at `maxDelayMs` (default the larger of `delayMs` and 60 s),
   * each lowered at random by up to `jitter` (0..1, default 0), as BullMQ's exponential backoff
   */
  | { type: 'exponential'; delayMs: number; maxDelayMs?: number; jitter?: number }
  /** any policy: the delay in ms after failed `attempt` (1-based) */
  | ((attempt: number, error: Error) => number);

/** Manage options a pool passes to its worker group unchanged. */
type GroupOptions = Omit<ManageOptions, 'maxWorkerNum' | 'executeUSleep' | 'normalExitCode'>;

/** Configuration of a task `Pool`. Every key is validated at construction. */
export interface PoolOptions<P = unknown> extends GroupOptions {
  /** Permanent workers, always running. Default 1. */
  minWorkers?: number;
  /** Upper bound with temporary workers, started when the backlog exceeds what the workers take. Default `minWorkers` (at least 1). */
  maxWorkers?: number;
  /** A temporary worker with no task for this many ms exits (reason 'idle'). Default 10_000. */
  idleTimeout?: number;
  /** Deliveries of a task, the first included, before it fails for good. Default 3. */
  maxAttempts?: number;
  /** Delay before a retry. Default exponential from 100 ms, capped at 10 s, jitter 0.2. */
  backoff?: BackoffOption;
  /** Time an attempt may take, in ms; then its signal aborts and the attempt fails. 0 = no limit. Default 0. */
  taskTimeout?: number;
  /** After taskTimeout, the handler gets this many ms to settle before its worker counts as stuck and is recycled. Default 1000. */
  taskTimeoutGrace?: number;
  /** Tasks in flight per worker at once. Default 1 (one task at a time, for CPU-bound handlers). */
  concurrencyPerWorker?: number;
  /** The queue: the in-memory default, or a factory such as `bullmqBackend({ connection })`. */
  queue?: 'memory' | BackendFactory<P>;
  /** Queue name (shared by every master and producer of a BullMQ queue). Default: baseTitle. */
  queueName?: string;
  /** Bound on tasks waiting (ready + delayed). Default: unbounded. */
  maxQueued?: number;
  /** At the bound, `submit` rejects with EQUEUEFULL (default) or waits for room. */
  whenFull?: 'reject' | 'wait';
  /** A delivery whose master stops renewing its lease this long goes to another master (shared queues). Default 30_000. */
  leaseMs?: number;
  /** How long results stay readable by `submit` callers. Default `{ ageMs: 300_000, count: 10_000 }`. */
  keepResults?: Retention;
  /** How long dead letters are kept. Default `{ ageMs: 7 days, count: 10_000 }`. */
  keepDeadLetters?: Retention;
  /** How often the autoscaler reads the backlog, in ms. Default 500. */
  scaleInterval?: number;
  /** Called in the master once per task that failed for good, after its last attempt. */
  onError?: (error: Error, task: FailedTask<P>) => void;
}

export interface PoolConfig<P = unknown> {
  readonly manage: ManageConfig;
  readonly minWorkers: number;
  readonly maxWorkers: number;
  readonly idleTimeout: number;
  readonly retry: RetryPolicy;
  readonly taskTimeout: number;
  readonly taskTimeoutGrace: number;
  readonly concurrencyPerWorker: number;
  readonly queue: BackendFactory<P>;
  readonly backend: BackendOptions;
  readonly scaleInterval: number;
  readonly onError?: (error: Error, task: FailedTask<P>) => void;
}

const POOL_KEYS = [
  'minWorkers',
  'maxWorkers',
  'idleTimeout',
  'maxAttempts',
  'backoff',
  'taskTimeout',
  'taskTimeoutGrace',
  'concurrencyPerWorker',
  'queue',
  'queueName',
  'maxQueued',
  'whenFull',
  'leaseMs',
  'keepResults',
  'keepDeadLetters',
  'scaleInterval',
  'onError',
] as const;

/** Keys of a plain worker group that mean something else, or nothing, in a pool. */
const NOT_IN_A_POOL: Record<string, string> = {
  maxWorkerNum:
    'minWorkers (permanent workers) and maxWorkers (with temporary ones) instead: a pool has no maxWorkerNum',
  executeUSleep: 'no executeUSleep in a pool: its workers run tasks as they arrive',
  normalExitCode: 'no normalExitCode in a pool: its workers leave only when stopped, recycled or idle',
  readyWhen: 'no readyWhen in a pool: its workers are ready once their init resolved',
};

/** The worker-group options a pool takes as they are: every ManageOptions key but those below. */
const GROUP_KEYS = [...MANAGE_OPTION_KEYS].filter((key) => !(key in NOT_IN_A_POOL));

const KNOWN = new Set<string>([...POOL_KEYS, ...GROUP_KEYS]);

const DEFAULT_BACKOFF = { type: 'exponential', delayMs: 100, maxDelayMs: 10_000, jitter: 0.2 } as const;

/** Validates pool options and fills defaults; the group options go through `resolveManageConfig`. */
export function resolvePoolConfig<P>(options: PoolOptions<P>): PoolConfig<P> {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new ConfigError('options', options, 'an object such as { baseTitle: "jobs", minWorkers: 2 }');
  const o = options as unknown as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (KNOWN.has(key)) continue;
    const near = closest(key, KNOWN);
    throw new ConfigError(
      key,
      o[key],
      NOT_IN_A_POOL[key] ??
        (near
          ? `a known pool option (did you mean '${near}'?)`
          : `a known pool option: ${[...KNOWN].join(', ')}`),
    );
  }
  const minWorkers = integer(o, 'minWorkers', 1, 0, 1024);
  const maxFloor = Math.max(minWorkers, 1);
  const maxWorkers = integer(o, 'maxWorkers', maxFloor, maxFloor, 1024, `minWorkers (${minWorkers})`);
  const group: Record<string, unknown> = {};
  for (const key of GROUP_KEYS) if (o[key] !== undefined) group[key] = o[key];
  const manage = resolveManageConfig({ ...group, maxWorkerNum: minWorkers });
  const maxAttempts = integer(o, 'maxAttempts', 3, 1, 1_000_000);
  const queueName = o.queueName ?? manage.baseTitle;
  if (typeof queueName !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(queueName))
    throw new ConfigError('queueName', queueName, 'a name of 1-128 letters, digits, "-", "_" or "."');
  const whenFull = o.whenFull ?? 'reject';
  if (whenFull !== 'reject' && whenFull !== 'wait')
    throw new ConfigError('whenFull', whenFull, "'reject' or 'wait'");
  const maxQueued = o.maxQueued === undefined ? undefined : integer(o, 'maxQueued', 0, 1);
  if (o.onError !== undefined && typeof o.onError !== 'function')
    throw new ConfigError('onError', o.onError, 'a function (error, task) => void');
  const retry: RetryPolicy = { maxAttempts, backoffMs: resolveBackoff(o.backoff) };
  const backend: BackendOptions = {
    queue: queueName,
    retry,
    ...(o.leaseMs === undefined ? {} : { leaseMs: integer(o, 'leaseMs', 0, 100, TIMER_MAX_MS) }),
    ...(maxQueued === undefined ? {} : { maxQueued }),
    whenFull,
    ...(o.keepResults === undefined ? {} : { keepResults: o.keepResults as Retention }),
    ...(o.keepDeadLetters === undefined ? {} : { keepDeadLetters: o.keepDeadLetters as Retention }),
  };
  // the checks every backend makes, here at construction rather than at start()
  resolveBackendOptions(backend);
  return {
    manage,
    minWorkers,
    maxWorkers,
    idleTimeout: integer(o, 'idleTimeout', 10_000, 0, TIMER_MAX_MS),
    retry,
    taskTimeout: integer(o, 'taskTimeout', 0, 0, TIMER_MAX_MS),
    taskTimeoutGrace: integer(o, 'taskTimeoutGrace', 1_000, 0, TIMER_MAX_MS),
    concurrencyPerWorker: integer(o, 'concurrencyPerWorker', 1, 1, 100_000),
    queue: resolveQueue<P>(o.queue),
    backend,
    scaleInterval: integer(o, 'scaleInterval', 500, 10, 60_000),
    ...(o.onError ? { onError: o.onError as PoolConfig<P>['onError'] } : {}),
  };
}

function resolveQueue<P>(value: unknown): BackendFactory<P> {
  if (value === undefined || value === 'memory') return memoryBackend<P>();
  if (typeof value === 'function') return value as BackendFactory<P>;
  throw new ConfigError(
    'queue',
    value,
    "'memory' or a backend factory such as bullmqBackend({ connection }) from '@drover/core/bullmq'",
  );
}

/** Turns the `backoff` option into the retry policy's delay function. */
export function resolveBackoff(value: unknown): (attempt: number, error: Error) => number {
  const spec = value === undefined ? DEFAULT_BACKOFF : value;
  if (typeof spec === 'function') return spec as (attempt: number, error: Error) => number;
  if (typeof spec === 'number') {
    if (!Number.isFinite(spec) || spec < 0) throw new ConfigError('backoff', spec, 'a delay in ms >= 0');
    return () => spec;
  }
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw new ConfigError(
      'backoff',
      spec,
      "a delay in ms, { type: 'fixed', delayMs }, { type: 'exponential', delayMs, maxDelayMs?, jitter? } or a function (attempt, error) => ms",
    );
  const b = spec as Record<string, unknown>;
  const delayMs = number(b, 'delayMs', Number.NaN, 0, 'backoff.');
  if (b.type === 'fixed') return () => delayMs;
  if (b.type !== 'exponential') throw new ConfigError('backoff.type', b.type, "'fixed' or 'exponential'");
  const maxDelayMs = number(b, 'maxDelayMs', Math.max(delayMs, 60_000), delayMs, 'backoff.');
  const jitter = number(b, 'jitter', 0, 0, 'backoff.', 1);
  return (attempt) => {
    const delay = Math.min(maxDelayMs, delayMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(delay * (1 - jitter * Math.random()));
  };
}

function integer(
  o: Record<string, unknown>,
  key: string,
  fallback: number,
  min: number,
  max?: number,
  minName?: string,
): number {
  const v = o[key] === undefined ? fallback : o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || (max !== undefined && v > max)) {
    const from = minName ? `${minName}` : `${min}`;
    throw new ConfigError(
      key,
      v,
      max === undefined ? `an integer >= ${from}` : `an integer from ${from} to ${max}`,
    );
  }
  return v;
}

function number(
  o: Record<string, unknown>,
  key: string,
  fallback: number,
  min: number,
  prefix: string,
  max?: number,
): number {
  const v = o[key] === undefined ? fallback : o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (max !== undefined && v > max))
    throw new ConfigError(
      prefix + key,
      v,
      max === undefined ? `a number >= ${min}` : `a number from ${min} to ${max}`,
    );
  return v;
}
