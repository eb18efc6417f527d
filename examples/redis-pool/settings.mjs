// What the consumer (the pool's master) and the producers share: the queue and its Redis.
import { bullmqBackend } from '@drover/core/bullmq';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Pool options both sides use: a producer must enqueue with the same retry policy. */
export const shared = {
  queueName: 'redis-pool-demo',
  maxAttempts: 3,
  backoff: { type: 'exponential', delayMs: 200 },
  queue: bullmqBackend({ connection: REDIS_URL, prefix: process.env.REDIS_PREFIX ?? 'drover-example' }),
};
