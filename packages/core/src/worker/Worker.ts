import { EventEmitter } from 'node:events';
import type { WorkerRuntime } from './WorkerRuntime.js';

export interface WorkerEvents {
  /** a message from the master (`manage.sendTo(pin, msg)` / `broadcast(msg)`) */
  message: [data: unknown];
}

/**
 * The worker as user code sees it, inside the worker process: passed to `setWorkInit` and
 * `setWork`.
 */
export class Worker extends EventEmitter<WorkerEvents> {
  /** Stable index 0..N-1, kept across respawns. */
  readonly pin: number;
  readonly pid: number;
  /** The process title, as `ps` shows it. */
  readonly title: string;
  /** epoch ms */
  readonly startedAt: number;
  /** In a task pool: a temporary worker leaves after idleTimeout without tasks. */
  readonly kind: 'permanent' | 'temporary';
  /**
   * Aborted when a stop, reload or recycle is requested: finish the current execution and
   * return. Pass it to anything that accepts an AbortSignal.
   */
  readonly signal: AbortSignal;

  constructor(private readonly runtime: WorkerRuntime) {
    super();
    this.pin = runtime.envelope.pin;
    this.pid = process.pid;
    this.title = process.title;
    this.startedAt = runtime.startedAt;
    this.kind = runtime.envelope.kind ?? 'permanent';
    this.signal = runtime.signal;
  }

  /** Executions completed by this process. */
  getExecuteTimes(): number {
    return this.runtime.executions;
  }

  /** Sends a structured value to the master (`manage.on('message', (msg, worker) => …)`). */
  send(data: unknown): void {
    this.runtime.send({ $drover: 'msg', data });
  }

  /**
   * Finishes this worker for good: after the current execution it exits with `code` (default:
   * the group's normalExitCode) and is not respawned, whatever the code: the master was told
   * before the exit, so the code can carry the job's own result.
   */
  done(code?: number): void {
    this.runtime.finish(code ?? this.runtime.envelope.normalExitCode);
  }

  /** True while the process runs: a Worker object only exists inside its own process. */
  isAlive(): boolean {
    return true;
  }
}
