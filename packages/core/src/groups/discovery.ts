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

const PING_TIMEOUT_MS = 1000;

/**
 * The masters running in `runDir` (default: this user's run directory), sorted by name. A group
 * counts as running when its control socket answers `ping` (so a master whose pid file was
 * deleted is still found), or when its socket is gone but its pid file names a live master
 * (same pid and start time). What a killed master left behind (a socket nobody listens on, a
 * pid file whose process is dead or is another process now) is removed, but only while holding
 * the group's single-instance lock, so a master starting at that moment never loses its files.
 * A run directory that does not exist has no groups; one this user cannot read throws ERUNDIR.
 */
export async function runningGroups(runDir: string = defaultRunDir()): Promise<RunningGroup[]> {
  const names = listGroups(runDir);
  const found = await Promise.all(names.map((name) => probeGroup(runDir, name)));
  return found.filter((g): g is RunningGroup => g !== null);
}

/** The running master of one group in `runDir`, or null (cleaning what a dead one left, as above). */
export async function probeGroup(runDir: string, baseTitle: string): Promise<RunningGroup | null> {
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
  await cleanStale(paths, record);
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

/** Removes a dead master's socket and pid file, if no master holds the group's lock. */
async function cleanStale(paths: GroupPaths, record: PidRecord | null): Promise<void> {
  const lock = await InstanceLock.acquire(paths.lockName).catch(() => null);
  if (!lock) return; // a master holds it: starting, or alive without its files
  try {
    if (record) removeIf(paths.pidFile, (s) => s.isFile());
    removeIf(paths.socket, (s) => s.isSocket());
  } finally {
    await lock.release();
  }
}

function removeIf(path: string, test: (stats: Stats) => boolean): void {
  try {
    if (test(lstatSync(path))) unlinkSync(path);
  } catch {
    // already gone
  }
}
