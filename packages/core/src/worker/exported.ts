import { currentRuntime } from './current.js';
import { Worker as OwnWorker } from './Worker.js';

/**
 * `Worker` as the package exports it. In a worker, the objects handed to user code come from the
 * preload's copy of drover (a CommonJS file loaded before the script), so the class exported is
 * that copy's: `worker instanceof Worker` holds whichever copy the script imported.
 */
export const Worker: typeof OwnWorker = currentRuntime()?.workerClass ?? OwnWorker;
export type Worker = OwnWorker;
