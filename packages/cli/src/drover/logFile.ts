import { readdirSync, readlinkSync, type Stats, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type GroupStatus, Manage, type RunStatus } from '@drover/core';
import {
  ControlClient,
  findConfigFile,
  loadGroupsConfig,
  manageFromEntry,
  type RunningGroup,
} from '@drover/core/control';
import { type ErrorStream, otherUsersNote, scanRunDir } from './groups.js';

/**
 * How long the log file of a running group may be missing before that is said: a rotation
 * closes it, renames it away and creates it again within milliseconds.
 */
export const ROTATION_GAP_MS = 1500;
const RECHECK_MS = 20;
/** a master that does not answer `status` this fast is looked at through /proc instead */
const STATUS_TIMEOUT_MS = 1000;

/**
 * The group's log file: the one its entry in ./drover.config.* sets when there is such an entry
 * (it may name its own logDir), else the default under the run directory.
 */
export async function configuredLogFile(name: string): Promise<string> {
  const config = findConfigFile(process.cwd());
  if (config !== null) {
    const entry = (await loadGroupsConfig(config)).find((e) => e.baseTitle === name);
    if (entry) return manageFromEntry(entry).logFile();
  }
  return defaultLogFile(name);
}

/** `<run dir>/logs/<name>.log`: where a group without a logDir of its own logs. */
export function defaultLogFile(name: string): string {
  return new Manage({ baseTitle: name }).logFile();
}

/**
 * The log file to read. For a running group, the one its master writes (wherever its logDir is;
 * the default path may hold an older run's log): the file its status names, or for a master
 * that does not name it (an older drover) the one it holds open. For a group whose master ended
 * without stopping, found now (said on `stderr`), the file its pid file named. Else the file
 * `stopped()` gives, asked only then: the config file of this directory is read for a stopped
 * group alone. Throws a message naming the path and the fix when there is none to read. A file
 * missing in the middle of a rotation is waited for until `deadline` (epoch ms).
 */
export async function checkLogFile(
  name: string,
  stopped: () => Promise<string>,
  deadline: number,
  stderr: ErrorStream | null = null,
): Promise<string> {
  const scan = await scanRunDir(stderr, [name]).catch(() => null);
  const running = scan?.running[0];
  if (!running) {
    // root, whose run directory lacks a group another user runs (a docker exec into a container of a USER)
    const note = otherUsersNote(name);
    let file: string;
    try {
      file = existingFile(name, scan?.ended[0]?.logFile ?? (await stopped()), null);
    } catch (error) {
      if (note !== null && error instanceof Error) error.message += `; ${note}`;
      throw error;
    }
    if (note !== null)
      stderr?.write(
        `drover: warning: this is the log of an earlier run of '${name}' by this user; ${note}\n`,
      );
    return file;
  }
  const run = await runStatusOf(running);
  if (run?.logFile) return masterLogFile(name, running.pid, run.logFile, deadline);
  // A master that says what it runs but names no log file logs to its terminal (or through a
  // logger of its own); one that says nothing is an older drover: what it holds open tells, once
  // a rotation in progress has had the time to open the new file.
  const open = run ? openLogFiles(running.pid, name) : await openLogFilesWithin(running.pid, name, deadline);
  // null: the master's descriptors cannot be read (another user's process): trust the configured one
  if (open === null) return existingFile(name, await stopped(), running);
  const live = open.find((f) => !f.deleted);
  if (live) return live.path;
  const configured = await stopped();
  const deleted = open.find((f) => f.path === configured) ?? open[0];
  if (deleted) throw deletedError(name, running.pid, deleted);
  throw new Error(
    `group '${name}' (pid ${running.pid}) writes no log file: it runs in the foreground, and its log goes to the terminal it was started from; start it with -d for a log file`,
  );
}

/** What the master of `group` runs, from its status; null when it does not say (an older drover, or no answer). */
async function runStatusOf(group: RunningGroup): Promise<RunStatus | null> {
  let client: ControlClient;
  try {
    client = await ControlClient.connect(group.socket, { timeoutMs: STATUS_TIMEOUT_MS });
  } catch {
    return null;
  }
  try {
    const status = await client.request<GroupStatus>('status', undefined, { timeoutMs: STATUS_TIMEOUT_MS });
    const run = status?.master?.run;
    return run && typeof run === 'object' ? run : null;
  } catch {
    return null;
  } finally {
    client.close();
  }
}

/** `file`, the log file the master of `name` says it writes, once it exists (a rotation creates it again). */
async function masterLogFile(name: string, pid: number, file: string, deadline: number): Promise<string> {
  for (;;) {
    const stats = statOrThrow(file);
    if (stats?.isFile()) return file;
    if (stats) throw notAFile(name, file);
    if (Date.now() >= deadline) break;
    await delay(RECHECK_MS);
  }
  const deleted = openLogFiles(pid, name)?.find((f) => f.deleted && f.path === file);
  if (deleted) throw deletedError(name, pid, deleted);
  throw new Error(
    `the log file ${file} of group '${name}' (pid ${pid}) is missing; its master begins a new one there as soon as it can make it (try again in a moment)`,
  );
}

function deletedError(name: string, pid: number, file: OpenLogFile): Error {
  return new Error(
    `the log file ${file.path} of group '${name}' (pid ${pid}) was deleted while the group runs; ` +
      `its master begins a new one there as soon as it can make it (try again in a moment); ` +
      `until then its lines go to the deleted file: 'tail -f /proc/${pid}/fd/${file.fd}' reads it`,
  );
}

/** `file` when it is a readable file; else a message that says why not and what to do. */
function existingFile(name: string, file: string, running: RunningGroup | null): string {
  const stats = statOrThrow(file);
  if (stats?.isFile()) return file;
  if (stats) throw notAFile(name, file);
  throw new Error(
    running
      ? `no log file for group '${name}' at ${file}, and the files its master (pid ${running.pid}) writes cannot be seen from this user`
      : `no log file for group '${name}' at ${file}; log files are written in background mode (start it with -d)`,
  );
}

/**
 * The stats of `file`, null when there is none; a file that cannot be looked at (a log directory
 * this user may not search) throws what an unreadable file gets, with the fix.
 */
function statOrThrow(file: string): Stats | null {
  try {
    return statSync(file, { throwIfNoEntry: false }) ?? null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw unreadable(file, code, error);
  }
}

/** `cannot read log file '<file>' (EACCES); check ...`: an unreadable log file, or its directory. */
export function unreadable(file: string, code: string, cause?: unknown): Error {
  const dir = dirname(file);
  return new Error(
    `cannot read log file '${file}' (${code}); check that this user may read it and search its directory (ls -ld ${dir} ${file}), or run the command as the user the group runs as`,
    { cause },
  );
}

function notAFile(name: string, file: string): Error {
  return new Error(
    `the log file of group '${name}', ${file}, is not a file (a directory or another kind); remove or rename it, and drover writes its log there again`,
  );
}

interface OpenLogFile {
  path: string;
  fd: string;
  deleted: boolean;
}

/** openLogFiles, looked at again until it finds a live file or `deadline` passes. */
async function openLogFilesWithin(
  pid: number,
  name: string,
  deadline: number,
): Promise<OpenLogFile[] | null> {
  for (;;) {
    const open = openLogFiles(pid, name);
    if (open === null || open.some((f) => !f.deleted) || Date.now() >= deadline) return open;
    await delay(RECHECK_MS);
  }
}

/**
 * The files named `<name>.log` that process `pid` holds open (its log files, wherever its logDir
 * is), with the fd through which it writes each; null when its descriptors cannot be read.
 */
function openLogFiles(pid: number, name: string): OpenLogFile[] | null {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null; // another user's process, or no /proc
  }
  const found: OpenLogFile[] = [];
  const suffix = `/${name}.log`;
  for (const fd of fds) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const deleted = link.endsWith(' (deleted)');
      const path = deleted ? link.slice(0, -' (deleted)'.length) : link;
      if (path.endsWith(suffix)) found.push({ path, fd, deleted });
    } catch {
      // closed meanwhile
    }
  }
  return found;
}
