/**
 * `@drover/core/control`: for tools that find, start and control groups from outside (the
 * `drover` CLI is one): the control client, the running groups of a run directory, their logs,
 * the status table, and drover config files.
 */
export { ControlClient, type MasterAddress } from '../control/ControlClient.js';
export {
  type EnvRecord,
  type GroupSource,
  MASTER_MAX_LINE_BYTES,
  type PingResult,
  parseGroupSource,
} from '../control/protocol.js';
export { SocketGoneError } from '../control/SocketGoneError.js';
export {
  CONFIG_FILE_NAMES,
  changedEntryKeys,
  checkEntriesCanStart,
  findConfigFile,
  type GroupEntry,
  GroupsConfigError,
  isConfigFileName,
  loadGroupEntry,
  loadGroupsConfig,
  manageFromEntry,
  noSuchGroupError,
} from '../groups/config.js';
export {
  type EndedGroup,
  type GroupScan,
  type RunningGroup,
  runningGroups,
  scanGroups,
} from '../groups/discovery.js';
export {
  type MasterElsewhere,
  mastersElsewhere,
  type OtherUserMaster,
  otherUsersMasters,
} from '../groups/elsewhere.js';
export { lastLines, type TailOptions, tailLog } from '../groups/logs.js';
export { colorWanted } from '../log/ConsoleSink.js';
export { escapeControl } from '../log/format.js';
export { groupRunOutput, outputFileOf, type RunOutput } from '../log/outputFile.js';
export { RELOAD_STOPPING } from '../master/events.js';
export { isDaemonProcess } from '../daemon/role.js';
export { defaultRunDir } from '../runtime/RunDir.js';
export type { GaveUpPin, GroupEnd } from '../runtime/PidFile.js';
export { describeDegraded, describeGroupEnd, type PinProblem, pinProblems } from '../status/GroupHealth.js';
export { describeExit, renderStatusTable, type StatusTableOptions } from '../status/StatusTable.js';
export { formatBytes, formatClock, formatDuration, formatPercent } from '../status/units.js';
