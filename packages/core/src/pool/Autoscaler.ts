import type { ResolvedRestartPolicy } from '../config.js';
import type { Logger } from '../log/Logger.js';
import type { WorkerInfo } from '../master/events.js';
import { RestartPolicy } from '../master/RestartPolicy.js';
import type { ExitReason } from '../status.js';
import type { QueueStats } from '../queue/QueueBackend.js';
import type { Dispatcher } from './Dispatcher.js';
import type { ScaleInfo } from './events.js';

/** What the autoscaler needs from the worker group. */
export interface ScalableGroup {
  /** `places`: live processes, and PINs wanted without one (see Master.slotCounts) */
  slotCounts(): { permanent: number; temporary: number; retiring: number; places: number };
  addTemporary(): WorkerInfo | null;
  retireTemporary(pin: number): boolean;
  isTemporary(pin: number): boolean;
}

export interface AutoscalerOptions {
  readonly maxWorkers: number;
  /** tasks one worker takes at once */
  readonly window: number;
  /** ms without a task after which a temporary worker leaves */
  readonly idleTimeout: number;
  /** ms between two looks at the backlog */
  readonly interval: number;
  /** the group's crash backoff: temporary workers that keep crashing are started again no faster */
  readonly restart: ResolvedRestartPolicy;
  /** the queue, for messages: `queue 'jobs' on Redis at 10.0.0.5:6379` */
  readonly queue: string;
  /** ms a read of the backlog may go unanswered before a warning says the queue does not answer */
  readonly silenceMs: number;
}

/** A read of the backlog under way. */
interface Reading {
  /** epoch ms it was sent */
  readonly since: number;
  /** the warning that the queue does not answer was logged */
  warned: boolean;
}

/**
 * Temporary workers, PHP-FPM ondemand style: when the tasks waiting (the backend's `ready` count,
 * shared by every master on a shared queue) exceed the free places in the workers' windows, it
 * starts temporary workers for the difference, up to maxWorkers processes (every live one counts:
 * a worker still finishing a task after a scale down or an idle stop, a successor starting beside
 * the worker it replaces); a temporary worker with nothing to do for idleTimeout is stopped
 * (reason 'idle'). A temporary worker that crashes is not started again by the group: the next
 * look starts one if the backlog still needs it, after the group's crash backoff when they keep
 * crashing. A queue that does not answer (Redis hung or down) holds no look: idle temporary workers
 * still leave, the read under way is waited for (one at a time), and a warning says the queue is
 * silent once it was for `silenceMs`; a line says when it answers again.
 */
export class Autoscaler {
  private timer: NodeJS.Timeout | null = null;
  private reading: Reading | null = null;
  /** temporary workers started and not ready yet, by pid */
  private readonly starting = new Set<number>();
  /** temporary workers alive, by pid: when each started */
  private readonly startedAt = new Map<number, number>();
  private readonly policy: RestartPolicy;
  /** fast crashes of temporary workers in a row (as RestartPolicy counts them) */
  private crashStreak = 0;
  /** no temporary worker starts before this (epoch ms) */
  private holdUntil = 0;

  constructor(
    private readonly options: AutoscalerOptions,
    private readonly group: ScalableGroup,
    private readonly dispatcher: Dispatcher,
    private readonly stats: () => Promise<QueueStats>,
    private readonly log: Logger,
    private readonly onScaleUp: (info: ScaleInfo) => void,
  ) {
    this.policy = new RestartPolicy(options.restart);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A worker became ready or left: it is no longer starting. */
  settled(pid: number): void {
    this.starting.delete(pid);
  }

  /** A temporary worker's process started (the autoscaler's, or a successor of one). */
  temporaryStarted(pid: number): void {
    this.startedAt.set(pid, Date.now());
  }

  /** A worker's process exited: a temporary one that crashed holds back the next start by the crash backoff. */
  exited(pid: number, reason: ExitReason): void {
    this.starting.delete(pid);
    const startedAt = this.startedAt.get(pid);
    this.startedAt.delete(pid);
    if (startedAt === undefined || (reason !== 'crash' && reason !== 'hang')) return;
    this.crashStreak = this.policy.nextStreak(this.crashStreak, Date.now() - startedAt);
    const delay = this.policy.delayFor(this.crashStreak) ?? this.options.restart.maxDelayMs;
    this.holdUntil = Date.now() + delay;
    if (delay > 0)
      this.log.warning(`temporary workers keep crashing: none starts for ${delay} ms`, {
        streak: this.crashStreak,
      });
  }

  /**
   * One look: stop idle temporary workers, then start new ones if the backlog calls for it. The
   * backlog is read once the last read answered: a look while it has not only retires.
   */
  async tick(): Promise<void> {
    if (!this.timer) return;
    this.retireIdle();
    if (this.reading) {
      this.checkSilence(this.reading);
      return;
    }
    const reading: Reading = { since: Date.now(), warned: false };
    this.reading = reading;
    try {
      const stats = await this.stats();
      if (reading.warned && this.timer)
        this.log.info(
          `${this.options.queue} answers again (it had not answered for ${seconds(Date.now() - reading.since)})`,
        );
      if (this.timer) this.grow(stats.ready + this.dispatcher.waiting);
    } catch (error) {
      // a read cut short by a stop is no news
      if (this.timer)
        this.log.warning(`autoscaler: cannot read the queue's backlog: ${(error as Error).message}`);
    } finally {
      this.reading = null;
    }
  }

  /** Says once per read that the queue has not answered for `silenceMs`. */
  private checkSilence(reading: Reading): void {
    const silent = Date.now() - reading.since;
    if (reading.warned || silent < this.options.silenceMs) return;
    reading.warned = true;
    this.log.warning(
      `${this.options.queue} has not answered for ${seconds(silent)}: no task is taken or acknowledged meanwhile; temporary workers still retire`,
    );
  }

  private grow(backlog: number): void {
    const { window, maxWorkers } = this.options;
    const free = this.dispatcher.freeSlots + this.starting.size * window;
    if (backlog <= free || Date.now() < this.holdUntil) return;
    const counts = this.group.slotCounts();
    // maxWorkers bounds processes, those still finishing included, not only the workers wanted
    const room = maxWorkers - counts.places;
    const wanted = Math.min(room, Math.ceil((backlog - free) / window));
    if (wanted <= 0) return;
    let started = 0;
    for (let i = 0; i < wanted; i++) {
      const info = this.group.addTemporary();
      if (!info) break;
      this.starting.add(info.pid);
      started++;
    }
    if (started === 0) return;
    const workers = counts.permanent + counts.temporary + started;
    this.log.info(`backlog outgrew the workers: starting ${started} temporary worker(s)`, {
      backlog,
      workers,
    });
    this.onScaleUp({ started, backlog, workers });
  }

  private retireIdle(): void {
    const now = Date.now();
    const { idleTimeout } = this.options;
    for (const lane of this.dispatcher.allLanes()) {
      if (!lane.accepting || lane.load > 0 || now - lane.idleSince < idleTimeout) continue;
      if (!this.group.isTemporary(lane.pin)) continue;
      this.dispatcher.closeLane(lane.pid);
      this.log.info(`temporary worker idle for ${idleTimeout} ms: stopping it`, {
        pin: lane.pin,
        pid: lane.pid,
      });
      this.group.retireTemporary(lane.pin);
    }
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
