import { mkdirSync, statfsSync } from 'node:fs';
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
 */
export function makeDirectory(dir: string, mode: number): string | undefined {
  if (onKernelFileSystem(dir)) {
    throw Object.assign(new Error(`'${dir}' ${ON_KERNEL_FS}`), { code: 'EKERNELFS' });
  }
  return mkdirSync(dir, { recursive: true, mode });
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
