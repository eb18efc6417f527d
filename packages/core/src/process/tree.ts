import { setTimeout as delay } from 'node:timers/promises';
import { isDeadState, Process } from './Process.js';

/** A process as found at one moment: the start time tells it from a later process with its pid. */
export interface ProcessRef {
  readonly pid: number;
  readonly startTime: number;
}

const POLL_MS = 20;
const KILL_WAIT_MS = 100;

/** Whether `ref` still runs: the same pid with the same start time, and not a zombie. */
export function isStillRunning(ref: ProcessRef): boolean {
  const stat = Process.stat(ref.pid);
  return stat !== null && stat.startTime === ref.startTime && !isDeadState(stat.state);
}

/** Sends `signal` to `pid`; false when it is gone (or not ours to signal). */
export function signalQuietly(pid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to each of `refs` that still runs; a pid taken by another process is left alone. */
export function signalEach(refs: readonly ProcessRef[], signal: NodeJS.Signals): void {
  for (const ref of refs) if (isStillRunning(ref)) signalQuietly(ref.pid, signal);
}

/**
 * Ends every descendant of the live process `pid`: SIGTERM, up to `graceMs` for them to exit,
 * then SIGKILL for those left and for any started meanwhile. Those that outlived their parent
 * (re-parented to init) are still known from the first scan, by pid and start time.
 */
export async function endDescendants(
  pid: number,
  graceMs: number,
  found: readonly ProcessRef[] = Process.descendants(pid),
): Promise<void> {
  if (found.length === 0) return;
  let killed = await termThenKill(found, graceMs, () => Process.descendants(pid));
  // SIGKILL takes effect once the process is scheduled: wait that moment, so they are gone
  // before the caller (their parent) is.
  const killDeadline = Date.now() + KILL_WAIT_MS;
  killed = killed.filter(isStillRunning);
  while (killed.length > 0 && Date.now() < killDeadline) {
    await delay(5);
    killed = killed.filter(isStillRunning);
  }
}

/**
 * Ends processes whose parent is gone (a worker killed outright): SIGTERM, up to `graceMs` for
 * them to exit, then SIGKILL for those left and for what they started meanwhile. Each is known by
 * pid and start time, so a pid taken by another process is never signalled.
 */
export async function endProcesses(found: readonly ProcessRef[], graceMs: number): Promise<void> {
  if (found.length === 0) return;
  await termThenKill(found, graceMs, (left) => Process.descendantsOfAll(left.map((ref) => ref.pid)));
}

/**
 * SIGTERM to `found`, up to `graceMs` for them to exit, then SIGKILL to those left and to what
 * `startedSince(left)` finds that the first list did not have; resolves with those SIGKILLed.
 */
async function termThenKill(
  found: readonly ProcessRef[],
  graceMs: number,
  startedSince: (left: readonly ProcessRef[]) => ProcessRef[],
): Promise<ProcessRef[]> {
  signalEach(found, 'SIGTERM');
  const deadline = Date.now() + Math.max(0, graceMs);
  let left = found.filter(isStillRunning);
  while (left.length > 0 && Date.now() < deadline) {
    await delay(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
    left = left.filter(isStillRunning);
  }
  const known = new Set(found.map((ref) => ref.pid));
  const killed = [...left, ...startedSince(left).filter((ref) => !known.has(ref.pid))];
  signalEach(killed, 'SIGKILL');
  return killed;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * `endDescendants` for where nothing asynchronous can run any more (a process 'exit' listener):
 * the same SIGTERM, grace and SIGKILL, waiting with `Atomics.wait`.
 */
export function endDescendantsSync(
  pid: number,
  graceMs: number,
  found: readonly ProcessRef[] = Process.descendants(pid),
): void {
  if (found.length === 0) return;
  signalEach(found, 'SIGTERM');
  const deadline = Date.now() + Math.max(0, graceMs);
  let left = found.filter(isStillRunning);
  while (left.length > 0 && Date.now() < deadline) {
    Atomics.wait(sleeper, 0, 0, Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
    left = left.filter(isStillRunning);
  }
  const known = new Set(found.map((ref) => ref.pid));
  const late = Process.descendants(pid).filter((ref) => !known.has(ref.pid));
  signalEach([...left, ...late], 'SIGKILL');
}
