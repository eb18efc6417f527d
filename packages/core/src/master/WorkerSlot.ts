import type { ExitRecord, WorkerState } from '../status.js';
import type { WorkerHandle } from './WorkerHandle.js';

/**
 * One PIN of a group. The PIN outlives its processes: a respawned or replaced worker gets the
 * same PIN, and the slot keeps the history (restarts, crash streak, last exit).
 */
export class WorkerSlot {
  /** the process serving this PIN now */
  current: WorkerHandle | null = null;
  /** its successor while a reload or recycle replaces it */
  replacement: WorkerHandle | null = null;
  /**
   * Replaced processes still finishing their last execution: a stop, a forced stop and the
   * reaper must reach them too, or they would outlive the master.
   */
  readonly retiring = new Set<WorkerHandle>();
  restarts = 0;
  /** consecutive fast crashes (see RestartPolicy) */
  crashStreak = 0;
  lastExit: ExitRecord | null = null;
  /** why the last replacement of this PIN did not become ready (a reload's abort says it) */
  replaceError: string | null = null;
  /** pending respawn after a crash */
  backoffTimer: NodeJS.Timeout | null = null;
  nextStartAt: number | null = null;
  /** recycle timer (limitSeconds) of the current process */
  ageTimer: NodeJS.Timeout | null = null;
  /** ended normally: not respawned */
  finished = false;
  /** respawn gave up (restart.maxRestarts) */
  failed = false;
  /** removed by a scale-down: not respawned */
  retired = false;
  /** restart() is stopping this PIN's processes and starts it again itself: no respawn meanwhile */
  restarting = false;

  constructor(
    readonly pin: number,
    /** a temporary PIN (task pool) is not scaled away and leaves when idle; a scale-up promotes it */
    public kind: 'permanent' | 'temporary' = 'permanent',
  ) {}

  /** Every live process of this PIN: one, or more during a replacement. */
  handles(): WorkerHandle[] {
    const list: WorkerHandle[] = [];
    if (this.current?.alive) list.push(this.current);
    if (this.replacement?.alive) list.push(this.replacement);
    for (const old of this.retiring) if (old.alive) list.push(old);
    return list;
  }

  state(stopping: boolean): WorkerState {
    if (this.finished) return 'finished';
    if (this.failed) return 'failed';
    if (this.backoffTimer) return 'backoff';
    const h = this.current;
    if (!h?.alive) return stopping ? 'stopped' : 'starting';
    if (h.state === 'draining') return 'draining';
    return h.state === 'ready' ? 'ready' : 'starting';
  }

  clearTimers(): void {
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    if (this.ageTimer) clearTimeout(this.ageTimer);
    this.backoffTimer = null;
    this.ageTimer = null;
    this.nextStartAt = null;
  }
}
