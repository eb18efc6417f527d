import { mkdirSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Kernel file systems, by `statfs` magic number: no directory can be made in them. */
const KERNEL_FILE_SYSTEMS = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
]);

/** What a path on a kernel file system is refused with, by both run and log directories. */
export const ON_KERNEL_FS = 'is on a kernel file system (/proc, /sys), where no directory can be made';

/**
 * `mkdirSync(dir, { recursive: true, mode })`, returning the first directory it made. A path on
 * procfs is refused first (error code `EKERNELFS`): there Node 20's recursive mkdir gets ENOENT
 * for a parent it cannot create and retries it forever, a start that spins without a word.
 *
 * Node 20's recursive mkdir also says ENOENT for a directory it could not make for a cause it
 * does not expect (it stats the path after the failure, and the path is missing): a read-only
 * file system (EROFS) among them. On ENOENT the first missing component is made again, alone,
 * to learn the real cause; ENOENT stays when that is the answer again.
 */
export function makeDirectory(dir: string, mode: number): string | undefined {
  if (onKernelFileSystem(dir)) {
    throw Object.assign(new Error(`'${dir}' ${ON_KERNEL_FS}`), { code: 'EKERNELFS' });
  }
  let first: string | undefined;
  // each round makes one missing component, or throws: no more rounds than the path has parts
  for (let round = dir.split('/').length; ; round--) {
    try {
      const made = mkdirSync(dir, { recursive: true, mode });
      return first ?? made;
    } catch (err) {
      const found =
        round > 0 && (err as NodeJS.ErrnoException).code === 'ENOENT' ? makeFirstMissing(dir, mode) : null;
      if (found === null) throw err;
      first ??= found.made;
    }
  }
}

/**
 * Makes the first missing component of `dir` alone (the child of its nearest existing ancestor):
 * `made` is that directory, undefined when another process made it meanwhile. Throws why it
 * cannot be made, unless that is ENOENT again (or EEXIST for a path that is not a directory, a
 * dangling symbolic link): then null, and the recursive mkdir's ENOENT was the truth.
 */
function makeFirstMissing(dir: string, mode: number): { made: string | undefined } | null {
  if (exists(dir)) return { made: undefined };
  let missing = dir;
  while (dirname(missing) !== missing && !exists(dirname(missing))) missing = dirname(missing);
  try {
    mkdirSync(missing, { mode });
    return { made: missing };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'EEXIST') return isDirectory(missing) ? { made: undefined } : null;
    throw err;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Whether the nearest existing ancestor of `path` (or `path` itself) is on a kernel file system. */
function onKernelFileSystem(path: string): boolean {
  for (let at = path; ; at = dirname(at)) {
    try {
      return KERNEL_FILE_SYSTEMS.has(statfsSync(at).type);
    } catch {
      // missing (or not a directory): ask its parent
    }
    if (dirname(at) === at) return false;
  }
}
