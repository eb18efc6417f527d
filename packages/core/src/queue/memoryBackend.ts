import { masterSide } from '../masterSide.js';
import type { MemoryQueue } from './MemoryQueue.js';
import type { BackendFactory, BackendOptions } from './QueueBackend.js';

/**
 * A factory for the core: `memoryBackend()` builds a MemoryQueue from the core's options, in the
 * master only (the queue's code is loaded then: a worker never needs it).
 */
export function memoryBackend<P = unknown, R = unknown>(): BackendFactory<P, R> & {
  readonly kind: 'memory';
} {
  // tagged, so a pool knows before creating it that its queue lives in one process
  return Object.assign(
    async (options: BackendOptions): Promise<MemoryQueue<P, R>> =>
      new (await masterSide()).MemoryQueue<P, R>(options),
    { kind: 'memory' as const },
  );
}
