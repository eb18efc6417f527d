/** The queue layer of the task pool: the backend contract, the in-memory backend and helpers. */
export type * from './QueueBackend.js';
export { createMemoryBackend, MemoryQueue, memoryBackend } from './MemoryQueue.js';
export { TaskFailedError } from './errors.js';
export { type ExponentialBackoffOptions, exponentialBackoff } from './retry.js';
export { submitAndWait } from './submit.js';
export type { RedisConnection, RedisConnectionOptions } from './redisConnection.js';
