import { lstatSync, type Stats, unlinkSync } from 'node:fs';
import { ControlClient } from '../control/ControlClient.js';
import { InstanceLock } from '../runtime/InstanceLock.js';
import {
  claimEndedRecord,
  entombPidFile,
  type GroupEnd,
  isRecordLive,
  type PidRecord,
  readPidFile,
} from '../runtime/PidFile.js';
import { defaultRunDir, type GroupPaths, groupPaths, listGroups } from '../runtime/RunDir.js';

/** A master found in a run directory. */
export interface RunningGroup {
  baseTitle: string;
  pid: number;
  /** its control socket */
  socket: string;
  /** the run directory it was found in, absolute */
  runDir: string;
}

/**
 * A group that ended unattended, recorded in `<name>.ended` until a scanGroups takes it: a master
 * that ended without stopping (SIGKILL, the OOM killer, a crash), its pid file naming a process
 * that is gone, found by this scan or by an earlier look that could not say it (runningGroups,
 * probeGroup, a Manage of a group not running, a master starting over it); or a master that gave
 * up (`end`): every worker gave up or finished, and it stopped and exited 1.
 */
export interface EndedGroup {
  baseTitle: string;
  /** the pid of its master, as its pid file named it */
  pid: number;
  /** the run directory it was found in, absolute */
  runDir: string;
  /** when its master started, epoch ms */
  startedAt: number;
  /** the log file its master wrote; null when its pid file does not say (a foreground master, or an older drover) */
  logFile: string | null;
  /** why its master ended by itself; null when it ended without stopping (killed, or crashed) */
  end: GroupEnd | null;
}

/** What a scan of a run directory found. */
export interface GroupScan {
  /** the masters running, sorted by name */
  running: RunningGroup[];
  /** the groups that ended unattended (killed, or gave up), sorted by name: each is reported by one scan only */
  ended: EndedGroup[];
}

const PING_TIMEOUT_MS = 1000;

/**
 * The masters running in `runDir` (default: this user's run directory), sorted by name. A group
 * counts as running when its control socket answers `ping` (so a master whose pid file was
 * deleted is still found), or when its socket is gone but its pid file names a live master
 * (same pid and start time). What a killed master left behind (a socket nobody listens on, a
 * pid file whose process is dead or is another process now) is cleaned, but only while holding
 * the group's single-instance lock, so a master starting at that moment never loses its files:
 * the socket is removed, the pid file moved to `<name>.ended`, where the next scanGroups (drover
 * status) finds it and says the master ended, once.
 * A run directory that does not exist has no groups; one this user cannot read throws ERUNDIR.
 * `only`: the names to look at (default: every group of the run directory).
 */
export async function runningGroups(
  runDir: string = defaultRunDir(),
  only?: readonly string[],
): Promise<RunningGroup[]> {
  return (await scan(runDir, only, false)).running;
}

/**
 * runningGroups, and the groups that ended unattended: a pid file naming a master that is gone,
 * which this scan or an earlier look (see runningGroups) moved to `<name>.ended`, or the record a
 * master that gave up left there; this scan takes them away. Only the scan that takes a record reports it, so a group's end
 * is said once, by whichever scanGroups came first. `only`: the names to look at (default: every
 * group of the run directory).
 */
export function scanGroups(runDir: string = defaultRunDir(), only?: readonly string[]): Promise<GroupScan> {
  return scan(runDir, only, true);
}

/** The scan of runningGroups (`report` false: the ended records stay) and scanGroups. */
async function scan(
  runDir: string,
  only: readonly string[] | undefined,
  report: boolean,
): Promise<GroupScan> {
  const names = only === undefined ? listGroups(runDir) : listGroups(runDir).filter((n) => only.includes(n));
  const found = await Promise.all(names.map((name) => probe(runDir, name)));
  const result: GroupScan = { running: [], ended: [] };
  for (const [i, group] of found.entries()) {
    if (group) result.running.push(group);
    const ended = report ? claimEnded(runDir, names[i] as string) : null;
    if (ended) result.ended.push(ended);
  }
  return result;
}

/** The running master of one group in `runDir`, or null (cleaning what a dead one left, as above). */
export function probeGroup(runDir: string, baseTitle: string): Promise<RunningGroup | null> {
  return probe(runDir, baseTitle);
}

/**
 * probeGroup for a start in the background that failed: the files of `daemonPid`, the daemon it
 * started and told of, are removed outright; an older master's are left to be said, as above.
 */
export function cleanAfterFailedStart(
  runDir: string,
  baseTitle: string,
  daemonPid: number | null,
): Promise<RunningGroup | null> {
  return probe(runDir, baseTitle, daemonPid);
}

/** The record `<baseTitle>.ended` held, taken away (null: none, or another scan took it). */
function claimEnded(runDir: string, baseTitle: string): EndedGroup | null {
  let paths: GroupPaths;
  try {
    paths = groupPaths(runDir, baseTitle);
  } catch {
    return null;
  }
  const record = claimEndedRecord(paths.endedFile);
  if (!record) return null;
  return {
    baseTitle,
    pid: record.pid,
    runDir: paths.dir,
    startedAt: record.startedAt,
    logFile: record.logFile ?? null,
    end: record.end ?? null,
  };
}

async function probe(
  runDir: string,
  baseTitle: string,
  quietPid: number | null = null,
): Promise<RunningGroup | null> {
  let paths: GroupPaths;
  try {
    paths = groupPaths(runDir, baseTitle);
  } catch {
    return null; // a name whose socket path would be too long was never a group of ours
  }
  const pid = await ping(paths.socket, baseTitle);
  if (pid !== null) return { baseTitle, pid, socket: paths.socket, runDir: paths.dir };

  const record = readRecord(paths.pidFile);
  if (record && isRecordLive(record)) {
    // alive without an answering socket: it may be starting, or its socket was deleted
    return { baseTitle, pid: record.pid, socket: paths.socket, runDir: paths.dir };
  }
  await cleanStale(paths, record, quietPid);
  return null;
}

/** The pid of the master of `baseTitle` answering on `socket`, or null. */
async function ping(socket: string, baseTitle: string): Promise<number | null> {
  let client: ControlClient;
  try {
    client = await ControlClient.connect(socket, { timeoutMs: PING_TIMEOUT_MS });
  } catch {
    return null;
  }
  try {
    const answer = await client.request<{ pid?: unknown; baseTitle?: unknown }>('ping', undefined, {
      timeoutMs: PING_TIMEOUT_MS,
    });
    return answer?.baseTitle === baseTitle && typeof answer.pid === 'number' ? answer.pid : null;
  } catch {
    return null;
  } finally {
    client.close();
  }
}

function readRecord(path: string): PidRecord | null {
  try {
    return readPidFile(path);
  } catch {
    return null; // unsafe or malformed: not ours to judge or remove
  }
}

/**
 * Cleans what a dead master left, if no master holds the group's lock: removes its socket, and
 * moves its pid file (the one `record` was read from, not one a master wrote since) to
 * `<name>.ended` for the scan that says it; the pid file of `quietPid` is removed outright.
 */
async function cleanStale(
  paths: GroupPaths,
  record: PidRecord | null,
  quietPid: number | null,
): Promise<void> {
  const lock = await InstanceLock.acquire(paths.lockName).catch(() => null);
  if (!lock) return; // a master holds it (starting, or alive without its files), or another scan does
  try {
    if (record) {
      // checked again under the lock: another scan may have moved it, and a master have come and gone
      if (record.pid === quietPid) {
        const now = readRecord(paths.pidFile);
        if (now && now.pid === record.pid && now.startTime === record.startTime && !isRecordLive(now))
          removeIf(paths.pidFile, (s) => s.isFile());
      } else entombPidFile(paths.pidFile, paths.endedFile, record);
    }
    removeIf(paths.socket, (s) => s.isSocket());
  } finally {
    await lock.release();
  }
}

function removeIf(path: string, test: (stats: Stats) => boolean): boolean {
  try {
    if (!test(lstatSync(path))) return false;
    unlinkSync(path);
    return true;
  } catch {
    return false; // already gone
  }
}
