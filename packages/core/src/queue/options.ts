import { closest } from '../closest.js';
import { ConfigError, DroverError, describeValue } from '../errors.js';
import type { BackendOptions, Retention, RetryPolicy, TaskSpec } from './QueueBackend.js';

/** BullMQ's priority limit, applied to every backend so a task spec means the same everywhere. */
export const MAX_PRIORITY = 2_097_152;

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_KEEP_RESULTS: Required<Retention> = { ageMs: 300_000, count: 10_000 };
export const DEFAULT_KEEP_DEAD_LETTERS: Required<Retention> = { ageMs: 7 * 24 * 3_600_000, count: 10_000 };

/** Backend options after validation, with defaults filled in. */
export interface ResolvedBackendOptions {
  readonly queue: string;
  readonly retry: RetryPolicy;
  readonly leaseMs: number;
  readonly maxQueued: number;
  readonly whenFull: 'reject' | 'wait';
  readonly keepResults: Required<Retention>;
  readonly keepDeadLetters: Required<Retention>;
}

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TASK_ID = /^[A-Za-z0-9_\-.@/+=]{1,256}$/;

function isIntegerAtLeast(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}

export function validateRetryPolicy(retry: unknown, key = 'retry'): RetryPolicy {
  if (typeof retry !== 'object' || retry === null)
    throw new ConfigError(key, retry, 'an object { maxAttempts, backoffMs(attempt, error) }');
  const { maxAttempts, backoffMs } = retry as RetryPolicy;
  if (!isIntegerAtLeast(maxAttempts, 1))
    throw new ConfigError(`${key}.maxAttempts`, maxAttempts, 'an integer >= 1');
  if (typeof backoffMs !== 'function')
    throw new ConfigError(`${key}.backoffMs`, backoffMs, 'a function (attempt, error) => milliseconds');
  return retry as RetryPolicy;
}

function resolveRetention(key: string, value: Retention | undefined, defaults: Required<Retention>) {
  if (value === undefined) return defaults;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(key, value, 'an object { ageMs?, count? }, such as { ageMs: 3_600_000 }');
  for (const name of Object.keys(value))
    if (name !== 'ageMs' && name !== 'count')
      throw new ConfigError(
        `${key}.${name}`,
        (value as Record<string, unknown>)[name],
        `only ageMs and count in ${key}${closest(name, ['ageMs', 'count']) ? ` (did you mean '${closest(name, ['ageMs', 'count'])}'?)` : ''}`,
      );
  const ageMs = value.ageMs ?? defaults.ageMs;
  const count = value.count ?? defaults.count;
  if (!isIntegerAtLeast(ageMs, 0))
    throw new ConfigError(`${key}.ageMs`, ageMs, 'an integer >= 0 (milliseconds)');
  if (!isIntegerAtLeast(count, 0)) throw new ConfigError(`${key}.count`, count, 'an integer >= 0');
  return { ageMs, count };
}

export function resolveBackendOptions(options: BackendOptions): ResolvedBackendOptions {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('queue options', options, 'an object { queue, retry, leaseMs?, maxQueued?, ... }');
  if (typeof options.queue !== 'string' || !QUEUE_NAME.test(options.queue))
    throw new ConfigError('queue', options.queue, 'a name of 1-128 letters, digits, "-", "_" or "."');
  const retry = validateRetryPolicy(options.retry);
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  if (!isIntegerAtLeast(leaseMs, 100))
    throw new ConfigError('leaseMs', leaseMs, 'an integer >= 100 (milliseconds)');
  const maxQueued = options.maxQueued ?? Number.POSITIVE_INFINITY;
  if (maxQueued !== Number.POSITIVE_INFINITY && !isIntegerAtLeast(maxQueued, 1))
    throw new ConfigError('maxQueued', maxQueued, 'an integer >= 1, or undefined for no bound');
  const whenFull = options.whenFull ?? 'reject';
  if (whenFull !== 'reject' && whenFull !== 'wait')
    throw new ConfigError('whenFull', whenFull, "'reject' or 'wait'");
  return {
    queue: options.queue,
    retry,
    leaseMs,
    maxQueued,
    whenFull,
    keepResults: resolveRetention('keepResults', options.keepResults, DEFAULT_KEEP_RESULTS),
    keepDeadLetters: resolveRetention('keepDeadLetters', options.keepDeadLetters, DEFAULT_KEEP_DEAD_LETTERS),
  };
}

export function validateConcurrency(n: unknown): number {
  if (!isIntegerAtLeast(n, 0)) throw new ConfigError('concurrency', n, 'an integer >= 0');
  return n;
}

/** Checks one task spec; `index` places it in the `enqueue` call for the message. */
export function validateTaskSpec(spec: TaskSpec, index: number): void {
  const where = `tasks[${index}]`;
  if (typeof spec !== 'object' || spec === null)
    throw new ConfigError(where, spec, 'an object { payload, id?, delayMs?, priority? }');
  if (spec.id !== undefined) validateTaskId(spec.id, `${where}.id`);
  if (spec.delayMs !== undefined && !isIntegerAtLeast(spec.delayMs, 0))
    throw new ConfigError(`${where}.delayMs`, spec.delayMs, 'an integer >= 0 (milliseconds)');
  if (spec.priority !== undefined && (!isIntegerAtLeast(spec.priority, 0) || spec.priority > MAX_PRIORITY))
    throw new ConfigError(`${where}.priority`, spec.priority, `an integer from 0 (first) to ${MAX_PRIORITY}`);
}

export function validateTaskId(id: unknown, key = 'taskId'): string {
  if (typeof id !== 'string' || !TASK_ID.test(id) || /^-?\d+$/.test(id))
    throw new ConfigError(
      key,
      id,
      'a string of 1-256 letters, digits or "-_.@/+=" that is not an integer (integers are generated ids)',
    );
  return id;
}

/** Serialises a payload or result the way a shared backend will, so both backends agree. */
export function encodeJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (error) {
    throw new DroverError(
      'EPAYLOAD',
      `drover: ${what} cannot be serialised as JSON (${(error as Error).message})`,
      {
        hint: 'pass plain data: objects, arrays, strings, numbers, booleans, null',
        cause: error,
      },
    );
  }
  if (text === undefined)
    throw new DroverError('EPAYLOAD', `drover: ${what} is ${describeValue(value)}, which JSON cannot carry`, {
      hint: 'pass plain data: objects, arrays, strings, numbers, booleans, null',
    });
  return text;
}
