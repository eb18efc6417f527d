import { escapeControl } from '../log/format.js';
import type { GroupEnd } from '../runtime/PidFile.js';
import type { ExitRecord, GroupStatus, WorkerStatus } from '../status.js';
import { describeExit } from './StatusTable.js';
import { formatWait } from './units.js';

/**
 * A PIN that a running group cannot count on: its worker crash-loops (`backoff`, or respawned
 * and not yet stable after fast crashes in a row: `crashStreak`), the restart policy gave up
 * on it (`failed`), or its process is stopped by a signal (`suspended`). A worker that finished
 * normally, a group scaled down, a single crash that was respawned at once and a reload's
 * successor still starting are not problems.
 */
export interface PinProblem {
  pin: number;
  /**
   * `crash-loop`: in backoff, or respawned after fast crashes and not yet stable; `suspended`:
   * its process is stopped by a signal and runs nothing until SIGCONT
   */
  kind: 'crash-loop' | 'given-up' | 'suspended';
  worker: WorkerStatus;
}

/** The PINs of `group` that no worker serves against the group's will, lowest first. */
export function pinProblems(group: GroupStatus): PinProblem[] {
  const problems: PinProblem[] = [];
  for (const worker of group.workers) {
    if (worker.state === 'failed') problems.push({ pin: worker.pin, kind: 'given-up', worker });
    else if (worker.suspended) problems.push({ pin: worker.pin, kind: 'suspended', worker });
    else if (worker.state === 'backoff' || (worker.crashStreak ?? 0) >= 2) {
      problems.push({ pin: worker.pin, kind: 'crash-loop', worker });
    }
  }
  return problems.sort((a, b) => a.pin - b.pin);
}

/**
 * One line on what a degraded group lacks, for stderr and monitors; null when every PIN is
 * served. `drover status` exits 3 when it prints one.
 */
export function describeDegraded(group: GroupStatus, now = Date.now()): string | null {
  const problems = pinProblems(group);
  if (problems.length === 0) return null;
  const name = escapeControl(group.master.baseTitle);
  const parts = problems.slice(0, 4).map((p) => describePin(p, now));
  if (problems.length > 4) parts.push(`${problems.length - 4} more`);
  return `'${name}' is degraded: ${parts.join('; ')}`;
}

function describePin(p: PinProblem, now: number): string {
  const w = p.worker;
  const exit = w.lastExit ? `, last exit ${describeExit(w.lastExit, now)}` : '';
  if (p.kind === 'suspended') {
    return `worker ${p.pin} (pid ${w.pid}) suspended: stopped by a signal, it runs nothing until 'kill -CONT ${w.pid}'`;
  }
  if (p.kind === 'given-up') return givenUp(p.pin, w.restarts, w.lastExit, now);
  const streak = w.crashStreak !== undefined ? `, ${w.crashStreak} fast crashes in a row` : '';
  const phase =
    w.state === 'backoff'
      ? w.nextStartAt !== undefined
        ? `, next start in ${formatWait(w.nextStartAt - now)}`
        : ''
      : `, ${w.state} again`;
  return `worker ${p.pin} crash-looping (${w.restarts} restart(s)${streak}${phase})${exit}`;
}

function givenUp(pin: number, restarts: number, lastExit: ExitRecord | null, now: number): string {
  const exit = lastExit ? `, last exit ${describeExit(lastExit, now)}` : '';
  return `worker ${pin} given up after ${restarts} restart(s) (restart.maxRestarts)${exit}`;
}

/**
 * Why a group gave up, from the record its master left (`EndedGroup.end`), in the words of
 * describeDegraded: `worker 0 given up after 5 restart(s) (restart.maxRestarts), last exit code 1,
 * crash, 2m ago: Error: boom`.
 */
export function describeGroupEnd(end: GroupEnd, now = Date.now()): string {
  const parts = end.pins.map((p) => givenUp(p.pin, p.restarts, p.lastExit, now));
  if (end.gaveUp > end.pins.length) parts.push(`${end.gaveUp - end.pins.length} more given up`);
  return parts.join('; ');
}
