import type { ResolvedRestartPolicy } from '../config.js';
import type { Logger } from '../log/Logger.js';
import type { WorkerInfo } from '../master/events.js';
import { RestartPolicy } from '../master/RestartPolicy.js';
import type { ExitReason } from '../status.js';
import type { QueueStats } from '../queue/QueueBackend.js';
import type { Dispatcher, Lane } from './Dispatcher.js';
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
 * the worker it replaces). Temporary workers leave (reason 'idle') when the load no longer needs
 * them: one with nothing to do for idleTimeout, and, highest PIN first, those whose places the
 * peak load of the last idleTimeout (tasks in flight and waiting) would not have needed. The
 * dispatcher spreads a light load over every worker, so without the second rule no temporary
 * worker would ever be idle while tasks trickle in. A worker retired that way takes nothing new
 * and leaves once its tasks are done; it takes tasks again if the backlog comes back first.
 * A temporary worker that crashes is not started again by the group: the next
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
  /** [epoch ms, the most tasks held at once then]: the last idleTimeout of load, look by look */
  private readonly demand: [at: number, tasks: number][] = [];

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
    this.retire();
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
    this.demand.push([Date.now(), this.dispatcher.inFlight + backlog]);
    let free = this.dispatcher.freeSlots + this.starting.size * window;
    if (backlog <= free) return;
    // a temporary worker retired for want of load and still finishing its tasks is the quickest help
    for (const lane of this.dispatcher.allLanes()) {
      if (backlog <= free) break;
      if (!lane.retiring || !this.dispatcher.reopenLane(lane.pid)) continue;
      free = this.dispatcher.freeSlots + this.starting.size * window;
      this.log.info(`backlog came back: a retiring temporary worker takes tasks again`, {
        pin: lane.pin,
        pid: lane.pid,
        backlog,
      });
    }
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

  /**
   * Temporary workers the load no longer needs leave: one without a task for idleTimeout, and the
   * highest temporary PINs, ready for idleTimeout at least, whose places the peak of the last
   * idleTimeout would not have needed. Those take nothing new and are stopped once their tasks
   * are done.
   */
  private retire(): void {
    const now = Date.now();
    const { idleTimeout, window } = this.options;
    const peak = this.peakDemand(now);
    let accepting = 0;
    const temporaries: Lane[] = [];
    for (const lane of this.dispatcher.allLanes()) {
      if (lane.retiring) {
        // promoted to permanent by a scale up meanwhile: it stays
        if (!this.group.isTemporary(lane.pin)) this.dispatcher.reopenLane(lane.pid);
        else if (lane.load === 0) this.stopTemporary(lane);
        continue;
      }
      if (!lane.accepting) continue;
      accepting++;
      if (!this.group.isTemporary(lane.pin)) continue;
      if (lane.load === 0 && now - lane.idleSince >= idleTimeout) {
        accepting--;
        this.log.info(`temporary worker idle for ${idleTimeout} ms: stopping it`, {
          pin: lane.pin,
          pid: lane.pid,
        });
        this.stopTemporary(lane);
      } else temporaries.push(lane);
    }
    temporaries.sort((a, b) => b.pin - a.pin);
    for (const lane of temporaries) {
      if (peak > (accepting - 1) * window) break;
      // ready for idleTimeout first: a worker that was slow to start is not stopped on arrival
      if (now - lane.readyAt < idleTimeout) continue;
      accepting--;
      this.log.info(
        `temporary worker not needed: the peak of the last ${idleTimeout} ms (${peak} task(s)) fits in the other workers: stopping it once its tasks are done`,
        { pin: lane.pin, pid: lane.pid, running: lane.load },
      );
      this.dispatcher.retireLane(lane.pid);
      if (lane.load === 0) this.stopTemporary(lane);
    }
  }

  /** The most tasks held at once (in flight, and waiting here or in the queue) in the last idleTimeout. */
  private peakDemand(now: number): number {
    this.demand.push([now, this.dispatcher.takePeak()]);
    const since = now - this.options.idleTimeout;
    while (this.demand.length > 0 && this.demand[0]![0] < since) this.demand.shift();
    let peak = 0;
    for (const [, tasks] of this.demand) if (tasks > peak) peak = tasks;
    return peak;
  }

  private stopTemporary(lane: Lane): void {
    this.dispatcher.closeLane(lane.pid);
    this.group.retireTemporary(lane.pin);
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
