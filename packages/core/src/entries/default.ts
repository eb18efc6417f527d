/**
 * `@drover/core` in a master, or any process but a worker: the exports of index.ts, with the
 * master's side loaded at once, as the master needs it to start. Workers are forked with
 * `--conditions=drover-worker` (master/launch.ts), under which the package resolves to index.ts
 * alone: a worker whose script imports only `@drover/core` does not compile the master's side
 * (one that imports `@drover/core/control` or `/master`, directly or through `@drover/cli`, does).
 */
import { provideMasterSide } from '../masterSide.js';
import * as side from '../onDemand.js';

provideMasterSide(side);

export * from '../index.js';
