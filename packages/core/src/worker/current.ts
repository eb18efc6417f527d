import type { WorkerRuntime } from './WorkerRuntime.js';

/**
 * Where the bootstrap preload keeps this process's runtime: a registered symbol, shared by every
 * copy of drover loaded in the process (the preload's and the package's).
 */
export const RUNTIME_KEY = Symbol.for('drover.workerRuntime');

/**
 * The runtime of this process if it is a drover worker. Reading it does not load the runtime's
 * code: the preload already did, and the package's entry stays light for workers.
 */
export function currentRuntime(): WorkerRuntime | undefined {
  return (globalThis as Record<symbol, WorkerRuntime | undefined>)[RUNTIME_KEY];
}
