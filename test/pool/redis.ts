import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { resolveRedisConnection } from '../../packages/core/src/queue/redisConnection.js';
import { redisForTests, redisUnavailableReason, type TestRedis } from '../support/redis.js';

/** A Redis for one pool test file (null when there is none, except under CI), with its own key prefix. */
export async function poolRedis(): Promise<{
  redis: TestRedis;
  prefix: string;
  cleanup(): Promise<void>;
} | null> {
  const redis = await redisForTests();
  if (!redis) {
    if (process.env.CI)
      throw new Error(
        `CI is set, but there is no Redis for the pool's BullMQ tests: ${redisUnavailableReason}`,
      );
    return null;
  }
  const prefix = `drover-pool-${process.pid}-${randomUUID().slice(0, 8)}`;
  return {
    redis,
    prefix,
    cleanup: async () => {
      const client = new Redis(resolveRedisConnection(redis.url) as RedisOptions);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          if (keys.length > 0) await client.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        client.disconnect();
      }
      await redis.stop();
    },
  };
}

export { redisUnavailableReason };
