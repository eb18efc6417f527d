import { ConfigError } from '../errors.js';
import type { RetryPolicy } from './QueueBackend.js';

export interface ExponentialBackoffOptions {
  /** total deliveries, the first one included. Default 3. */
  readonly maxAttempts?: number;
  /** delay after the first failure. Default 1_000. */
  readonly baseMs?: number;
  /** cap on any delay. Default 60_000. */
  readonly maxMs?: number;
  /** 0..1: each delay is reduced by up to this fraction at random, so retries spread out. Default 0. */
  readonly jitter?: number;
}

/** `baseMs · 2^(attempt-1)`, capped at `maxMs`, optionally jittered. */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): RetryPolicy {
  const { maxAttempts = 3, baseMs = 1_000, maxMs = 60_000, jitter = 0 } = options;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new ConfigError('retry.maxAttempts', maxAttempts, 'an integer >= 1');
  if (!Number.isFinite(baseMs) || baseMs < 0)
    throw new ConfigError('retry.baseMs', baseMs, 'a number >= 0 (milliseconds)');
  if (!Number.isFinite(maxMs) || maxMs < baseMs)
    throw new ConfigError('retry.maxMs', maxMs, `a number >= baseMs (${baseMs})`);
  if (!(jitter >= 0 && jitter <= 1)) throw new ConfigError('retry.jitter', jitter, 'a number from 0 to 1');
  return {
    maxAttempts,
    backoffMs(attempt) {
      const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
      return Math.round(delay * (1 - jitter * Math.random()));
    },
  };
}
