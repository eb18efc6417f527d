import { taskLostError, tasksLostError } from './errors.js';

/** What `LostTasks` needs from a shared backend. */
export interface LostTasksHost {
  readonly queue: string;
  /** where the server is, for messages */
  readonly where: string;
  /** ids of the tasks this process waits for, the longest waiting first; at most `limit`, from the `from`th on */
  waited(limit?: number, from?: number): string[];
  /** those of `ids` whose job is no longer stored */
  missing(ids: readonly string[]): Promise<string[]>;
  /**
   * settles the waits of those of `ids` whose job has finished already: their result event may
   * have left the server's bounded events stream before this process read it
   */
  finished(ids: readonly string[]): Promise<void>;
  /** rejects the waits for `taskId` */
  reject(taskId: string, error: Error): void;
  /** says a batch of lost tasks once */
  report(error: Error): void;
}

/** How many waits a probe looks at: a flush or a restart takes every job, the oldest included. */
const PROBE_SAMPLE = 16;
/** How many waits a probe looks at, in turn, for a job that finished unseen (one cheap read each). */
const FINISHED_SAMPLE = 1_000;
/** Lost tasks remembered, so one found twice (its wait, then its consumer) is said once. */
const REMEMBERED = 10_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Finds tasks whose job is gone from the server (Redis restarted without persistence, or was
 * flushed): nothing would ever settle their waits. Each is rejected with ETASKLOST, and each batch
 * is reported once. A job found missing is looked for again `graceMs` later before it counts as
 * lost: a result removed as soon as it was stored (`keepResults` of 0) still reaches its wait
 * through the events stream meanwhile.
 */
export class LostTasks {
  private running: Promise<void> | undefined;
  private again = false;
  private found: string[] = [];
  private readonly said = new Set<string>();
  /** where the next probe's look for finished jobs starts among the waits */
  private cursor = 0;

  constructor(
    private readonly host: LostTasksHost,
    private readonly graceMs: number,
  ) {}

  /** A consumer found the job of `taskId` gone: its wait fails now, and every other wait is checked. */
  jobGone(taskId: string): void {
    this.lose(taskId);
    this.check();
  }

  /** Checks every wait (after a reconnect, or when a probe found a job gone). */
  check(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
      // asked for after the last pass
      if (this.again) void this.check();
    });
    return this.running;
  }

  /**
   * Looks for the oldest waits' jobs, and checks every wait if one is gone. Else settles the waits
   * whose job finished unseen, looking at up to FINISHED_SAMPLE of them per probe, in turn.
   */
  async probe(): Promise<void> {
    const sample = this.host.waited(PROBE_SAMPLE);
    if (sample.length === 0 || this.running) return;
    try {
      if ((await this.host.missing(sample)).length > 0) await this.check();
      else await this.host.finished(this.nextTurn());
    } catch {
      // the server does not answer: the reconnect checks
    }
  }

  /** The next waits to look at for a finished job: the oldest first again once all had a turn. */
  private nextTurn(): string[] {
    let turn = this.host.waited(FINISHED_SAMPLE, this.cursor);
    if (turn.length === 0 && this.cursor > 0) {
      this.cursor = 0;
      turn = this.host.waited(FINISHED_SAMPLE, 0);
    }
    this.cursor = turn.length < FINISHED_SAMPLE ? 0 : this.cursor + turn.length;
    return turn;
  }

  private async run(): Promise<void> {
    try {
      // a burst of jobs found gone by consumers (a restart) is one batch
      await sleep(this.graceMs);
      do {
        this.again = false;
        const gone = await this.host.missing(this.host.waited());
        if (gone.length === 0) continue;
        await sleep(this.graceMs);
        const waited = new Set(this.host.waited());
        for (const taskId of await this.host.missing(gone.filter((id) => waited.has(id)))) this.lose(taskId);
      } while (this.again);
    } catch {
      // the server does not answer again: its reconnect checks again
    }
    this.flush();
  }

  private lose(taskId: string): void {
    this.host.reject(taskId, taskLostError(this.host.queue, taskId, this.host.where));
    if (this.said.has(taskId)) return;
    this.said.add(taskId);
    if (this.said.size > REMEMBERED) this.said.delete(this.said.values().next().value!);
    this.found.push(taskId);
  }

  private flush(): void {
    if (this.found.length === 0) return;
    const found = this.found;
    this.found = [];
    this.host.report(tasksLostError(this.host.queue, found, this.host.where));
  }
}
