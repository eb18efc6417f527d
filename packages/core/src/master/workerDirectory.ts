import { statSync } from 'node:fs';

/**
 * Why the workers' directory (`cwd`) cannot take a worker, or null. A missing one makes the fork
 * fail with `spawn <node> ENOENT`, which names the node binary, not the directory.
 */
export function workerDirectoryProblem(cwd: string | undefined): string | null {
  if (cwd === undefined) return null;
  try {
    return statSync(cwd).isDirectory() ? null : `the workers' directory (cwd) '${cwd}' is not a directory`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `the workers' directory (cwd) '${cwd}' does not exist`
      : `the workers' directory (cwd) '${cwd}' cannot be used (${code})`;
  }
}
