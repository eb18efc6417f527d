import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../../packages/core/src/queue/MemoryQueue.js';
import { resolveRedisConnection } from '../../packages/core/src/queue/redisConnection.js';
import { exponentialBackoff } from '../../packages/core/src/queue/retry.js';
import { submitAndWait } from '../../packages/core/src/queue/submit.js';

describe('exponentialBackoff', () => {
  it('doubles from baseMs up to maxMs', () => {
    const policy = exponentialBackoff({ maxAttempts: 5, baseMs: 100, maxMs: 350 });
    expect(policy.maxAttempts).toBe(5);
    expect([1, 2, 3, 4].map((a) => policy.backoffMs(a, new Error()))).toEqual([100, 200, 350, 350]);
  });

  it('jitter only shortens a delay, by at most its fraction', () => {
    const policy = exponentialBackoff({ baseMs: 1_000, jitter: 0.5 });
    for (let i = 0; i < 50; i++) {
      const ms = policy.backoffMs(1, new Error());
      expect(ms).toBeGreaterThanOrEqual(500);
      expect(ms).toBeLessThanOrEqual(1_000);
    }
  });

  it('names the bad option', () => {
    expect(() => exponentialBackoff({ maxAttempts: 1.5 })).toThrow(
      "drover: config 'retry.maxAttempts' is 1.5; expected an integer >= 1",
    );
    expect(() => exponentialBackoff({ baseMs: 10, maxMs: 5 })).toThrow(
      "drover: config 'retry.maxMs' is 5; expected a number >= baseMs (10)",
    );
  });
});

describe('submitAndWait', () => {
  it('resolves with the result of the one task it enqueued', async () => {
    const backend = createMemoryBackend<number, number>({ queue: 'submit', retry: exponentialBackoff() });
    backend.consume(async (d) => d.payload + 1, { concurrency: 1 });
    expect(await submitAndWait(backend, { payload: 41 })).toBe(42);
    await backend.close();
  });
});

describe('resolveRedisConnection', () => {
  it('reads unix socket URLs and paths', () => {
    expect(resolveRedisConnection('unix:///tmp/r/redis.sock')).toEqual({ path: '/tmp/r/redis.sock' });
    expect(resolveRedisConnection('unix:///tmp/r/redis.sock?db=3')).toEqual({
      path: '/tmp/r/redis.sock',
      db: 3,
    });
    expect(resolveRedisConnection('/tmp/r/redis.sock')).toEqual({ path: '/tmp/r/redis.sock' });
  });

  it('reads redis:// and rediss:// URLs with credentials and db', () => {
    expect(resolveRedisConnection('redis://u:p%40ss@cache.internal:6380/2')).toEqual({
      host: 'cache.internal',
      port: 6380,
      username: 'u',
      password: 'p@ss',
      db: 2,
    });
    expect(resolveRedisConnection('rediss://cache')).toEqual({ host: 'cache', port: 6379, tls: {} });
  });

  it('passes ioredis options through as a copy', () => {
    const options = { host: 'h', port: 1, enableAutoPipelining: true };
    const resolved = resolveRedisConnection(options);
    expect(resolved).toEqual(options);
    expect(resolved).not.toBe(options);
  });

  it('names the value and the accepted forms', () => {
    expect(() => resolveRedisConnection('localhost:6379')).toThrow(
      /config 'connection' is "localhost:6379"; expected a Redis URL/,
    );
    expect(() => resolveRedisConnection('redis://h/x')).toThrow(/the db must be an integer >= 0/);
  });
});
