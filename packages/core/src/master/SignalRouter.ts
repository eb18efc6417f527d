import { fstatSync, writeSync } from 'node:fs';
/**
 * Signals reach a process, not a group: this routes them to every master living in the process
 * (one per `Manage`, several under `ManageMultiple`) and ends the process once all are done.
 *
 *   SIGTERM, SIGINT, SIGQUIT  graceful stop of every group, then exit 0; a second SIGINT forces
 *   SIGHUP                    rolling reload
 *   SIGTTIN / SIGTTOU         one worker more / less (signals sent in a burst coalesce: the
 *                             control socket's `scale` is the exact path)
 *   SIGUSR2                   write the status table to the log
 *   SIGUSR1                   refused, with a warning: Node would open its inspector on
 *                             127.0.0.1:9229, where any local user can run code in the master,
 *                             which often runs as root (`--inspect` at the start still works)
 */
export interface SignalTarget {
  stopBySignal(signal: NodeJS.Signals): Promise<void>;
  forceStop(): void;
  reloadBySignal(): void;
  scaleBySignal(delta: 1 | -1): void;
  logStatus(): void;
  /** A signal that does nothing here, said in the log with what to do instead. */
  refuseSignal(signal: NodeJS.Signals, why: string): void;
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
const INSPECTOR_REFUSED =
  "Node's inspector is not opened on a signal: on 127.0.0.1:9229 any local user could run code in the master; start the master with --inspect to debug it (a worker still opens its own on SIGUSR1)";
const ROUTER_KEY = Symbol.for('drover.signalRouter');

export class SignalRouter {
  private readonly targets = new Set<SignalTarget>();
  private readonly handlers = new Map<NodeJS.Signals, () => void>();
  private stopping: Promise<void> | null = null;
  private forced = false;
  /** exit the process when the last target is done (false for embedding and tests) */
  exitProcess = true;
  /** exit code when a group ends on its own (all workers finished normally) */
  private exitCode = 0;

  static get(): SignalRouter {
    const g = globalThis as Record<symbol, SignalRouter | undefined>;
    g[ROUTER_KEY] ??= new SignalRouter();
    return g[ROUTER_KEY];
  }

  register(target: SignalTarget): void {
    this.targets.add(target);
    if (this.handlers.size === 0) this.install();
  }

  /** A target is done (stopped, or all its workers finished). The last one out ends the process. */
  unregister(target: SignalTarget, exitCode = 0): void {
    if (!this.targets.delete(target)) return;
    this.exitCode = Math.max(this.exitCode, exitCode);
    if (this.targets.size > 0) return;
    // A process about to exit keeps its handlers: with the default actions back, a late SIGHUP
    // would kill it and a late SIGTTIN/SIGTTOU would stop it for good.
    if (!this.exitProcess) this.uninstall();
    else if (!this.stopping) setImmediate(() => exitProcess(this.exitCode));
  }

  private install(): void {
    const on = (signal: NodeJS.Signals, fn: () => void) => {
      this.handlers.set(signal, fn);
      process.on(signal, fn);
    };
    for (const signal of STOP_SIGNALS) on(signal, () => this.onStopSignal(signal));
    on('SIGHUP', () => {
      for (const t of this.targets) t.reloadBySignal();
    });
    on('SIGTTIN', () => {
      for (const t of this.targets) t.scaleBySignal(1);
    });
    on('SIGTTOU', () => {
      for (const t of this.targets) t.scaleBySignal(-1);
    });
    on('SIGUSR2', () => {
      for (const t of this.targets) t.logStatus();
    });
    // Handled, so that Node does not open its inspector; one opened by --inspect is not touched.
    on('SIGUSR1', () => {
      // the script's own handler (a log reopen) took it: nothing was refused
      if (process.listenerCount('SIGUSR1') > 1) return;
      for (const t of this.targets) t.refuseSignal('SIGUSR1', INSPECTOR_REFUSED);
    });
  }

  private uninstall(): void {
    for (const [signal, fn] of this.handlers) process.off(signal, fn);
    this.handlers.clear();
  }

  private onStopSignal(signal: NodeJS.Signals): void {
    if (this.stopping) {
      if (signal !== 'SIGINT') return;
      this.forced = true;
      for (const t of this.targets) t.forceStop();
      return;
    }
    const targets = [...this.targets];
    this.stopping = Promise.all(targets.map((t) => t.stopBySignal(signal))).then(() => {
      if (this.exitProcess) exitProcess(this.forced ? 130 : 0);
      this.uninstall();
    });
  }
}

/**
 * Exits the process. One whose terminal hung up (an ssh session dropped under a foreground
 * master) ends with SIGKILL instead, once every 'exit' listener has run: Node 20 crashes (SIGSEGV,
 * then SIGABRT) restoring a terminal that is gone (nodejs/node#51519), and the core dump and the
 * kernel's segfault line would say that drover crashed after a clean stop.
 */
function exitProcess(code: number): void {
  // registered last, so it runs after every other listener
  process.once('exit', () => {
    if (terminalHungUp()) process.kill(process.pid, 'SIGKILL');
  });
  process.exit(code);
}

/**
 * True when one of the standard descriptors is a terminal that hung up: a character device an
 * empty write to which fails with EIO (isatty() is false by then: the terminal answers no
 * question any more).
 */
function terminalHungUp(): boolean {
  for (const fd of [0, 1, 2]) {
    try {
      // a file on a failing disk answers EIO too: only a terminal (a character device) is meant
      if (!fstatSync(fd).isCharacterDevice()) continue;
      writeSync(fd, '');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EIO') return true;
    }
  }
  return false;
}
