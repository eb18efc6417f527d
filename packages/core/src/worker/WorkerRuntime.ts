import { subscribe } from 'node:diagnostics_channel';
import { constants } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import {
  ENVELOPE_VAR,
  isDroverMessage,
  type MasterMessage,
  type StopSignal,
  serializeError,
  type WorkerEnvelope,
  type WorkerMessage,
  WORKER_CONDITION,
} from '../ipc/messages.js';
import { isDeadState, Process } from '../process/Process.js';
import { endDescendants, endDescendantsSync, type ProcessRef, signalEach } from '../process/tree.js';
import type { ExitReason } from '../status.js';
import { currentRuntime, RUNTIME_KEY } from './current.js';
import { ServerTracker } from './ServerTracker.js';
import { Worker } from './Worker.js';

export type WorkInit<R> = (worker: Worker) => R | Promise<R>;
export type Work<R> = (worker: Worker, resources: R) => unknown;

/** An add-on that lives inside the worker life cycle (the task pool's runner). */
export interface RuntimeExtension {
  /** Internal master messages the runtime does not handle itself. */
  onMessage(message: MasterMessage): void;
  /** Awaited when the worker wraps up, before its servers drain: running tasks finish here. */
  drain(): Promise<void>;
}

/** A worker whose master died gets this long to finish before it exits anyway. */
const ORPHAN_DEADLINE_MS = 300;
/**
 * How long an exiting worker waits for its own children to exit on SIGTERM before SIGKILL. An
 * orphan's is short: with the master dead, everything is gone within 1 s. A stop's is also bound
 * by what is left of the master's stopTimeout.
 */
const CHILD_GRACE_MS = 2_000;
const ORPHAN_CHILD_GRACE_MS = 100;
const STOP_MARGIN_MS = 250;
/** Exits that bypass the runtime (a crash, the script's own process.exit) wait this long at most. */
const EXIT_CHILD_GRACE_MS = 500;
/** How long a closed channel is watched for the master's death before it counts as the worker's own doing. */
const MASTER_DEATH_WATCH_MS = 200;
/** A master too busy to answer a round trip within this is not waited for longer. */
const SYNC_TIMEOUT_MS = 1_000;
/**
 * How long the master's stop on a SIGTERM waits before it relays SIGTERM to a script's own
 * handler: the group's copy, sent at the same instant as the master's, is here by then if it was
 * sent at all, and the handler then gets one SIGTERM, not two.
 */
const COPY_WAIT_MS = 100;

/**
 * Takes the Node options the master gave this worker out of `process.execArgv`, which
 * `child_process.fork()` passes on by default: a process the script forks is the script's, not a
 * drover worker, so it must not carry a worker's title (`ps`), preload or export condition.
 */
function dropOwnNodeOptions(): void {
  const argv = process.execArgv;
  for (let i = argv.length - 1; i >= 0; i--) {
    const arg = argv[i]!;
    if (arg.startsWith('--title=') || arg === `--conditions=${WORKER_CONDITION}`) argv.splice(i, 1);
    else if ((arg === '--require' || arg === '--import') && isBootstrap(argv[i + 1])) argv.splice(i, 2);
  }
}

/** The worker preload as the master passes it (master/launch.ts): always the bundled file, under its own name. */
function isBootstrap(path: string | undefined): boolean {
  return path !== undefined && /(?:^|[\\/])drover-worker-bootstrap\.cjs$/.test(path);
}

/**
 * The worker's life cycle, in one place: started by the bootstrap preload before any user code,
 * it reports ready, runs the execution loop (or lets a plain script run), and on a stop, a
 * signal or the master's death aborts `worker.signal`, lets the current execution finish, drains
 * the servers and exits.
 */
export class WorkerRuntime {
  readonly startedAt = Date.now();
  readonly servers = new ServerTracker();
  executions = 0;
  busy = false;

  private readonly abort = new AbortController();
  private worker?: Worker;
  /** set once the process has a reason to end; the exit code follows from it */
  private ending: { reason: ExitReason | 'signal' | 'orphan' | 'done'; code: number } | null = null;
  private loop: Promise<void> | null = null;
  private exiting = false;
  private orphaned = false;
  /** when the master's stopTimeout SIGKILL comes, once it asked this worker to stop */
  private stopDeadline: number | null = null;
  /** the descendants were dealt with (or there were none): the exit fallback has nothing to do */
  private descendantsEnded = false;
  /** process.disconnect() was called: by the script, or by Node when the master's end closed */
  private closingChannel = false;
  /** the master's pid, to tell its death from the script's own process.disconnect() */
  private readonly masterPid = process.ppid;
  private extension?: RuntimeExtension;

  private constructor(readonly envelope: WorkerEnvelope) {}

  /** The runtime of this process, if it is a drover worker. */
  static current(): WorkerRuntime | undefined {
    return currentRuntime();
  }

  /** Called once by the bootstrap preload. */
  static boot(): WorkerRuntime | undefined {
    const existing = WorkerRuntime.current();
    if (existing) return existing;
    const raw = process.env[ENVELOPE_VAR];
    if (!raw || typeof process.send !== 'function') return undefined;
    // User code and its children must not think they are drover workers too.
    delete process.env[ENVELOPE_VAR];
    dropOwnNodeOptions();
    const runtime = new WorkerRuntime(JSON.parse(raw) as WorkerEnvelope);
    (globalThis as Record<symbol, WorkerRuntime>)[RUNTIME_KEY] = runtime;
    runtime.install();
    return runtime;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get group(): string {
    return this.envelope.group;
  }

  /** True once the process has a reason to end (stop, signal, orphan, done). */
  get stopping(): boolean {
    return this.ending !== null;
  }

  /** Plugs an add-on into this worker's messages and wrap-up. */
  setExtension(extension: RuntimeExtension): void {
    this.extension = extension;
  }

  /** The class of the Worker objects this runtime hands to user code (its copy of drover's). */
  get workerClass(): typeof Worker {
    return Worker;
  }

  /** The Worker object handed to user code (one per process). */
  getWorker(): Worker {
    this.worker ??= new Worker(this);
    return this.worker;
  }

  send(message: WorkerMessage): void {
    if (process.connected) process.send?.(message);
  }

  private install(): void {
    process.title = this.envelope.title;
    this.servers.install();
    if (this.envelope.readyWhen === 'message') this.catchReadyMessage();

    process.on('message', (message: unknown) => {
      if (isDroverMessage(message)) this.onMasterMessage(message as MasterMessage);
    });

    // The master is gone (even SIGKILLed): finish gracefully but never outlive it for long.
    // node:cluster's own handler would exit(0) at once, skipping every cleanup: replace it.
    for (const listener of process.listeners('disconnect')) process.off('disconnect', listener);
    process.on('disconnect', () => {
      if (this.exiting) return;
      if (!this.closingChannel || this.masterIsDead()) return this.orphan();
      // Node also calls process.disconnect() when the master's end closes, and a dying master
      // closes its end a moment before the kernel marks it dead: watch it briefly.
      const since = Date.now();
      const watch = setInterval(() => {
        if (this.masterIsDead()) {
          clearInterval(watch);
          this.orphan();
        } else if (Date.now() - since >= MASTER_DEATH_WATCH_MS) {
          clearInterval(watch);
          // The worker cut itself off: the master, still alive, can no longer stop it. It told
          // the master why before the channel closed; it ends as a crash, and is respawned.
          if (this.ending) return;
          this.ending = { reason: 'crash', code: 1 };
          this.abort.abort();
          if (!this.loop || !this.busy) void this.wrapUp();
        }
      }, 10);
    });
    const disconnect = process.disconnect?.bind(process);
    if (disconnect) {
      process.disconnect = () => {
        if (!this.closingChannel && process.connected && process.send) {
          this.closingChannel = true;
          // a live master learns why its worker's channel closed (a dead one fails the write)
          const message: WorkerMessage = { $drover: 'channel-closing' };
          process.send(message, undefined, {}, () => {});
        }
        disconnect();
      };
    }
    // The master hears of every process this worker starts: a worker killed outright (SIGKILL
    // from outside, the OOM killer, a V8 abort at its heap limit) cannot end them itself. The
    // channel publishes before the spawn, when the pid is not known yet.
    subscribe('child_process', (event) => {
      const child = (event as { process?: { pid?: number } }).process;
      process.nextTick(() => {
        if (child?.pid) this.send({ $drover: 'child', pid: child.pid });
      });
    });
    // Exits that bypass exit() (an uncaught exception, the script's own process.exit, its event
    // loop emptying): only synchronous work is possible here, so the children get SIGTERM, a
    // short wait, and SIGKILL.
    process.on('exit', () => {
      if (this.descendantsEnded) return;
      this.descendantsEnded = true;
      const known = new Set(this.stopTree.map((ref) => ref.pid));
      const found = [...this.stopTree, ...Process.descendants(process.pid).filter((r) => !known.has(r.pid))];
      endDescendantsSync(process.pid, Math.min(EXIT_CHILD_GRACE_MS, this.childGraceMs()), found);
    });

    // SIGINT/SIGTERM straight to a worker: stop gracefully; a second one exits at once. A stop the
    // master asked for does not count: the copy of a signal sent to the whole process group (a
    // Ctrl-C, systemd's KillMode=control-group), which reaches the worker as well as the master,
    // is that same stop, whichever of the two comes first.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.on(sig, () => {
        if (this.relayingStop) return;
        const code = 128 + constants.signals[sig];
        // the relay waiting for this copy is not needed: the script's handler has it now
        if (sig === 'SIGTERM' && this.pendingRelay) {
          clearTimeout(this.pendingRelay);
          this.pendingRelay = null;
        }
        const second = this.signalledDirectly;
        this.signalledDirectly = true;
        // a live master records this process's end as a crash: nobody asked it to stop
        if (!this.ending && !this.orphaned && process.connected)
          this.send({ $drover: 'signalled', signal: sig });
        if (!this.ending) this.requestStop('signal', code, sig);
        // A script ending on its own keeps its signals: the master's stopTimeout bounds it.
        else if (second && !this.scriptEndsItself) this.exit(code);
      });
    }
    // Group-wide signals meant for the master (a terminal hangup, scaling) must neither kill nor
    // freeze a worker: without a handler SIGHUP/SIGUSR2/SIGQUIT kill and SIGTTIN/SIGTTOU stop it.
    for (const sig of ['SIGHUP', 'SIGUSR2', 'SIGQUIT', 'SIGTTIN', 'SIGTTOU'] as const)
      process.on(sig, () => {});

    process.on('uncaughtExceptionMonitor', (err) => {
      this.send({ $drover: 'fatal', error: serializeError(err) });
    });
  }

  private onMasterMessage(message: MasterMessage): void {
    switch (message.$drover) {
      case 'stop':
        this.requestStop(message.reason, 0, undefined, message.signal);
        break;
      case 'ping':
        this.send({ $drover: 'pong', seq: message.seq });
        break;
      case 'query':
        this.send({ $drover: 'report', seq: message.seq, executions: this.executions, busy: this.busy });
        break;
      case 'msg':
        this.worker?.emit('message', message.data);
        break;
      case 'synced':
        this.syncs.get(message.seq)?.();
        break;
      default:
        this.extension?.onMessage(message);
    }
  }

  /** Runs init, reports ready, then repeats work until a stop, a recycle or done(). */
  runLoop<R>(init: WorkInit<R> | undefined, work: Work<R>): Promise<void> {
    this.loop ??= this.loopBody(init, work);
    return this.loop;
  }

  /**
   * Runs init and reports ready, when the group's `readyWhen` says: once loaded, once a server
   * listens, or once the script sends 'ready'. The process then lives on its own handles.
   */
  async runPlain<R>(init?: WorkInit<R>): Promise<void> {
    if (init) await this.initialize(init);
    if (this.envelope.readyWhen === 'listening') await this.servers.serving();
    else if (this.envelope.readyWhen === 'message') await this.readyMessage;
    await this.announceReady();
  }

  private onReadyMessage: () => void = () => {};
  /** `process.send('ready')` from the script, for `readyWhen: 'message'` (PM2's wait_ready). */
  private readonly readyMessage = new Promise<void>((resolve) => {
    this.onReadyMessage = resolve;
  });

  /** Takes the script's `process.send('ready')` for this runtime instead of the master's channel. */
  private catchReadyMessage(): void {
    const send = process.send?.bind(process);
    if (!send) return;
    process.send = ((message: unknown, ...rest: unknown[]) => {
      if (message !== 'ready') return (send as (...a: unknown[]) => boolean)(message, ...rest);
      this.onReadyMessage();
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (callback) process.nextTick(callback);
      return true;
    }) as typeof process.send;
  }

  private async initialize<R>(init: WorkInit<R>): Promise<R> {
    try {
      return await init(this.getWorker());
    } catch (err) {
      this.failInit(err);
      // the process is exiting: nothing after init may run
      return new Promise<never>(() => {});
    }
  }

  /** Reports an init/import failure to the master and exits 1. */
  failInit(err: unknown): void {
    this.send({ $drover: 'init-failed', error: serializeError(err) });
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    this.endAfterFailure();
  }

  async announceReady(loop = false): Promise<void> {
    // A server listening in a cluster worker is ready only once the master holds the handle.
    await this.servers.listening();
    if (!this.ending) this.send(loop ? { $drover: 'ready', loop } : { $drover: 'ready' });
  }

  private async loopBody<R>(init: WorkInit<R> | undefined, work: Work<R>): Promise<void> {
    const resources = init ? await this.initialize(init) : (undefined as R);
    await this.announceReady(true);
    const worker = this.getWorker();
    const { executeTimes, executeUSleep } = this.envelope;
    while (!this.ending) {
      this.busy = true;
      try {
        await work(worker, resources);
      } catch (err) {
        this.crash(err);
        return;
      } finally {
        this.busy = false;
      }
      this.executions++;
      if (this.ending) break;
      if (executeTimes > 0 && this.executions >= executeTimes) {
        // Ask the master for a replacement: it stops this process, and starts the successor once
        // this one has exited (one process runs a PIN's executions at a time).
        this.send({ $drover: 'recycle', executions: this.executions });
        return;
      }
      if (executeUSleep > 0)
        await delay(executeUSleep / 1000, undefined, { signal: this.signal }).catch(() => {});
    }
    await this.wrapUp();
  }

  /** An execution threw: the worker crashes, and the master respawns it. */
  private crash(err: unknown): void {
    this.send({ $drover: 'fatal', error: serializeError(err) });
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    this.endAfterFailure();
  }

  /**
   * Exits 1 once the master has what this worker sent before the failure (see wrapUp). A stop
   * asked for meanwhile changes nothing: the process ends as the crash it is.
   */
  private endAfterFailure(): void {
    this.ending ??= { reason: 'crash', code: 1 };
    // what else runs in the worker learns it ends, during the round trip
    this.abort.abort();
    void this.syncWithMaster().then(() => this.exit(1));
  }

  /** worker.done(code): finish for good once the current execution returns. */
  finish(code: number): void {
    if (this.ending) return;
    this.ending = { reason: 'done', code };
    this.send({ $drover: 'done', code });
    this.abort.abort();
    if (!this.loop || !this.busy) void this.wrapUp();
  }

  /** A plain script took over its own stop (its SIGTERM handler): the runtime does not exit for it. */
  private scriptEndsItself = false;
  /** the processes a script's stop sent SIGTERM to, kept for their SIGKILL */
  private stopTree: ProcessRef[] = [];
  private relayingStop = false;
  /** a SIGINT/SIGTERM reached this process straight: the next one exits at once */
  private signalledDirectly = false;
  /** the SIGTERM relayed to the script's own handler, held while the group's copy may come */
  private pendingRelay: NodeJS.Timeout | null = null;

  /**
   * Stop requested (by the master, a signal, or the master's death). `signal` is the one that
   * came straight to this process, if any; `masterSignal`, the one the master stops on, whose copy
   * may reach this process too (a signal sent to the whole process group).
   */
  requestStop(
    reason: ExitReason | 'signal' | 'orphan',
    code: number,
    signal?: NodeJS.Signals,
    masterSignal?: StopSignal,
  ): void {
    if (this.ending) return;
    this.ending = { reason, code };
    if (reason !== 'signal' && reason !== 'orphan')
      this.stopDeadline = Date.now() + this.envelope.stopTimeout;
    this.abort.abort();
    // A signal the script handles itself has reached its handler already; any other stop reaches
    // a script's SIGTERM handler as SIGTERM, as under a plain supervisor: once. When the master
    // stops on a SIGTERM, the group's copy may be on its way, and the relay waits for it a little.
    const scriptHasHandler = signal === 'SIGTERM' && process.listenerCount('SIGTERM') > 1;
    if (!scriptHasHandler && process.listenerCount('SIGTERM') > 1) {
      if (masterSignal !== 'SIGTERM') this.relaySigterm();
      else
        this.pendingRelay = setTimeout(() => {
          // after this turn's poll phase, where a copy that came meanwhile is read first
          setImmediate(() => {
            if (!this.pendingRelay) return;
            this.pendingRelay = null;
            this.relaySigterm();
          });
        }, COPY_WAIT_MS);
    }
    const handled = scriptHasHandler || process.listenerCount('SIGTERM') > 1;
    // (an orphan's end is bound by ORPHAN_DEADLINE_MS instead)
    if (handled && !this.loop && !this.extension) {
      // A plain script that handles SIGTERM itself (server.close(), flush, exit) ends the process
      // itself: process.exit(), or its event loop emptying, which the channel to the master must
      // then not hold up. The master's stopTimeout (SIGKILL) bounds it.
      this.scriptEndsItself = true;
      (process.channel as { unref?: () => void } | undefined)?.unref?.();
      // Its own processes get SIGTERM with it, as a service's whole control group does under
      // systemd; what ignores it is SIGKILLed just before the master's SIGKILL would orphan it.
      // They are remembered: one whose parent dies of the SIGTERM belongs to init afterwards.
      if (!this.descendantsEnded) {
        this.stopTree = Process.descendants(process.pid);
        signalEach(this.stopTree, 'SIGTERM');
        if (this.stopDeadline !== null) {
          const at = Math.max(0, this.stopDeadline - Date.now() - STOP_MARGIN_MS - EXIT_CHILD_GRACE_MS);
          setTimeout(() => {
            if (this.descendantsEnded) return;
            signalEach([...this.stopTree, ...Process.descendants(process.pid)], 'SIGKILL');
          }, at).unref();
        }
      }
      return;
    }
    // In loop mode the loop calls wrapUp after the current execution; otherwise do it now.
    if (!this.loop || !this.busy) void this.wrapUp();
  }

  /** The master's stop, to the script's own SIGTERM handler. */
  private relaySigterm(): void {
    // the runtime's own listener would take the relayed SIGTERM for one sent to this process
    this.relayingStop = true;
    try {
      process.emit('SIGTERM', 'SIGTERM');
    } finally {
      this.relayingStop = false;
    }
  }

  private wrapping = false;

  /** Drains the servers, then exits with the code the ending called for. */
  private async wrapUp(): Promise<void> {
    if (this.wrapping || !this.ending) return;
    this.wrapping = true;
    await this.extension?.drain();
    await this.servers.drain();
    // process.exit() drops what the channel to the master still queues: the last messages the
    // script sent, a pool task's result. A round trip returns once the master has read them.
    await this.syncWithMaster();
    if (this.servers.used) {
      // node:cluster's master may have handed this worker a connection just before it learned
      // that the server closed. The worker answers "not accepted" and the master gives it to
      // another worker, but only while this one lives: exited, the connection would hang in the
      // master. The round trip above brought every such handoff in; a second carries the answers back.
      await this.syncWithMaster();
    }
    this.exit(this.ending.code);
  }

  private syncSeq = 0;
  private readonly syncs = new Map<number, () => void>();

  /** Resolves once the master has answered everything sent before, or after `timeoutMs`. */
  private syncWithMaster(timeoutMs = SYNC_TIMEOUT_MS): Promise<void> {
    if (!process.connected) return Promise.resolve();
    const seq = ++this.syncSeq;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.syncs.delete(seq);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.syncs.set(seq, done);
      this.send({ $drover: 'sync', seq });
    });
  }

  /**
   * Ends the process with `code`, and its descendants before it (all levels, detached ones too):
   * SIGTERM, a short grace, SIGKILL. Once this process is gone they belong to init and nobody
   * could find them any more. Returns at once; the process exits when they are gone.
   */
  exit(code: number): void {
    if (this.exiting) return;
    this.exiting = true;
    const found = Process.descendants(process.pid);
    if (found.length === 0) {
      this.descendantsEnded = true;
      process.exit(code);
    }
    void endDescendants(process.pid, this.childGraceMs(), found)
      .catch(() => {})
      .finally(() => {
        this.descendantsEnded = true;
        process.exit(code);
      });
  }

  private orphan(): void {
    this.orphaned = true;
    // the master read this worker's output: a write now fails (EPIPE), and must not end the
    // script's last steps as an uncaught error
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    setTimeout(() => this.exit(0), ORPHAN_DEADLINE_MS).unref();
    this.requestStop('orphan', 0);
  }

  /** The master is gone: this process was handed to another parent, or the master is a zombie. */
  private masterIsDead(): boolean {
    const self = Process.stat(process.pid);
    if (self && self.ppid !== this.masterPid) return true;
    const master = Process.stat(this.masterPid);
    return master === null || isDeadState(master.state);
  }

  private childGraceMs(): number {
    if (this.orphaned) return ORPHAN_CHILD_GRACE_MS;
    if (this.stopDeadline === null) return CHILD_GRACE_MS;
    const left = this.stopDeadline - Date.now() - STOP_MARGIN_MS;
    return Math.min(CHILD_GRACE_MS, Math.max(0, left));
  }
}
