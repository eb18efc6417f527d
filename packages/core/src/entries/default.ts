/**
 * `@drover/core` in a master, or any process but a worker: the exports of index.ts, with the
 * master's side loaded at once, as the master needs it to start. Workers are forked with
 * `--conditions=drover-worker` (master/launch.ts), under which the package resolves to index.ts
 * alone: a worker never compiles the master's side.
 */
import '../onDemand.js';

export * from '../index.js';
