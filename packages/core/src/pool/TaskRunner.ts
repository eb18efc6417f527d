import {
  type MasterMessage,
  type SerializedError,
  serializeError,
  type TaskMessage,
  type TaskOutcome,
} from '../ipc/messages.js';
import type { Worker } from '../worker/Worker.js';
import type { RuntimeExtension, WorkerRuntime } from '../worker/WorkerRuntime.js';
import { CHUNK_KEY, isChunk, itemId } from './chunk.js';
import { resultNotSerializableError, reviveError, taskTimeoutError } from './errors.js';

/** What a task handler gets besides the payload. */
export interface TaskContext<C = unknown> {
  readonly taskId: string;
  /** 1-based; a retry after a failure or a lost worker has the next number */
  readonly attempt: number;
  /** `attempt === maxAttempts` is the last try */
  readonly maxAttempts: number;
  /**
   * Aborted when this attempt ran past `taskTimeout` or no longer owns the task (its lease was
   * lost): stop work then, the outcome is discarded. A graceful stop or reload does not abort
   * it: running tasks finish.
   */
  readonly signal: AbortSignal;
  /** This worker process. */
  readonly worker: Worker;
  /** What `setWorkInit` returned in this worker. */
  readonly resources: C;
}

/** Runs one task in a worker: `(payload, ctx) => result`. Results travel as JSON. */
export type TaskHandler<P = unknown, R = unknown, C = unknown> = (
  payload: P,
  ctx: TaskContext<C>,
) => R | Promise<R>;

export interface TaskRunnerOptions {
  readonly maxAttempts: number;
  /** ms; 0 = none */
  readonly taskTimeout: number;
}

/** One running attempt. Its AbortController is made only when the handler reads `signal`. */
class RunningTask<C> implements TaskContext<C> {
  timer: NodeJS.Timeout | undefined;
  /** set when the attempt was aborted; the outcome is then this error */
  abortedWith: Error | undefined;
  private controller: AbortController | undefined;

  constructor(
    readonly seq: number,
    readonly taskId: string,
    readonly attempt: number,
    readonly maxAttempts: number,
    readonly worker: Worker,
    readonly resources: C,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith);
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    if (this.abortedWith) return;
    this.abortedWith = reason;
    this.controller?.abort(reason);
  }
}

/** What one item of a chunk sees: its own id, the chunk's attempt and signal. */
class ChunkItemContext<C> implements TaskContext<C> {
  constructor(
    private readonly chunk: RunningTask<C>,
    readonly taskId: string,
  ) {}

  get attempt(): number {
    return this.chunk.attempt;
  }

  get maxAttempts(): number {
    return this.chunk.maxAttempts;
  }

  get signal(): AbortSignal {
    return this.chunk.signal;
  }

  get worker(): Worker {
    return this.chunk.worker;
  }

  get resources(): C {
    return this.chunk.resources;
  }
}

/**
 * The worker side of a task pool: takes the tasks the master sends, runs the handler for each
 * (the master keeps at most `concurrencyPerWorker` in flight here), and sends outcomes back in
 * batches, one message per turn of the event loop. Once the worker is stopping, or has run its
 * `executeTimes` tasks and asked to be replaced, tasks that still arrive are bounced untouched;
 * the running ones finish before the process exits.
 */
export class TaskRunner<P, R, C> implements RuntimeExtension {
  private readonly running = new Map<number, RunningTask<C>>();
  private outbox: TaskOutcome[] = [];
  /** task ids of the outbox's entries, for the message of a result that cannot be sent */
  private outboxIds: string[] = [];
  private flushScheduled = false;
  private recycleAsked = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly runtime: WorkerRuntime,
    private readonly handler: TaskHandler<P, R, C>,
    private readonly resources: () => C,
    private readonly options: TaskRunnerOptions,
  ) {}

  onMessage(message: MasterMessage): void {
    if (message.$drover === 'tasks') {
      for (const task of message.tasks) this.start(task);
    } else if (message.$drover === 'abort') {
      const reason = reviveError(message.reason);
      for (const seq of message.seqs) this.running.get(seq)?.abort(reason);
    }
  }

  /** Resolves once every running task settled and its outcome left the process. */
  async drain(): Promise<void> {
    if (this.running.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.flush();
  }

  private start(message: TaskMessage): void {
    // Stopping, or done with its share of tasks (executeTimes): the task goes to another worker.
    if (this.runtime.stopping || this.recycleAsked) {
      this.post([message[0], 2], message[1]);
      return;
    }
    const [seq, taskId, attempt, payload] = message;
    const task = new RunningTask<C>(
      seq,
      taskId,
      attempt,
      this.options.maxAttempts,
      this.runtime.getWorker(),
      this.resources(),
    );
    this.running.set(task.seq, task);
    this.runtime.busy = true;
    const { taskTimeout } = this.options;
    if (taskTimeout > 0)
      task.timer = setTimeout(
        () => task.abort(taskTimeoutError(task.taskId, task.attempt, taskTimeout)),
        taskTimeout,
      );
    const items = isChunk(payload) ? payload[CHUNK_KEY] : null;
    const outcome = items ? this.runChunk(items, task) : this.run(payload, task);
    outcome.then(
      (value) => this.settle(task, value, undefined, items?.length ?? 1),
      (error: unknown) => this.settle(task, undefined, error ?? new Error(String(error)), items?.length ?? 1),
    );
  }

  private run(payload: unknown, ctx: TaskContext<C>): Promise<R> {
    try {
      return Promise.resolve(this.handler(payload as P, ctx));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Every item of a chunk, at once; the chunk fails with the first item's error once all settled. */
  private async runChunk(items: unknown[], task: RunningTask<C>): Promise<R[]> {
    const outcomes = await Promise.allSettled(
      items.map((item, index) => this.run(item, new ChunkItemContext(task, itemId(task.taskId, index)))),
    );
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return outcomes.map((o) => (o as PromiseFulfilledResult<R>).value);
  }

  private settle(task: RunningTask<C>, value: unknown, error: unknown, tasks: number): void {
    if (task.timer) clearTimeout(task.timer);
    this.running.delete(task.seq);
    // An aborted attempt fails with the abort's reason, whatever the handler made of it.
    const failure = task.abortedWith ?? error;
    this.post(
      failure === undefined ? [task.seq, 0, value] : [task.seq, 1, serializeError(failure)],
      task.taskId,
    );
    this.runtime.executions += tasks;
    const { executeTimes } = this.runtime.envelope;
    if (executeTimes > 0 && this.runtime.executions >= executeTimes && !this.recycleAsked) {
      // The master starts a successor, then stops this worker; running tasks finish first.
      this.recycleAsked = true;
      this.runtime.send({ $drover: 'recycle', executions: this.runtime.executions });
    }
    if (this.running.size === 0) {
      this.runtime.busy = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private post(outcome: TaskOutcome, taskId: string): void {
    this.outbox.push(outcome);
    this.outboxIds.push(taskId);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => void this.flush());
  }

  /** Sends the outcomes gathered so far in one message; resolves once it is written. */
  private flush(): Promise<void> {
    this.flushScheduled = false;
    if (this.outbox.length === 0 || !process.connected) return Promise.resolve();
    const results = this.outbox;
    const ids = this.outboxIds;
    this.outbox = [];
    this.outboxIds = [];
    // The master's stuck clock (taskTimeout and its grace) stops here: what follows may be a large
    // result that takes seconds to cross the channel, and a healthy worker must not be recycled
    // for it. This small message is written before the large one is even serialised.
    if (this.options.taskTimeout > 0) {
      const settled: TaskOutcome[] = [];
      for (const outcome of results) if (outcome[1] !== 2) settled.push([outcome[0], 3]);
      if (settled.length > 0) process.send!({ $drover: 'results', results: settled });
    }
    return new Promise<void>((resolve) => {
      const done = () => resolve();
      try {
        process.send!({ $drover: 'results', results }, undefined, {}, done);
      } catch {
        // A result JSON cannot carry (a BigInt, a cycle): that one fails, the others go as they are.
        try {
          const checked = results.map((outcome, i) => sendable(outcome, ids[i]!));
          process.send!({ $drover: 'results', results: checked }, undefined, {}, done);
        } catch {
          resolve();
        }
      }
    });
  }
}

function sendable(outcome: TaskOutcome, taskId: string): TaskOutcome {
  if (outcome[1] !== 0) return outcome;
  try {
    JSON.stringify(outcome[2]);
    return outcome;
  } catch (error) {
    const failure: SerializedError = serializeError(resultNotSerializableError(taskId, error));
    return [outcome[0], 1, failure];
  }
}
