import { closeSync, constants, accessSync, mkdirSync, openSync, statSync } from 'node:fs';
import { DroverError } from '../errors.js';

const HINTS: Readonly<Record<string, string>> = {
  EACCES: 'give the user running drover write access to it, or set logDir to a writable directory',
  EPERM: 'give the user running drover write access to it, or set logDir to a writable directory',
  EROFS: 'its file system is read-only; set logDir to a directory on a writable file system',
  ENOSPC: 'the disk is full; free some space or set logDir to another disk',
  EDQUOT: 'the disk quota is used up; free some space or set logDir to another disk',
  ENOTDIR: 'part of the path is a file, not a directory; set logDir to a directory',
  EEXIST: 'the path exists and is not a directory; set logDir to a directory',
  EISDIR: 'a directory stands where the log file should be; remove or rename it',
};
const DEFAULT_HINT = 'set logDir to a writable directory';

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? 'EUNKNOWN';
}

function logError(what: string, path: string, code: string, cause: unknown): DroverError {
  return new DroverError('ELOGDIR', `drover: ${what} '${path}' cannot be written (${code})`, {
    hint: HINTS[code] ?? DEFAULT_HINT,
    cause,
  });
}

/**
 * Makes sure `dir` exists (created 0700 when missing) and each file in it can be opened for
 * appending (created 0600 when missing). Throws a `DroverError` naming the path and the fix, so
 * a group with an unusable log directory fails before it forks anything.
 */
export function prepareLogFiles(dir: string, files: readonly string[]): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'EEXIST' });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw logError('log directory', dir, codeOf(error), error);
  }
  for (const file of files) {
    try {
      closeSync(openSync(file, 'a', 0o600));
    } catch (error) {
      throw logError('log file', file, codeOf(error), error);
    }
  }
}
