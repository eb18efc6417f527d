import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const LOG_ENTRY = fileURLToPath(new URL('../../../packages/core/src/log/index.ts', import.meta.url));

/** A fresh directory under the system temp dir; remove it with `removeDir`. */
export function makeTempDir(prefix = 'drover-log-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function removeDir(dir: string | undefined): Promise<void> {
  return dir ? rm(dir, { recursive: true, force: true }) : Promise.resolve();
}

/**
 * Child processes cannot run `.ts` (Node 20): the log module and its dependencies are bundled
 * into one `.mjs` file the child fixtures import. Returns the bundle's path.
 */
export async function bundleLogModule(dir: string): Promise<string> {
  const file = join(dir, 'drover-log.mjs');
  await build({
    input: LOG_ENTRY,
    platform: 'node',
    logLevel: 'silent',
    output: { file, format: 'esm' },
  });
  await chmod(dir, 0o755);
  await chmod(file, 0o644);
  return file;
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Resolves when the child has exited and its stdio streams are closed, or rejects after `timeoutMs`. */
export function closeOf(child: ChildProcess, timeoutMs = 20_000): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`child ${child.pid} still running after ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/** SIGKILLs the child if it is still running and waits for its exit. */
export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = exitOf(child);
  child.kill('SIGKILL');
  await exited;
}
