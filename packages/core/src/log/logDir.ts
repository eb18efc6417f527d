import { accessSync, closeSync, constants, lstatSync, openSync, type Stats, statSync } from 'node:fs';
import { DroverError } from '../errors.js';
import { makeDirectory, ON_KERNEL_FS } from '../runtime/makeDirectory.js';

export interface PrepareLogOptions {
  /**
   * The directory is drover's own (`<runDir>/logs`): it must not be a symbolic link, log files
   * are opened without following one, and the hints point at DROVER_RUN_DIR (no logDir was set).
   */
  inRunDir?: boolean;
}

const LOGDIR_HINTS: Readonly<Record<string, string>> = {
  EACCES:
    'give the user running drover write access to it, or set logDir (--log-dir) to a writable directory',
  EPERM: 'give the user running drover write access to it, or set logDir (--log-dir) to a writable directory',
  EROFS: 'its file system is read-only; set logDir (--log-dir) to a directory on a writable file system',
  ENOSPC: 'the disk is full; free some space or set logDir (--log-dir) to another disk',
  EDQUOT: 'the disk quota is used up; free some space or set logDir (--log-dir) to another disk',
  ENOTDIR: 'part of the path is a file, not a directory; set logDir (--log-dir) to a directory',
  EEXIST: 'the path exists and is not a directory; set logDir (--log-dir) to a directory',
  EISDIR: 'a directory stands where the log file should be; remove or rename it',
};
const LINK_HINT = 'drover never follows a symbolic link inside its run directory; remove the link';
/** No logDir was set: the logs live in the run directory, which DROVER_RUN_DIR moves. */
const RUNDIR_HINTS: Readonly<Record<string, string>> = {
  EACCES: 'give the user running drover write access to it, or set DROVER_RUN_DIR to a directory you own',
  EPERM: 'give the user running drover write access to it, or set DROVER_RUN_DIR to a directory you own',
  EROFS: 'its file system is read-only; set DROVER_RUN_DIR to a directory on a writable file system',
  ENOSPC: 'the disk is full; free some space or set DROVER_RUN_DIR to a directory on another disk',
  EDQUOT: 'the disk quota is used up; free some space or set DROVER_RUN_DIR to a directory on another disk',
  ENOTDIR: 'a file stands where the log directory should be; remove it',
  EEXIST: 'a file stands where the log directory should be; remove it',
  EISDIR: 'a directory stands where the log file should be; remove or rename it',
  ELOOP: LINK_HINT,
  ESYMLINK: LINK_HINT,
};

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? 'EUNKNOWN';
}

function logError(what: string, path: string, code: string, cause: unknown, inRunDir: boolean): DroverError {
  const problem =
    code === 'ELOOP' || code === 'ESYMLINK'
      ? 'is a symbolic link'
      : code === 'EKERNELFS'
        ? ON_KERNEL_FS
        : `cannot be written (${code})`;
  return new DroverError('ELOGDIR', `drover: ${what} '${path}' ${problem}`, {
    hint:
      (inRunDir ? RUNDIR_HINTS : LOGDIR_HINTS)[code] ??
      (inRunDir
        ? 'set DROVER_RUN_DIR to a directory you own'
        : 'set logDir (--log-dir) to a writable directory'),
    cause,
  });
}

/**
 * A log directory another user can write to lets that user plant a link where the next log file
 * (or the next one after a rotation, which reopens by path) will be opened: this process, root
 * often, would then append to whatever the link points at. So the directory must be this user's
 * (or root's, as /var/log) and closed to writes by others.
 */
function checkNoOneElseWrites(dir: string, stats: Stats, inRunDir: boolean): void {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  const owner = stats.uid === uid || (!inRunDir && stats.uid === 0);
  if (owner && (stats.mode & 0o002) === 0) return;
  const shared = (stats.mode & 0o1000) !== 0;
  const problem = !owner
    ? `belongs to uid ${stats.uid}, not to this user (uid ${uid})${inRunDir ? '' : ' or root'}`
    : shared
      ? `is shared by every user (sticky, mode ${(stats.mode & 0o7777).toString(8)}, as /tmp)`
      : `can be written by every user (mode ${(stats.mode & 0o7777).toString(8)})`;
  // chmod is the fix only for a directory of this user's that is merely too open
  const fix = inRunDir
    ? 'remove it: drover makes its own, or set DROVER_RUN_DIR to a directory you own'
    : owner && !shared
      ? `run 'chmod o-w ${dir}', or set logDir (--log-dir) to a directory of your own`
      : 'set logDir (--log-dir) to a directory of your own';
  throw new DroverError('EUNSAFE_LOGDIR', `drover: log directory '${dir}' ${problem}`, {
    hint: `another user could put a link there for this process to write through; ${fix}`,
  });
}

/** Flags that append to a log file, creating it, and never through a symbolic link when `noFollow`. */
export function logFileFlags(noFollow: boolean): number {
  return constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (noFollow ? constants.O_NOFOLLOW : 0);
}

/**
 * Makes sure `dir` exists (created 0700 when missing) and each file in it can be opened for
 * appending (created 0600 when missing). Throws a `DroverError` naming the path and the fix, so
 * a group with an unusable log directory fails before it forks anything.
 */
export function prepareLogFiles(dir: string, files: readonly string[], opts: PrepareLogOptions = {}): void {
  const inRunDir = opts.inRunDir ?? false;
  try {
    makeDirectory(dir, 0o700);
    if (inRunDir && lstatSync(dir).isSymbolicLink()) {
      throw Object.assign(new Error('symbolic link'), { code: 'ESYMLINK' });
    }
    const stats = statSync(dir);
    if (!stats.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'EEXIST' });
    accessSync(dir, constants.W_OK | constants.X_OK);
    checkNoOneElseWrites(dir, stats, inRunDir);
  } catch (error) {
    if (error instanceof DroverError) throw error;
    throw logError('log directory', dir, codeOf(error), error, inRunDir);
  }
  for (const file of files) {
    try {
      closeSync(openSync(file, logFileFlags(inRunDir), 0o600));
    } catch (error) {
      throw logError('log file', file, codeOf(error), error, inRunDir);
    }
  }
}
