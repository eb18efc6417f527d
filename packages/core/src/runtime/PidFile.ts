import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DroverError, describeValue } from '../errors.js';
import { hasProcFs, isDeadState, Process } from '../process/Process.js';
import type { ExitRecord } from '../status.js';
import { randomName } from './names.js';

/** What a master writes about itself: for humans, for `status`, and to find its socket. */
export interface PidRecord {
  pid: number;
  /** `/proc/<pid>/stat` field 22 of the master: tells the master from a process that got its pid later */
  startTime: number;
  baseTitle: string;
  /** epoch ms */
  startedAt: number;
  socket: string;
  version: string;
  /** the log file the master writes (background mode); absent for a master logging to its terminal */
  logFile?: string;
  /** only in a `<name>.ended` record a master left as it ended by itself with a failure: why */
  end?: GroupEnd;
}

/** A PIN that gave up, as the record of its master's end keeps it. */
export interface GaveUpPin {
  pin: number;
  restarts: number;
  lastExit: ExitRecord | null;
}

/**
 * Why a master ended by itself with exit code 1, kept in its `<name>.ended` record until a
 * `drover status` says it (once), for a group that no supervisor restarts.
 */
export interface GroupEnd {
  /** every PIN gave up (restart.maxRestarts) or finished normally, at least one having given up */
  reason: 'gave-up';
  /** when the master began to stop, epoch ms */
  at: number;
  /** how many PINs gave up */
  gaveUp: number;
  /** the first of them, lowest PIN first (at most MAX_END_PINS) */
  pins: GaveUpPin[];
}

/** The PINs a GroupEnd lists: enough to say why, few enough for a file of a few hundred bytes. */
export const MAX_END_PINS = 4;

/** A pid file is a few hundred bytes; anything much larger is not one. */
const MAX_PID_FILE_BYTES = 64 * 1024;

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function refuseUnsafe(path: string, stats: Stats): void {
  if (stats.isSymbolicLink()) {
    throw new DroverError(
      'EUNSAFE_PIDFILE',
      `drover: pid file '${path}' is a symbolic link; it is never followed`,
      {
        hint: 'remove the link',
      },
    );
  }
  if (!stats.isFile()) {
    throw new DroverError('EUNSAFE_PIDFILE', `drover: pid file '${path}' exists and is not a regular file`, {
      hint: 'remove it, or choose another run directory',
    });
  }
}

function malformed(path: string, problem: string): DroverError {
  return new DroverError('EBADPIDFILE', `drover: pid file '${path}' is malformed: ${problem}`, {
    hint: 'remove it if no master of this group is running',
  });
}

/** Returns a description of the first field of `value` that is not a valid PidRecord field, or null. */
function recordProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `expected an object, got ${describeValue(value)}`;
  const record = value as Record<string, unknown>;
  const checks: [keyof PidRecord, (v: unknown) => boolean, string][] = [
    ['pid', (v) => Number.isSafeInteger(v) && (v as number) > 0, 'a positive integer'],
    ['startTime', (v) => Number.isSafeInteger(v) && (v as number) >= 0, 'an integer >= 0'],
    ['baseTitle', (v) => typeof v === 'string' && v.length > 0, 'a non-empty string'],
    ['startedAt', (v) => Number.isSafeInteger(v) && (v as number) >= 0, 'an epoch in ms'],
    ['socket', (v) => typeof v === 'string', 'a string'],
    ['version', (v) => typeof v === 'string', 'a string'],
  ];
  for (const [key, valid, expected] of checks) {
    if (!valid(record[key])) return `'${key}' is ${describeValue(record[key])}, expected ${expected}`;
  }
  if (record.logFile !== undefined && typeof record.logFile !== 'string')
    return `'logFile' is ${describeValue(record.logFile)}, expected a string`;
  return record.end === undefined ? null : endProblem(record.end);
}

const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/** Returns a description of the first field of a GroupEnd that is not valid, or null. */
function endProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `'end' is ${describeValue(value)}, expected an object`;
  const end = value as Record<string, unknown>;
  if (end.reason !== 'gave-up') return `'end.reason' is ${describeValue(end.reason)}, expected 'gave-up'`;
  if (!isCount(end.at)) return `'end.at' is ${describeValue(end.at)}, expected an epoch in ms`;
  if (!isCount(end.gaveUp)) return `'end.gaveUp' is ${describeValue(end.gaveUp)}, expected an integer >= 0`;
  if (!Array.isArray(end.pins) || end.pins.length > MAX_END_PINS)
    return `'end.pins' is ${describeValue(end.pins)}, expected a list of at most ${MAX_END_PINS} PINs`;
  for (const [i, pin] of (end.pins as unknown[]).entries()) {
    const p = (typeof pin === 'object' && pin !== null ? pin : {}) as Record<string, unknown>;
    if (!isCount(p.pin) || !isCount(p.restarts) || (p.lastExit !== null && !isExitRecord(p.lastExit)))
      return `'end.pins[${i}]' is ${describeValue(pin)}, expected { pin, restarts, lastExit }`;
  }
  return null;
}

function isExitRecord(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    (e.code === null || Number.isSafeInteger(e.code)) &&
    (e.signal === null || typeof e.signal === 'string') &&
    typeof e.reason === 'string' &&
    isCount(e.at) &&
    (e.error === undefined || typeof e.error === 'string')
  );
}

/** Throws unless `path` is free or a regular file (never a link): a master checks before it forks. */
export function checkPidFilePath(path: string): void {
  const existing = lstatOrNull(path);
  if (existing) refuseUnsafe(path, existing);
}

/**
 * Writes `record` to `path` atomically: a private temp file in the same directory, created
 * exclusively and never through a link, then renamed over `path`. Refuses when `path` is a
 * symbolic link or anything but a regular file.
 */
export function writePidFile(path: string, record: PidRecord): void {
  const problem = recordProblem(record);
  if (problem)
    throw new DroverError('EINVAL', `drover: writePidFile('${path}') got a bad record: ${problem}`);
  checkPidFilePath(path);
  const temp = join(dirname(path), `.${basename(path)}.${randomName(12)}.tmp`);
  const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW } = constants;
  let fd: number;
  try {
    fd = openSync(temp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600);
  } catch (err) {
    throw ioError('write', path, err);
  }
  try {
    try {
      const pick: PidRecord = {
        pid: record.pid,
        startTime: record.startTime,
        baseTitle: record.baseTitle,
        startedAt: record.startedAt,
        socket: record.socket,
        version: record.version,
        ...(typeof record.logFile === 'string' ? { logFile: record.logFile } : {}),
        ...(record.end ? { end: record.end } : {}),
      };
      // the pid alone on the first line, as pid files have it (systemd's PIDFile=, `pgrep -F`,
      // `head -n1`); the record for drover on the second
      writeSync(fd, `${pick.pid}\n${JSON.stringify(pick)}\n`);
      // the umask may have narrowed the mode further; the file must be exactly 0600
      fchmodSync(fd, 0o600);
      // No fsync: the rename already makes the write atomic for readers, and after a power loss
      // the master is gone anyway; the next master, holding the lock, writes over a pid file
      // lost or left empty (fsync cost a few ms of every start on a real disk).
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // already renamed or never created
    }
    throw ioError('write', path, err);
  }
}

/** The fix for a pid file that cannot be read or written, by the error's code. */
const PIDFILE_HINTS: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full; free some space or set DROVER_RUN_DIR (runDir) to a directory on another disk',
  EDQUOT:
    'the disk quota is used up; free some space or set DROVER_RUN_DIR (runDir) to a directory on another disk',
  EROFS: 'its file system is read-only; set DROVER_RUN_DIR (runDir) to a directory on a writable file system',
};

function ioError(action: 'read' | 'write', path: string, err: unknown): DroverError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new DroverError('EPIDFILE', `drover: cannot ${action} pid file '${path}' (${code})`, {
    hint: PIDFILE_HINTS[code] ?? 'check that the run directory exists and is writable by this user',
    cause: err,
  });
}

/**
 * Reads a pid file: null when there is none. A symbolic link or a non-regular file is refused
 * (never followed or opened), and content that is not a pid record is an error naming the file.
 */
export function readPidFile(path: string): PidRecord | null {
  const before = lstatOrNull(path);
  if (!before) return null;
  refuseUnsafe(path, before);

  let fd: number;
  try {
    // O_NONBLOCK: a FIFO swapped in after the lstat must not hang the caller
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') refuseUnsafe(path, lstatSync(path));
    throw ioError('read', path, err);
  }
  let text: string;
  try {
    const stats = fstatSync(fd);
    refuseUnsafe(path, stats);
    if (stats.size > MAX_PID_FILE_BYTES)
      throw malformed(path, `${stats.size} bytes is too large for a pid file`);
    const buffer = Buffer.alloc(Math.max(stats.size, 1));
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    text = buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }

  return parsePidFile(path, text);
}

/** `<pid>\n<record as JSON>\n`; a record alone (as an earlier drover wrote it) is read too. */
function parsePidFile(path: string, text: string): PidRecord {
  if (text.trim() === '') throw malformed(path, 'it is empty');
  const eol = text.indexOf('\n');
  const firstLine = eol === -1 ? text : text.slice(0, eol);
  const recordOnly = text.trimStart().startsWith('{');
  if (!recordOnly && !/^[1-9][0-9]*$/.test(firstLine.trim()))
    throw malformed(path, `its first line is ${describeValue(firstLine)}, not a pid`);
  const json = recordOnly ? text : eol === -1 ? '' : text.slice(eol + 1);
  if (json.trim() === '')
    throw malformed(path, `it holds the pid ${firstLine.trim()} but no drover record on its second line`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw malformed(path, 'its record is not JSON');
  }
  const problem = recordProblem(parsed);
  if (problem) throw malformed(path, problem);
  const record = parsed as PidRecord;
  if (!recordOnly && record.pid !== Number(firstLine))
    throw malformed(path, `its first line names pid ${firstLine.trim()}, its record pid ${record.pid}`);
  return record;
}

/**
 * Whether the master a record describes is still running: its pid is alive and has the start time
 * the record saved. A pid recycled by another process has another start time. Without procfs the
 * start time cannot be read and only liveness is checked.
 */
export function isRecordLive(record: PidRecord): boolean {
  if (!Number.isSafeInteger(record.pid) || record.pid <= 0) return false;
  if (!hasProcFs()) return Process.checkAlive(record.pid);
  const stat = Process.stat(record.pid);
  return stat !== null && !isDeadState(stat.state) && stat.startTime === record.startTime;
}

/**
 * Removes the pid file only while it still names `pid`, so a master never deletes the file of a
 * successor. Returns whether it removed it; a missing, unsafe or malformed file is left alone.
 */
export function removePidFile(path: string, pid: number): boolean {
  let record: PidRecord | null;
  try {
    record = readPidFile(path);
  } catch {
    return false;
  }
  if (!record || record.pid !== pid) return false;
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * For a master ending by itself with a failure (`end`): leaves its record, with why, at
 * `endedFile` (`<name>.ended`) for the scan that reports it, and removes its pid file, only
 * while that names `pid`. The caller holds the group's lock. Returns whether it left the record;
 * when it cannot, the pid file is still removed.
 */
export function recordGroupEnd(path: string, endedFile: string, pid: number, end: GroupEnd): boolean {
  let record: PidRecord | null;
  try {
    record = readPidFile(path);
  } catch {
    return false; // unsafe or malformed: not ours
  }
  if (!record || record.pid !== pid) return false;
  let left = true;
  try {
    writePidFile(endedFile, { ...record, end });
  } catch {
    left = false; // a full disk, say: the log still says why the group ended
  }
  removePidFile(path, pid);
  return left;
}

/**
 * Moves the pid file of a master that ended without stopping to `endedFile` (`<name>.ended`),
 * while it still holds `record` and that master is gone, so that what it says (the pid, the log)
 * waits there for the scan that reports it, whoever found it first. The caller holds the group's
 * lock. Returns whether it moved it; an older record there is replaced by this newer one.
 */
export function entombPidFile(path: string, endedFile: string, record: PidRecord): boolean {
  let now: PidRecord | null;
  try {
    now = readPidFile(path);
  } catch {
    return false; // unsafe or malformed: not ours to judge or move
  }
  if (!now || now.pid !== record.pid || now.startTime !== record.startTime || isRecordLive(now)) return false;
  try {
    renameSync(path, endedFile);
    return true;
  } catch {
    return false; // gone meanwhile
  }
}

/**
 * Takes the record an `entombPidFile` left at `endedFile`: null when there is none, or when
 * another caller took it first (the rename decides), so each is taken once.
 */
export function claimEndedRecord(endedFile: string): PidRecord | null {
  const claim = join(dirname(endedFile), `.${basename(endedFile)}.${randomName(12)}.claim`);
  try {
    renameSync(endedFile, claim);
  } catch {
    return null; // none, or taken by another caller
  }
  try {
    return readPidFile(claim);
  } catch {
    return null; // unsafe or malformed: nothing to say of it
  } finally {
    try {
      unlinkSync(claim);
    } catch {
      // not a file we can remove: left alone
    }
  }
}
