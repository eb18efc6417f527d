import { randomUUID } from 'node:crypto';
import {
  dropKeysAndStop,
  redisOrFailInCI,
  redisUnavailableReason,
  type TestRedis,
} from '../support/redis.js';

/** A Redis for one pool test file (null when there is none, except under CI), with its own key prefix. */
export async function poolRedis(): Promise<{
  redis: TestRedis;
  prefix: string;
  cleanup(): Promise<void>;
} | null> {
  const redis = await redisOrFailInCI("the pool's BullMQ tests");
  if (!redis) return null;
  const prefix = `drover-pool-${process.pid}-${randomUUID().slice(0, 8)}`;
  return { redis, prefix, cleanup: () => dropKeysAndStop(redis, prefix) };
}

export { redisUnavailableReason };
