import { lstatSync, type Stats, unlinkSync } from 'node:fs';
import { ControlClient } from '../control/ControlClient.js';
import { InstanceLock } from '../runtime/InstanceLock.js';
import { isRecordLive, type PidRecord, readPidFile } from '../runtime/PidFile.js';
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
 * A group whose master ended without stopping (SIGKILL, the OOM killer, a crash): what it left,
 * its pid file naming a process that is gone, was found and removed by this scan.
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
}

/** What a scan of a run directory found. */
export interface GroupScan {
  /** the masters running, sorted by name */
  running: RunningGroup[];
  /** the groups whose master ended without stopping, sorted by name: each is reported by one scan only */
  ended: EndedGroup[];
}

const PING_TIMEOUT_MS = 1000;

/**
 * The masters running in `runDir` (default: this user's run directory), sorted by name. A group
 * counts as running when its control socket answers `ping` (so a master whose pid file was
 * deleted is still found), or when its socket is gone but its pid file names a live master
 * (same pid and start time). What a killed master left behind (a socket nobody listens on, a
 * pid file whose process is dead or is another process now) is removed, but only while holding
 * the group's single-instance lock, so a master starting at that moment never loses its files.
 * A run directory that does not exist has no groups; one this user cannot read throws ERUNDIR.
 * `only`: the names to look at (default: every group of the run directory).
 */
export async function runningGroups(
  runDir: string = defaultRunDir(),
  only?: readonly string[],
): Promise<RunningGroup[]> {
  return (await scanGroups(runDir, only)).running;
}

/**
 * runningGroups, and the groups whose master ended without stopping: a pid file naming a master
 * that is gone, which this scan removed (with the socket). The scan that removes them is the only
 * one to report them, so a group's end is said once, by whichever command looked first. `only`:
 * the names to look at (default: every group of the run directory).
 */
export async function scanGroups(
  runDir: string = defaultRunDir(),
  only?: readonly string[],
): Promise<GroupScan> {
  const names = only === undefined ? listGroups(runDir) : listGroups(runDir).filter((n) => only.includes(n));
  const found = await Promise.all(names.map((name) => probe(runDir, name)));
  const scan: GroupScan = { running: [], ended: [] };
  for (const result of found) {
    if (result?.kind === 'running') scan.running.push(result.group);
    else if (result?.kind === 'ended') scan.ended.push(result.group);
  }
  return scan;
}

/** The running master of one group in `runDir`, or null (cleaning what a dead one left, as above). */
export async function probeGroup(runDir: string, baseTitle: string): Promise<RunningGroup | null> {
  const result = await probe(runDir, baseTitle);
  return result?.kind === 'running' ? result.group : null;
}

type Probe = { kind: 'running'; group: RunningGroup } | { kind: 'ended'; group: EndedGroup } | null;

async function probe(runDir: string, baseTitle: string): Promise<Probe> {
  let paths: GroupPaths;
  try {
    paths = groupPaths(runDir, baseTitle);
  } catch {
    return null; // a name whose socket path would be too long was never a group of ours
  }
  const pid = await ping(paths.socket, baseTitle);
  if (pid !== null)
    return { kind: 'running', group: { baseTitle, pid, socket: paths.socket, runDir: paths.dir } };

  const record = readRecord(paths.pidFile);
  if (record && isRecordLive(record)) {
    // alive without an answering socket: it may be starting, or its socket was deleted
    return {
      kind: 'running',
      group: { baseTitle, pid: record.pid, socket: paths.socket, runDir: paths.dir },
    };
  }
  const removed = await cleanStale(paths, record);
  if (!removed || !record) return null;
  return {
    kind: 'ended',
    group: {
      baseTitle,
      pid: record.pid,
      runDir: paths.dir,
      startedAt: record.startedAt,
      logFile: record.logFile ?? null,
    },
  };
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
 * Removes a dead master's socket and pid file, if no master holds the group's lock. Returns
 * whether it removed the pid file that `record` was read from (not one a master wrote since).
 */
async function cleanStale(paths: GroupPaths, record: PidRecord | null): Promise<boolean> {
  const lock = await InstanceLock.acquire(paths.lockName).catch(() => null);
  if (!lock) return false; // a master holds it (starting, or alive without its files), or another scan does
  try {
    let removed = false;
    if (record) {
      // read again under the lock: another scan may have removed it, and a master have come and gone
      const now = readRecord(paths.pidFile);
      if (now && now.pid === record.pid && now.startTime === record.startTime && !isRecordLive(now))
        removed = removeIf(paths.pidFile, (s) => s.isFile());
    }
    removeIf(paths.socket, (s) => s.isSocket());
    return removed;
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
