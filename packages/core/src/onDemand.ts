/**
 * What a worker never runs: the master's life cycle, the task pool's master side, the daemon
 * launcher, the control client, the log sinks and the status table. The façades (Manage,
 * ManageMultiple, Pool) load it with `import()` when they first need it. A worker re-executes the
 * group's script, which imports '@drover/core' as its master does; this way it compiles only the
 * worker's side (docs/benchmarks.md, "Where a worker's start-up goes").
 */
export { ControlClient } from './control/ControlClient.js';
export { startDaemon } from './daemon/launcher.js';
export { runningGroups } from './groups/discovery.js';
export { ConsoleSink, colorWanted } from './log/ConsoleSink.js';
export { FileSink } from './log/FileSink.js';
export { Logger } from './log/Logger.js';
export { Master } from './master/Master.js';
export { Autoscaler } from './pool/Autoscaler.js';
export { Dispatcher } from './pool/Dispatcher.js';
export { PoolMaster } from './pool/PoolMaster.js';
export { isRecordLive, readPidFile } from './runtime/PidFile.js';
export { MemoryQueue } from './queue/MemoryQueue.js';
export { renderStatusTable } from './status/StatusTable.js';
