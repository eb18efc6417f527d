import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import {
  checkWorkerMessage,
  isDroverMessage,
  type MasterMessage,
  type SerializedError,
  type StopSignal,
  type WorkerMessage,
} from '../ipc/messages.js';
import { isDeadState, Process } from '../process/Process.js';
import { isStillRunning, type ProcessRef, signalQuietly } from '../process/tree.js';
import type { ExitReason } from '../status.js';
import { lastWords } from './lastWords.js';
import { workerDirectoryProblem } from './workerDirectory.js';

export interface WorkerReport {
  executions: number;
  busy: boolean;
}

/** What waits in the master for a worker that does not read its channel (see MessageBacklog). */
export interface BacklogReport {
  /** messages written to the channel that the worker has not read, or held until it is ready */
  messages: number;
  /** their JSON size in bytes (drover's own messages at a nominal size) */
  bytes: number;
}

/**
 * Why a worker's backlog reached the bound, told once per refusal (Master.backlogFull): what waits
 * for it, and since its backlog last grew from empty (`ms`), how many messages it took and how many
 * were sent to it (`offered`, the refused included).
 */
export interface BacklogFull extends BacklogReport {
  /**
   * `starting`: it is not ready, its messages wait in the master until then; `silent`: it read
   * nothing from its channel for `silentMs` (its event loop blocked, its process stopped); `slow`:
   * it reads, but slower than messages come to it.
   */
  cause: 'starting' | 'silent' | 'slow';
  ms: number;
  taken: number;
  offered: number;
  silentMs: number;
}

export interface HandleEvents {
  ready: [];
  /** a message from the worker that the master acts on (recycle, done, fatal, user msg) */
  message: [WorkerMessage];
  /** a drover message that does not have the shape of its type: ignored */
  malformed: [type: string, problem: string];
  exit: [code: number | null, signal: NodeJS.Signals | null];
  /** a stop's `timeoutMs` ran out before the worker exited: it is SIGKILLed right after */
  stopTimeout: [timeoutMs: number];
  /**
   * its backlog reached the bound and user messages to it are refused, and why: at once for one
   * not ready, else once the master has seen whether it reads (within BACKLOG_SILENT_MS)
   */
  backlogFull: [full: BacklogFull];
  /** it read its backlog down to half the bound: messages to it are accepted again */
  backlogRead: [refused: number, sinceMs: number, cause: BacklogFull['cause']];
}

/**
 * The bound of a worker's message backlog: what the master holds for it because the worker does
 * not read its channel (its event loop blocked by synchronous code, its process stopped), reads it
 * slower than messages come, or is not ready yet. Past either figure a user message to it is
 * refused (sendTo is false, broadcast skips it) until it has read down to half of both. A worker
 * that reads faster than it is sent to keeps its backlog near zero; one slower than the sender
 * grows it by the difference (a worker taking 2 ms per message, sent 1,000 a second, reaches it
 * in 20 s), and a synchronous burst of that many messages reaches it at once. At the bound the
 * master holds about 12 to 35 MB for that worker (a pending write costs 1 to 2.5 KB besides its
 * JSON).
 */
export const BACKLOG_MAX_MESSAGES = 10_000;
export const BACKLOG_MAX_BYTES = 16 * 1024 * 1024;
/** What one of drover's own messages counts for in the backlog: they are small but for a pool's tasks. */
const OWN_MESSAGE_BYTES = 64;
/** The JSON around a user message's data: `{"$drover":"msg","data":...}` and the newline. */
const USER_ENVELOPE_BYTES = 27;
/**
 * Once its backlog is full, a worker seen reading for this long after is told as slower than the
 * sender (its rates then mean something also after a burst).
 */
const BACKLOG_WATCH_MS = 1000;
/**
 * A worker whose backlog is full and that read nothing for this long does not read. Longer than
 * a healthy worker spends between two reads of its channel: Node reads up to 64 KiB at a time and
 * runs the handler of every message in it before it reads again (1,700 small messages at 2 ms
 * each are 3.5 s).
 */
const BACKLOG_SILENT_MS = 5000;

/**
 * Turns of the master's event loop, counted while messages are written. A message the channel
 * took in a later turn than the one it was written in had waited for room in the pipe, which only
 * the worker's reading makes: the worker reads. One taken in the same turn went into the kernel's
 * buffer at once (Node calls back on the next tick), as it does for a stopped worker too.
 */
let loopTurn = 0;
let turnCounting = false;
function currentTurn(): number {
  if (!turnCounting) {
    turnCounting = true;
    setImmediate(() => {
      turnCounting = false;
      loopTurn++;
    }).unref();
  }
  return loopTurn;
}

/** The record of a worker's child processes is pruned of ended ones when it reaches this size. */
const CHILDREN_PRUNE_MIN = 64;
/** How long an exit by SIGABRT waits for the rest of the worker's stderr, which says why. */
const FATAL_OUTPUT_WAIT_MS = 250;
/** A `FATAL ERROR:` line is the worker's own last words only if its abort follows within this. */
const FATAL_LINE_FRESH_MS = 2000;

/**
 * The master's view of one worker process: its state, the messages it sends, and how to stop it.
 * A PIN's WorkerSlot owns one handle at a time, two during a rolling replacement.
 */
export class WorkerHandle extends EventEmitter<HandleEvents> {
  readonly pid: number;
  /** its start time in `/proc` (clock ticks since boot), null when unknown */
  readonly startTime: number | null;
  readonly startedAt = Date.now();
  state: 'starting' | 'ready' | 'draining' | 'exited' = 'starting';
  readyAt: number | null = null;
  /** why the master asked it to go; null while it is wanted */
  expected: ExitReason | null = null;
  /** why the process ended, as the master classified it (set on its exit) */
  exitReason: ExitReason | null = null;
  /** the error that ended it, as the worker reported it */
  error: SerializedError | null = null;
  /** the worker reported done(code) */
  doneCode: number | null = null;
  /**
   * Started to replace its PIN's worker (a reload, a recycle) and not yet in its place: its exit
   * is that replacement's outcome, not an exit of the worker serving the PIN.
   */
  successor = false;
  /**
   * When the last heartbeat answer came (or the worker got ready), on the monotonic clock
   * (`performance.now()`): a wall clock stepped forward must not make every worker look silent.
   */
  lastPong = performance.now();
  executions = 0;
  /** it runs the execution loop (reported with ready) */
  loop = false;
  /** it reached executeTimes and asked to be replaced */
  recycleRequested = false;
  /** it closed its IPC channel itself, unasked */
  channelClosed = false;
  /** SIGTERM/SIGINT reached the worker straight, not through the master */
  signalled: string | null = null;
  /** the master sent it SIGKILL: a SIGKILL exit it did not send came from outside (kill -9, the OOM killer) */
  sentKill = false;
  /** a stop asked of it timed out, and it was SIGKILLed: its execution was cut off */
  killedAtStopTimeout = false;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** processes the worker said it started (pid → start time), pruned as they end */
  private readonly children = new Map<number, number>();
  private pruneChildrenAt = CHILDREN_PRUNE_MIN;
  private seq = 0;
  /** messages for a worker that is not ready yet: its listener may not exist before then */
  private early: Array<{ message: MasterMessage; bytes: number }> = [];
  /** messages written to its channel and not yet taken by it, plus the early ones, and their bytes */
  private backlogMessages = 0;
  private backlogBytes = 0;
  /**
   * Since its backlog last grew from empty (`performance.now()`): how many messages were sent to
   * it (written, held until ready, or refused) and how many its channel took.
   */
  private backlogStart = 0;
  private offered = 0;
  private takenCount = 0;
  /** when it was last seen reading: its channel took a message that had waited for the pipe */
  private lastReadAt = 0;
  /**
   * set while user messages to it are refused: since when (epoch ms, and `at` on the monotonic
   * clock), how many, and why once told (backlogFull)
   */
  private refusing: {
    since: number;
    at: number;
    refused: number;
    cause: BacklogFull['cause'] | null;
  } | null = null;
  /** looks again whether it reads, until its full backlog is told; when (performance.now()) */
  private watchTimer: NodeJS.Timeout | null = null;
  private watchDue = 0;
  private stopReason: ExitReason | null = null;
  /** the signal the master stops on, told to the worker with its stop */
  private stopSignal: StopSignal | undefined;
  private readonly queries = new Map<number, (report: WorkerReport | null) => void>();
  /** what its stderr said before an abort (heap out of memory, a thread not created): the error of a SIGABRT */
  private abortError: SerializedError | null = null;
  /** when a line that comes right before an abort (`FATAL ERROR:`) was read: one long before is a child's */
  private fatalAt = 0;

  constructor(
    readonly pin: number,
    readonly title: string,
    private readonly cw: ClusterWorker,
    /** the workers' directory, to tell a fork that failed for want of it */
    cwd?: string,
  ) {
    super();
    this.pid = cw.process.pid ?? -1;
    // read while it surely is this process (forked a moment ago): tells it from a recycled pid
    this.startTime = this.pid > 0 ? (Process.stat(this.pid)?.startTime ?? null) : null;
    this.exited = new Promise((resolve) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.state === 'exited') return;
        if (signal === 'SIGABRT') this.error ??= this.lastWordsNow();
        this.state = 'exited';
        this.stopWatch();
        for (const answer of this.queries.values()) answer(null);
        this.queries.clear();
        resolve({ code, signal });
        this.emit('exit', code, signal);
      };
      cw.process.once('exit', (code, signal) => {
        // V8 aborts after writing why (`FATAL ERROR: ...`) on stderr, which the master may read
        // after the exit: the exit waits for it, briefly, so that it is said with the exit
        const stderr = cw.process.stderr;
        if (
          signal !== 'SIGABRT' ||
          this.error ||
          (this.abortError && this.fatalAt > 0 && this.lastWordsNow()) ||
          !stderr ||
          stderr.readableEnded ||
          stderr.destroyed
        )
          return onExit(code, signal);
        const done = () => {
          clearTimeout(timer);
          stderr.off('end', done);
          stderr.off('close', done);
          onExit(code, signal);
        };
        const timer = setTimeout(done, FATAL_OUTPUT_WAIT_MS);
        stderr.once('end', done);
        stderr.once('close', done);
      });
      // A send racing the worker's exit fails with EPIPE/ERR_IPC_CHANNEL_CLOSED: the exit handler
      // covers it. A fork that failed (EMFILE, EAGAIN: no pid) never emits 'exit': it ends here,
      // so the master handles it as a crash.
      cw.process.on('error', (err) => {
        if (this.pid > 0) return;
        const directory =
          (err as NodeJS.ErrnoException).code === 'ENOENT' ? workerDirectoryProblem(cwd) : null;
        this.error ??= { name: err.name, message: directory ? `${directory} (${err.message})` : err.message };
        // node:cluster forgets a worker only on its 'exit', which a failed fork never emits.
        delete cluster.workers?.[cw.id];
        onExit(null, null);
      });
    });
    cw.process.on('message', (message: unknown) => this.onMessage(message));
    // node:cluster re-emits a failed fork on the Worker too; unhandled, it would end the master.
    cw.on('error', () => {});
  }

  get stdout(): NodeJS.ReadableStream | null {
    return this.cw.process.stdout;
  }

  get stderr(): NodeJS.ReadableStream | null {
    return this.cw.process.stderr;
  }

  /**
   * A line of the worker's stderr: Node's and V8's last words before an abort (see lastWords),
   * kept for a SIGABRT exit only: a worker goes on without a thread it could not create, and a
   * child sharing its stderr may write them and die alone.
   */
  stderrLine(line: string): void {
    const words = lastWords(line);
    if (!words) return;
    if ('fatal' in words) {
      this.abortError = words.fatal;
      this.fatalAt = performance.now();
    } else if (this.fatalAt === 0) this.abortError ??= words.ifAborted;
  }

  /**
   * The last words that explain an abort now: a `FATAL ERROR:` line of the last moments (Node
   * aborts right after it; one written long before was a child's), or a thread Node could not
   * create (the abort may come long after).
   */
  private lastWordsNow(): SerializedError | null {
    if (this.fatalAt > 0 && performance.now() - this.fatalAt > FATAL_LINE_FRESH_MS) {
      this.abortError = null;
      this.fatalAt = 0;
    }
    return this.abortError;
  }

  get alive(): boolean {
    return this.state !== 'exited';
  }

  private onMessage(message: unknown): void {
    if (!isDroverMessage(message)) return;
    const m = checkWorkerMessage(message);
    if (typeof m === 'string') {
      this.emit('malformed', message.$drover, m);
      return;
    }
    switch (m.$drover) {
      case 'ready':
        if (this.state === 'draining' && this.stopReason) {
          // Asked to stop while still loading: that message may have come before any listener.
          this.send({
            $drover: 'stop',
            reason: this.stopReason,
            ...(this.stopSignal ? { signal: this.stopSignal } : {}),
          });
          return;
        }
        if (this.state === 'starting') {
          this.state = 'ready';
          this.readyAt = Date.now();
          // heartbeats are answered from here on: a long init is not silence
          this.lastPong = performance.now();
          this.loop = m.loop === true;
          for (const queued of this.early.splice(0)) this.write(queued.message, queued.bytes, true);
          this.emit('ready');
        }
        return;
      case 'pong':
        this.lastPong = performance.now();
        return;
      case 'sync':
        this.send({ $drover: 'synced', seq: m.seq });
        return;
      case 'report': {
        this.executions = m.executions;
        this.queries.get(m.seq)?.({ executions: m.executions, busy: m.busy });
        this.queries.delete(m.seq);
        return;
      }
      case 'init-failed':
      case 'fatal':
        this.error = m.error;
        break;
      case 'done':
        this.doneCode = m.code;
        break;
      case 'channel-closing':
        // Unless it was asked to go or had finished, it ends as a crash whatever its exit code.
        this.channelClosed = true;
        // closing it on the way out of a stop the master asked for is no fault
        if (this.expected === null && this.stopReason === null)
          this.error ??= {
            name: 'Error',
            message:
              'closed its IPC channel (process.disconnect()) while the master was running; to finish for good, call worker.done() or exit with the normal exit code',
          };
        break;
      case 'signalled':
        // a signal sent to the worker itself, not through the master: its end is no finish
        // (a Ctrl-C reaches the whole process group: the master's stop then explains the exit)
        this.signalled = m.signal;
        break;
      case 'recycle':
        this.executions = m.executions;
        break;
      case 'child':
        this.recordChild(m.pid);
        return;
    }
    this.emit('message', m);
  }

  /**
   * Remembers a process the worker started, by its start time. Only a live child of this worker
   * is taken: a message must not lead the master to signal some other process.
   */
  private recordChild(pid: number): void {
    if (!this.alive) return;
    const stat = Process.stat(pid);
    if (!stat || stat.ppid !== this.pid || isDeadState(stat.state)) return;
    this.children.set(pid, stat.startTime);
    if (this.children.size < this.pruneChildrenAt) return;
    for (const [child, startTime] of this.children)
      if (!isStillRunning({ pid: child, startTime })) this.children.delete(child);
    this.pruneChildrenAt = Math.max(CHILDREN_PRUNE_MIN, this.children.size * 2);
  }

  /**
   * After the exit: the processes this worker started that outlived it, with everything they
   * started in turn. A worker that ended by itself has ended them already (WorkerRuntime); one
   * killed outright could not. Asked once: the list is emptied.
   */
  leftBehind(): ProcessRef[] {
    const live: ProcessRef[] = [];
    for (const [pid, startTime] of this.children) {
      const ref = { pid, startTime };
      if (isStillRunning(ref)) live.push(ref);
    }
    this.children.clear();
    // one scan of /proc for all of them: a worker may leave hundreds
    return live.length === 0 ? live : [...live, ...Process.descendantsOfAll(live.map((ref) => ref.pid))];
  }

  /**
   * Queues `message` for the worker: true once it is queued (on the channel, or until the worker is
   * ready), false when the worker has no channel any more, or for a user message (`msg`) while its
   * backlog is over the bound (BACKLOG_MAX_MESSAGES, BACKLOG_MAX_BYTES): the worker does not read
   * it. Not Node's back-pressure hint: the channel queues what the pipe does not take at once, and
   * delivers it in order. `bytes` is a user message's JSON size. The caller checks that a user's
   * message can be serialised (Master.sendTo): what the channel cannot write is lost.
   */
  send(message: MasterMessage, bytes = OWN_MESSAGE_BYTES): boolean {
    if (!this.alive || !this.cw.isConnected()) return false;
    if (message.$drover === 'msg') {
      bytes += USER_ENVELOPE_BYTES;
      if (this.refusing) {
        this.offered++;
        this.refusing.refused++;
        return false;
      }
      if (this.backlogMessages >= BACKLOG_MAX_MESSAGES || this.backlogBytes >= BACKLOG_MAX_BYTES) {
        this.offered++;
        this.refusing = { since: Date.now(), at: performance.now(), refused: 1, cause: null };
        // one not ready cannot read yet; whether one that is reads, the next moments tell
        if (this.state === 'starting') this.tellFull('starting');
        else this.watchBacklog();
        return false;
      }
      if (this.state === 'starting') {
        this.early.push({ message, bytes });
        this.enter(bytes);
        return true;
      }
    }
    return this.write(message, bytes, false);
  }

  /** Counts a message into the backlog; the first one into an empty backlog starts its figures. */
  private enter(bytes: number): void {
    if (this.backlogMessages === 0) {
      this.backlogStart = performance.now();
      this.offered = 0;
      this.takenCount = 0;
    }
    this.offered++;
    this.backlogMessages++;
    this.backlogBytes += bytes;
  }

  /** Writes to the channel, counting the message in the backlog until the channel has taken it. */
  private write(message: MasterMessage, bytes: number, counted: boolean): boolean {
    if (!counted) this.enter(bytes);
    const turn = currentTurn();
    try {
      // called once the pipe took it, or with the error that lost it (the channel closed)
      // (Node calls back without an error for a write cancelled by the channel's close)
      this.cw.send(message, (err) => this.taken(bytes, !!err || !this.cw.isConnected(), loopTurn !== turn));
      return true;
    } catch {
      this.taken(bytes, true, false);
      return false;
    }
  }

  /**
   * A message left the backlog: read (the pipe took it), or `lost` with the channel. `waited`: it
   * was taken in a later turn of the event loop than it was written, so the worker read.
   */
  private taken(bytes: number, lost: boolean, waited: boolean): void {
    this.backlogMessages--;
    this.backlogBytes -= bytes;
    // a channel closed under its backlog (the worker killed) is no worker reading again
    if (lost) return;
    this.takenCount++;
    if (waited) this.lastReadAt = performance.now();
    if (
      this.refusing &&
      this.alive &&
      this.backlogMessages <= BACKLOG_MAX_MESSAGES / 2 &&
      this.backlogBytes <= BACKLOG_MAX_BYTES / 2
    ) {
      // read down to half before it was told: it reads, slower than a burst came
      if (this.refusing.cause === null) this.tellFull('slow');
      const { since, refused, cause } = this.refusing;
      this.refusing = null;
      this.emit('backlogRead', refused, Date.now() - since, cause ?? 'slow');
    }
  }

  /**
   * While its backlog is full and not yet told: tells it as `slow` once the worker was seen
   * reading for BACKLOG_WATCH_MS after it filled, as `silent` once it read nothing for
   * BACKLOG_SILENT_MS; else looks again a little later. Never `silent` at once, nor when this look
   * comes late: the master's own loop did not run (a long synchronous run, the master stopped),
   * and what the worker read meanwhile is taken only now.
   */
  private watchBacklog(): void {
    const late = this.watchDue === 0 || performance.now() - this.watchDue > BACKLOG_WATCH_MS;
    this.stopWatch();
    const refusing = this.refusing;
    if (!refusing || refusing.cause !== null || !this.alive) return;
    const now = performance.now();
    if (this.lastReadAt > refusing.at && now - refusing.at >= BACKLOG_WATCH_MS) this.tellFull('slow');
    else if (!late && now - Math.max(this.lastReadAt, this.backlogStart) >= BACKLOG_SILENT_MS)
      this.tellFull('silent');
    else {
      this.watchDue = now + BACKLOG_WATCH_MS / 4;
      this.watchTimer = setTimeout(() => this.watchBacklog(), BACKLOG_WATCH_MS / 4);
      this.watchTimer.unref();
    }
  }

  private stopWatch(): void {
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watchTimer = null;
    this.watchDue = 0;
  }

  private tellFull(cause: BacklogFull['cause']): void {
    if (!this.refusing) return;
    this.stopWatch();
    this.refusing.cause = cause;
    const now = performance.now();
    this.emit('backlogFull', {
      ...this.backlog,
      cause,
      ms: now - this.backlogStart,
      taken: this.takenCount,
      offered: this.offered,
      silentMs: now - Math.max(this.lastReadAt, this.backlogStart),
    });
  }

  /** What waits in the master for this worker now. */
  get backlog(): BacklogReport {
    return { messages: this.backlogMessages, bytes: this.backlogBytes };
  }

  /** While user messages to it are refused: its backlog, since when, how many were refused. */
  get refusal(): (BacklogReport & { since: number; refused: number }) | null {
    return this.refusing
      ? { ...this.backlog, since: this.refusing.since, refused: this.refusing.refused }
      : null;
  }

  ping(): void {
    this.send({ $drover: 'ping', seq: ++this.seq });
  }

  /** Live figures from the worker, or null if it does not answer within `timeoutMs`. */
  query(timeoutMs: number): Promise<WorkerReport | null> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      if (!this.send({ $drover: 'query', seq })) return resolve(null);
      const timer = setTimeout(() => {
        this.queries.delete(seq);
        resolve(null);
      }, timeoutMs);
      this.queries.set(seq, (report) => {
        clearTimeout(timer);
        resolve(report);
      });
    });
  }

  /**
   * Asks the worker to finish and exit; SIGKILL after `timeoutMs` (`killedAtStopTimeout`, and a
   * `stopTimeout` event first). Resolves when it has exited.
   */
  async stop(reason: ExitReason, timeoutMs: number, signal?: StopSignal): Promise<void> {
    if (!this.alive) return;
    this.expected ??= reason;
    if (this.state !== 'draining') {
      this.state = 'draining';
      this.stopReason = reason;
      this.stopSignal = signal;
      if (!this.send({ $drover: 'stop', reason, ...(signal ? { signal } : {}) })) this.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      if (!this.alive || this.pid <= 0) return;
      // once, however many stops wait on it (a reload's and a stop's)
      if (!this.killedAtStopTimeout) {
        this.killedAtStopTimeout = true;
        this.emit('stopTimeout', timeoutMs);
      }
      this.kill('SIGKILL');
    }, timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals, reason?: ExitReason): void {
    if (reason) this.expected ??= reason;
    // no pid (a failed fork): kill(-1) would signal every process
    if (!this.alive || this.pid <= 0) return;
    // A worker killed outright cannot end its own children: its descendants (all levels,
    // collected while it still lives to be their parent) go first.
    if (signal === 'SIGKILL') {
      this.sentKill = true;
      for (const child of Process.descendants(this.pid)) signalQuietly(child.pid, signal);
    }
    // already gone: the exit event follows
    signalQuietly(this.pid, signal);
  }
}
