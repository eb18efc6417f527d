import { type MasterMessage, serializeError, type TaskMessage, type TaskOutcome } from '../ipc/messages.js';
import type { Delivery } from '../queue/QueueBackend.js';
import { reviveError, taskStuckError, workerLostError } from './errors.js';

/** One delivery the master holds until its outcome arrives. */
export interface Job {
  readonly seq: number;
  readonly delivery: Delivery;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  /** the worker running it, null while it waits here */
  lane: Lane | null;
  /** epoch ms it left for its worker */
  sentAt: number;
  /** the dispatcher's `blind` ms when it left: what the master's stalls since then add */
  blindAtSend: number;
  /** its worker said the attempt settled; the outcome is crossing the channel (not stuck) */
  settling?: boolean;
}

/** The master's channel to one worker process: its window of tasks in flight. */
export class Lane {
  readonly inFlight = new Map<number, Job>();
  /** false once the worker is stopping, retiring or stuck: nothing new goes there */
  accepting = true;
  /**
   * Closed by the autoscaler only (a temporary worker the load no longer needs, finishing what it
   * runs): it may take tasks again if the load comes back before it left. A close for any other
   * reason (stopping, stuck) clears it.
   */
  retiring = false;
  /** epoch ms the worker became ready */
  readonly readyAt = Date.now();
  /** epoch ms since which nothing runs here */
  idleSince = this.readyAt;
  outbox: TaskMessage[] = [];

  constructor(
    readonly pid: number,
    readonly pin: number,
    readonly send: (message: MasterMessage) => boolean,
  ) {}

  get load(): number {
    return this.inFlight.size;
  }
}

export interface DispatchHooks {
  /** an attempt left for `lane` */
  started(job: Job, lane: Lane): void;
  /** an attempt's outcome is known (a value, an error, or its worker is gone) */
  settled(job: Job, lane: Lane, error: Error | undefined, value: unknown): void;
  /** a task ran past taskTimeout + grace: `lane`'s worker should be replaced */
  stuck(lane: Lane): void;
  /** the number of tasks the workers can take changed */
  capacityChanged(): void;
}

export interface DispatchOptions {
  /** tasks in flight per worker */
  readonly window: number;
  /** ms; 0 = no limit */
  readonly taskTimeout: number;
  readonly taskTimeoutGrace: number;
  /**
   * Watch each delivery's signal and pass an abort on to the worker. Worth it where a lease can
   * be lost while a task runs (a shared queue); reading a delivery's signal costs an
   * AbortController per task.
   */
  readonly forwardAborts: boolean;
}

/**
 * Hands deliveries to worker processes and settles them with the outcomes that come back. Each
 * worker has at most `window` tasks in flight; the least loaded worker gets the next one (the
 * lowest PIN on a tie), which spreads a load over every worker: a worker is one event loop, and
 * CPU-bound tasks should not pile onto one. The autoscaler retires the temporary workers that
 * load does not need from its peak (see `takePeak`). Tasks that become ready in the same turn of
 * the event loop travel to a worker in one message.
 */
export class Dispatcher {
  private readonly lanes = new Map<number, Lane>();
  private pending: Job[] = [];
  private seq = 0;
  private inFlightCount = 0;
  /** the most tasks held here at once (in flight and pending) since the last takePeak */
  private peak = 0;
  private flushScheduled = false;
  private idleWaiters: (() => void)[] = [];
  private stuckTimer: NodeJS.Timeout | null = null;
  /** ms between two looks for stuck tasks */
  private readonly stuckEvery: number;
  /** ms a tick or a look may come late before the excess counts as a stall of the master's event loop */
  private readonly stallMs: number;
  /** epoch ms the stuck clock last saw the event loop run: its last tick or look */
  private lastSeen = Date.now();
  /** a look waits for the poll phase (setImmediate) */
  private lookAsked = false;
  /** the look waiting was put off once already, by a stall: it judges whatever its own lateness */
  private lookPutOff = false;
  /** ms the master's event loop was stalled, in all: time in which it could not hear its workers */
  private blind = 0;
  private readonly flushNow = () => this.flush();
  private readonly lookNow = () => this.look();

  constructor(
    private readonly options: DispatchOptions,
    private readonly hooks: DispatchHooks,
  ) {
    const { taskTimeout } = options;
    this.stuckEvery = Math.max(25, Math.min(1000, taskTimeout / 4));
    this.stallMs = Math.max(this.stuckEvery, 50);
    if (taskTimeout > 0) {
      this.stuckTimer = setInterval(() => this.stuckClock(), this.stuckEvery);
      this.stuckTimer.unref();
    }
  }

  /** Tasks the accepting workers can hold at once. */
  get capacity(): number {
    let n = 0;
    for (const lane of this.lanes.values()) if (lane.accepting) n += this.options.window;
    return n;
  }

  /** Free places in the accepting workers' windows (tasks waiting here will take some). */
  get freeSlots(): number {
    let n = 0;
    for (const lane of this.lanes.values())
      if (lane.accepting) n += Math.max(0, this.options.window - lane.load);
    return n;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Deliveries held here, waiting for a worker with room. */
  get waiting(): number {
    return this.pending.length;
  }

  /** The most tasks held here at once (in flight and waiting) since the last call. */
  takePeak(): number {
    const peak = this.peak;
    this.peak = this.inFlightCount + this.pending.length;
    return peak;
  }

  lane(pid: number): Lane | undefined {
    return this.lanes.get(pid);
  }

  allLanes(): IterableIterator<Lane> {
    return this.lanes.values();
  }

  /** The backend's handler: resolves with the outcome of the attempt on some worker. */
  run(delivery: Delivery): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const job: Job = { seq: ++this.seq, delivery, resolve, reject, lane: null, sentAt: 0, blindAtSend: 0 };
      this.pending.push(job);
      if (this.inFlightCount + this.pending.length > this.peak)
        this.peak = this.inFlightCount + this.pending.length;
      this.scheduleFlush();
      // (after the push: an abort that has already happened takes the job back out at once)
      if (this.options.forwardAborts) {
        const abandon = (reason: unknown) => this.abandon(job, reason);
        if (delivery.onAbort) delivery.onAbort(abandon);
        else if (delivery.signal.aborted) abandon(delivery.signal.reason);
        else delivery.signal.addEventListener('abort', () => abandon(delivery.signal.reason), { once: true });
      }
    });
  }

  /** A worker is ready to take tasks. */
  addLane(pid: number, pin: number, send: (message: MasterMessage) => boolean): void {
    if (this.lanes.has(pid)) return;
    this.lanes.set(pid, new Lane(pid, pin, send));
    this.hooks.capacityChanged();
    this.scheduleFlush();
  }

  /** Nothing new for this worker (it is stopping); its running tasks finish there. */
  closeLane(pid: number): void {
    const lane = this.lanes.get(pid);
    if (!lane) return;
    lane.retiring = false;
    if (!lane.accepting) return;
    lane.accepting = false;
    this.hooks.capacityChanged();
  }

  /** Nothing new for this worker, which the load no longer needs: it finishes what it runs. */
  retireLane(pid: number): void {
    const lane = this.lanes.get(pid);
    if (!lane?.accepting) return;
    lane.accepting = false;
    lane.retiring = true;
    this.hooks.capacityChanged();
  }

  /** A retiring worker (retireLane) that has not left yet takes tasks again. */
  reopenLane(pid: number): boolean {
    const lane = this.lanes.get(pid);
    if (!lane?.retiring) return false;
    lane.retiring = false;
    lane.accepting = true;
    this.hooks.capacityChanged();
    this.scheduleFlush();
    return true;
  }

  /** The worker is gone: whatever it was running failed this attempt. */
  laneExited(pid: number, code: number | null, signal: NodeJS.Signals | null): void {
    const lane = this.lanes.get(pid);
    if (!lane) return;
    this.lanes.delete(pid);
    for (const job of lane.inFlight.values()) {
      this.inFlightCount--;
      const error = workerLostError(job.delivery.taskId, job.delivery.attempt, pid, code, signal);
      this.hooks.settled(job, lane, error, undefined);
      job.reject(error);
    }
    lane.inFlight.clear();
    if (lane.accepting) this.hooks.capacityChanged();
    this.checkIdle();
  }

  /** Outcomes from the worker `pid`. */
  onResults(pid: number, results: TaskOutcome[]): void {
    const lane = this.lanes.get(pid);
    if (!lane) return;
    const bounced: Job[] = [];
    for (const outcome of results) {
      const seq = outcome[0];
      const job = lane.inFlight.get(seq);
      if (!job) continue; // failed already (stuck)
      if (outcome[1] === 3) {
        // settled in the worker; its outcome follows (a large result still on its way)
        job.settling = true;
        continue;
      }
      lane.inFlight.delete(seq);
      this.inFlightCount--;
      if (outcome[1] === 0) {
        this.hooks.settled(job, lane, undefined, outcome[2]);
        job.resolve(outcome[2]);
      } else if (outcome[1] === 1) {
        const error = reviveError(outcome[2]);
        this.hooks.settled(job, lane, error, undefined);
        job.reject(error);
      } else {
        job.lane = null;
        bounced.push(job);
      }
    }
    if (lane.inFlight.size === 0) lane.idleSince = Date.now();
    if (bounced.length > 0) {
      // The worker is stopping and never ran these: they go to another worker, no attempt spent.
      this.pending.unshift(...bounced);
      this.closeLane(pid);
    }
    if (this.pending.length > 0) this.scheduleFlush();
    else this.checkIdle();
  }

  /** Resolves true when nothing is held here, or false after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  close(): void {
    if (this.stuckTimer) clearInterval(this.stuckTimer);
    this.stuckTimer = null;
  }

  private isIdle(): boolean {
    return this.pending.length === 0 && this.inFlightCount === 0;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length > 0 && this.isIdle()) for (const done of this.idleWaiters.splice(0)) done();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushNow);
  }

  /** Fills the least loaded windows first, one task per worker per round, then sends. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const { window } = this.options;
    const open: Lane[] = [];
    for (const lane of this.lanes.values()) if (lane.accepting && lane.load < window) open.push(lane);
    if (open.length === 0) return;
    open.sort((a, b) => a.load - b.load || a.pin - b.pin);
    const pending = this.pending;
    const now = Date.now();
    let next = 0;
    let level = open[0]!.load;
    while (next < pending.length && level < window) {
      for (const lane of open) {
        if (next >= pending.length || lane.load > level) break;
        const job = pending[next++]!;
        job.lane = lane;
        job.sentAt = now;
        job.blindAtSend = this.blind;
        lane.inFlight.set(job.seq, job);
        const { delivery } = job;
        lane.outbox.push([job.seq, delivery.taskId, delivery.attempt, delivery.payload]);
      }
      level++;
    }
    this.pending = next === pending.length ? [] : pending.slice(next);
    this.inFlightCount += next;
    for (const lane of open) {
      if (lane.outbox.length === 0) continue;
      const tasks = lane.outbox;
      lane.outbox = [];
      lane.send({ $drover: 'tasks', tasks });
      for (const task of tasks) this.hooks.started(lane.inFlight.get(task[0])!, lane);
    }
  }

  /** The delivery lost its claim on the task (lease lost, consumer closed without draining). */
  private abandon(job: Job, why: unknown): void {
    const reason = asError(why);
    const lane = job.lane;
    if (!lane) {
      const at = this.pending.indexOf(job);
      if (at >= 0) this.pending.splice(at, 1);
      job.reject(reason);
      this.checkIdle();
      return;
    }
    // It runs on a worker: tell the handler through its signal; the outcome is ignored upstream.
    lane.send({ $drover: 'abort', seqs: [job.seq], reason: serializeError(reason) });
  }

  /**
   * The stuck clock's tick. It runs in the timers phase, before the poll phase reads what the
   * workers sent meanwhile: the look waits for that read (setImmediate). A tick later than its
   * interval plus `stallMs` means the master's own event loop stalled (synchronous code, a long GC,
   * a starved or paused host): the workers' answers waited in the pipes meanwhile, so the excess
   * does not count against the tasks in flight.
   */
  private stuckClock(): void {
    this.seen(this.stuckEvery + this.stallMs);
    if (this.lookAsked) return;
    this.lookAsked = true;
    this.lookPutOff = false;
    setImmediate(this.lookNow);
  }

  /**
   * After the poll phase: looks for stuck tasks. A look that came more than `stallMs` after it was
   * asked for (the loop stalled in a callback after the tick, or before this one in the check
   * phase) may have answers of that time still unread: the excess does not count against the
   * tasks in flight, and the look waits for the next read, once. The look after that judges
   * whatever its own lateness, so a master whose loop lags on every turn (busy, not stalled) still
   * finds stuck tasks: each turn counts at least `stallMs` against them.
   */
  private look(): void {
    this.lookAsked = false;
    if (!this.stuckTimer) return;
    if (this.seen(this.stallMs) && !this.lookPutOff) {
      this.lookAsked = true;
      this.lookPutOff = true;
      setImmediate(this.lookNow);
      return;
    }
    this.checkStuck();
  }

  /** The loop runs: what it took beyond `allowedMs` since it was last seen is blind time. True if any. */
  private seen(allowedMs: number): boolean {
    const now = Date.now();
    const over = now - this.lastSeen - allowedMs;
    this.lastSeen = now;
    if (over <= 0) return false;
    this.blind += over;
    return true;
  }

  private checkStuck(): void {
    const { taskTimeout, taskTimeoutGrace } = this.options;
    const limit = Date.now() - taskTimeout - taskTimeoutGrace;
    for (const lane of this.lanes.values()) {
      let stuck = false;
      for (const job of lane.inFlight.values()) {
        // the time it ran as the master could see it: without the master's own stalls
        if (job.sentAt + (this.blind - job.blindAtSend) > limit || job.settling) continue;
        stuck = true;
        lane.inFlight.delete(job.seq);
        this.inFlightCount--;
        const error = taskStuckError(job.delivery.taskId, job.delivery.attempt, taskTimeout, lane.pid);
        this.hooks.settled(job, lane, error, undefined);
        job.reject(error);
      }
      if (stuck) {
        this.closeLane(lane.pid);
        this.hooks.stuck(lane);
      }
    }
    this.checkIdle();
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
