import { ConfigError, Pool } from '@drover/core';
import { bullmqBackend } from '@drover/core/bullmq';
import { describe, expect, it } from 'vitest';
import { resolveBackoff, resolvePoolConfig } from '../../packages/core/src/pool/options.js';

function configError(options: unknown): ConfigError {
  try {
    resolvePoolConfig(options as never);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('pool options', () => {
  it('fills defaults: one permanent worker, no temporary ones, 3 attempts, one task per worker', () => {
    const config = resolvePoolConfig({ baseTitle: 'jobs' });
    expect(config).toMatchObject({
      minWorkers: 1,
      maxWorkers: 1,
      idleTimeout: 10_000,
      taskTimeout: 0,
      concurrencyPerWorker: 1,
      scaleInterval: 500,
    });
    expect(config.retry.maxAttempts).toBe(3);
    expect(config.manage.maxWorkerNum).toBe(1);
    expect(config.backend.queue).toBe('jobs');
  });

  it('passes group options to the worker group and uses minWorkers as its size', () => {
    const config = resolvePoolConfig({ baseTitle: 'jobs', minWorkers: 3, maxWorkers: 10, stopTimeout: 2000 });
    expect(config.manage).toMatchObject({ baseTitle: 'jobs', maxWorkerNum: 3, stopTimeout: 2000 });
  });

  it('names the key, the value and what is allowed', () => {
    const e = configError({ baseTitle: 'jobs', minWorkers: 4, maxWorkers: 2 });
    expect(e.key).toBe('maxWorkers');
    expect(e.message).toBe(
      "drover: config 'maxWorkers' is 2; expected an integer from minWorkers (4) to 1024",
    );
    expect(configError({ baseTitle: 'jobs', concurrencyPerWorker: 0 }).key).toBe('concurrencyPerWorker');
    expect(configError({ baseTitle: 'jobs', idleTimeout: -1 }).message).toMatch(
      /'idleTimeout' is -1; expected an integer from 0 to 2147483647/,
    );
    // past Node's longest timer an attempt would time out after 1 ms
    expect(configError({ baseTitle: 'jobs', taskTimeout: 30 * 86_400_000 }).message).toMatch(
      /'taskTimeout' is 2592000000; expected an integer from 0 to 2147483647/,
    );
    expect(configError({ baseTitle: 'jobs', whenFull: 'drop' }).message).toMatch(
      /'whenFull' is "drop"; expected 'reject' or 'wait'/,
    );
    expect(configError({ baseTitle: 'jobs', queue: 'redis' }).message).toMatch(
      /'queue' is "redis"; expected 'memory' or a backend factory/,
    );
    expect(configError({ baseTitle: 'bad name' }).key).toBe('baseTitle');
  });

  it('suggests the nearest key, and says what a Manage key means in a pool', () => {
    expect(configError({ baseTitle: 'jobs', maxAtempts: 3 }).message).toMatch(/did you mean 'maxAttempts'/);
    expect(configError({ baseTitle: 'jobs', maxWorkerNum: 3 }).message).toMatch(
      /expected minWorkers \(permanent workers\) and maxWorkers \(with temporary ones\) instead/,
    );
    expect(configError({ baseTitle: 'jobs', maxWorkerNum: 3 }).message).not.toMatch(/expected no such key/);
    expect(configError({ baseTitle: 'jobs', readyWhen: 'listening' }).message).toMatch(
      /expected no readyWhen in a pool: its workers are ready once their init resolved/,
    );
  });

  it('checks the queue options at construction, every key of them', () => {
    expect(configError({ baseTitle: 'jobs', keepResults: 'forever' }).key).toBe('keepResults');
    expect(configError({ baseTitle: 'jobs', keepResults: { ageMs: -1 } }).key).toBe('keepResults.ageMs');
    expect(configError({ baseTitle: 'jobs', keepDeadLetters: 5 }).key).toBe('keepDeadLetters');
    expect(configError({ baseTitle: 'jobs', keepResults: { age: 5 } }).message).toMatch(
      /'keepResults.age' is 5; expected only ageMs and count in keepResults \(did you mean 'ageMs'\?\)/,
    );
    expect(() => new Pool({ baseTitle: 'jobs', keepDeadLetters: 5 as never })).toThrow(ConfigError);
  });

  it('bullmqBackend() refuses unknown keys with the nearest known one, before any start()', () => {
    const thrown = (options: unknown) => {
      try {
        bullmqBackend(options as never);
      } catch (error) {
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    const e = thrown({ connection: 'unix:///tmp/none.sock', stalledInterval: 5 });
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.key).toBe('stalledInterval');
    expect(e.message).toMatch(/did you mean 'stalledIntervalMs'/);
    expect(thrown({ connection: 'unix:///tmp/none.sock', stalledIntervalMs: 5 }).key).toBe(
      'stalledIntervalMs',
    );
    expect(thrown({ connection: 42 }).key).toBe('connection');
    expect(thrown({ connection: '/tmp/x.sock', prefix: 'a b' }).key).toBe('prefix');
  });

  it('builds the backoff: fixed, exponential with a cap, or a function', () => {
    const error = new Error('x');
    expect(resolveBackoff(250)(3, error)).toBe(250);
    expect(resolveBackoff({ type: 'fixed', delayMs: 40 })(1, error)).toBe(40);
    const exp = resolveBackoff({ type: 'exponential', delayMs: 100, maxDelayMs: 500 });
    expect([1, 2, 3, 4, 5].map((a) => exp(a, error))).toEqual([100, 200, 400, 500, 500]);
    const jittered = resolveBackoff({ type: 'exponential', delayMs: 1000, jitter: 0.5 })(1, error);
    expect(jittered).toBeGreaterThanOrEqual(500);
    expect(jittered).toBeLessThanOrEqual(1000);
    expect(resolveBackoff((attempt: number) => attempt * 7)(3, error)).toBe(21);
    expect(() => resolveBackoff({ type: 'linear', delayMs: 1 })).toThrow(/'backoff.type' is "linear"/);
    expect(() => resolveBackoff(-5)).toThrow(/'backoff' is -5/);
  });

  it('a Pool without a task handler refuses to start, saying what to call', async () => {
    await expect(new Pool({ baseTitle: 'nohandler' }).start()).rejects.toThrow(
      /has no task handler; call setTaskHandler/,
    );
  });

  it('close() is for producers: the master stops with stop()', async () => {
    const pool = new Pool({ baseTitle: 'producer' });
    // an in-memory queue is read only in its master
    await expect(pool.stats()).rejects.toMatchObject({ code: 'ENOTMASTER' });
    await pool.close();
  });
});
