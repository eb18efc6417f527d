/**
 * `@drover/core/memory`: the in-memory queue (the task pool's default) as a backend of its own,
 * for use without a pool. A pool takes it as `queue: 'memory'` or `memoryBackend()`.
 */
export { createMemoryBackend, type MemoryConsumeOptions, MemoryQueue } from '../queue/MemoryQueue.js';
export { memoryBackend } from '../queue/memoryBackend.js';
export type * from '../queue/QueueBackend.js';
