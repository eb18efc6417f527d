import { DroverError } from '../errors.js';
import type { Logger } from '../log/Logger.js';
import { Master, type MasterOptions } from '../master/Master.js';
import type { GroupStatus } from '../status.js';

export interface PoolMasterOptions extends MasterOptions {
  /** The pool's bound on workers: permanent ones never pass it. */
  readonly maxWorkers: number;
}

/**
 * The master of a task pool: a worker group that never runs more than the pool's `maxWorkers`
 * processes. An explicit `scale(n)` past it (the API, `drover scale`) is refused; SIGTTIN stops
 * there, with a warning naming maxWorkers, since a signal has no one to answer. A recycle with no
 * room for a successor beside the old worker is not rolling, and a scale up starts a PIN once
 * the processes still finishing leave it room (see `roomFor`).
 */
export class PoolMaster extends Master {
  private readonly maxWorkers: number;
  private readonly logger: Logger;
  private poolSignalled = 0;
  private poolScaleQueued = false;

  constructor(options: PoolMasterOptions) {
    super(options);
    this.maxWorkers = options.maxWorkers;
    this.logger = options.logger;
  }

  /**
   * A pool's workers leave only when stopped, recycled or idle: one that exits by itself, even
   * with 0 (a handler calling process.exit), is lost, its tasks are retried and its PIN is
   * served again. As finished, it would hold a place of maxWorkers for good.
   */
  protected override finishesWith(): boolean {
    return false;
  }

  /** The group's status (here and through the control socket), without retired temporary PINs. */
  override async getAllStatus(): Promise<GroupStatus> {
    const status = await super.getAllStatus();
    // A retired temporary worker's PIN outlives its process for a moment, as 'starting' without a
    // pid: nothing starts there. (One whose replaced process still finishes shows it in `others`.)
    return {
      ...status,
      workers: status.workers.filter(
        (w) => !(w.kind === 'temporary' && w.pid === null && w.state === 'starting' && !w.others),
      ),
    };
  }

  /** maxWorkers counts every process: the workers wanted, and those still finishing. */
  protected override roomFor(extra: number): boolean {
    return this.slotCounts().places + extra <= this.maxWorkers;
  }

  override scale(workers: number): Promise<{ from: number; to: number }> {
    if (typeof workers === 'number' && Number.isInteger(workers) && workers > this.maxWorkers)
      return Promise.reject(
        new DroverError(
          'EINVAL',
          `drover: cannot scale pool '${this.config.baseTitle}' to ${workers} workers: its maxWorkers is ${this.maxWorkers}`,
          {
            hint: `give at most ${this.maxWorkers}, or start the pool with a higher maxWorkers (temporary workers fill the room up to it)`,
          },
        ),
      );
    return super.scale(workers);
  }

  override scaleBySignal(delta: 1 | -1): void {
    this.poolSignalled += delta;
    if (this.poolScaleQueued) return;
    this.poolScaleQueued = true;
    // A burst of signals is one scale, by its net count, taken when the queue reaches it: a
    // count read before an operation still queued (a reload, another scale) would be stale.
    void this.enqueue(async () => {
      this.poolScaleQueued = false;
      const net = this.poolSignalled;
      this.poolSignalled = 0;
      const current = this.slotCounts().permanent;
      const wanted = Math.max(Math.min(1, current), current + net);
      if (wanted > this.maxWorkers)
        this.logger.warning(
          `SIGTTIN: pool '${this.config.baseTitle}' stays at maxWorkers (${this.maxWorkers}) permanent workers; start it with a higher maxWorkers to go further`,
          { wanted },
        );
      const target = Math.min(wanted, this.maxWorkers);
      if (target !== current && !this.stopping) await this.applyScale(target);
    }).catch(() => {});
  }
}
