import { DirectoryWatch } from '../runtime/DirectoryWatch.js';

/** What the keeper checks and puts back; the master owns the files themselves. */
export interface RunFiles {
  /** The run directory: recreated (0700) when it is gone. Throws when it cannot be. */
  ensureDir(): void;
  /** True while the pid file names this master. */
  pidFileInPlace(): boolean;
  writePidFile(): void;
  /** True while the control socket's path is the socket this master listens on. */
  socketInPlace(): boolean;
  /** Listens again on the socket's path; the old listener goes once the new one is in place. */
  reopenSocket(): Promise<void>;
  /** What was put back, or why it could not be. */
  report(repaired: string[], error?: Error): void;
}

/** Lets a burst of events (a `rm -rf`, the master's own atomic writes) settle into one check. */
const SETTLE_MS = 50;
/** A repair that failed (a file where the directory was, a full disk) is tried again, less and less often. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;

/**
 * Puts back the pid file and the control socket when something removes them while the master
 * runs: a cleaner of temporary files (systemd-tmpfiles ages out what it finds in /tmp), a stray
 * `rm -rf`. Without them `drover status` would call the group stopped and `drover stop` could not
 * reach it, while its workers run on. Event-driven: an inotify watch of the run directory, no
 * polling; a directory removed whole is recreated and watched again.
 */
export class RunFilesKeeper {
  private readonly watch: DirectoryWatch;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private checking = false;
  private again = false;
  private stopped = false;
  /** delay before the next try after a failed repair; 0 while the last check succeeded */
  private retryMs = 0;
  /** the last failure reported, so a failure that stays is logged once, not at every try */
  private lastFailure = '';

  /**
   * @param names the files of this master in `dir` (pid file, socket): events about other files
   *   (other groups sharing the run directory) are not its business
   */
  constructor(
    dir: string,
    names: readonly string[],
    private readonly files: RunFiles,
  ) {
    this.watch = new DirectoryWatch(dir, names, () => this.schedule());
  }

  start(): void {
    this.watchDir();
  }

  /** For good: a stopping master removes its files itself. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.watch.stop();
  }

  /** A directory that cannot be watched (it is gone) is checked, and made again, soon. */
  private watchDir(): void {
    if (!this.watch.start()) this.schedule();
  }

  /** Checks after `delayMs`, or sooner if a check is already due sooner (an event cuts a retry's wait short). */
  private schedule(delayMs = SETTLE_MS): void {
    if (this.stopped) return;
    const due = Date.now() + delayMs;
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.check();
    }, delayMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.stopped) return;
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    const repaired: string[] = [];
    try {
      this.files.ensureDir();
      if (this.watch.replaced) {
        repaired.push('run directory');
        this.watchDir();
      }
      if (!this.files.pidFileInPlace()) {
        this.files.writePidFile();
        repaired.push('pid file');
      }
      if (!this.files.socketInPlace()) {
        await this.files.reopenSocket();
        repaired.push('control socket');
      }
      if (repaired.length > 0 && !this.stopped) this.files.report(repaired);
      this.retryMs = 0;
      this.lastFailure = '';
    } catch (error) {
      if (!this.stopped && (error as Error).message !== this.lastFailure) {
        this.lastFailure = (error as Error).message;
        this.files.report(repaired, error as Error);
      }
      // no event may come (the watch is on a directory that is gone): try again on a timer
      this.retryMs = this.retryMs === 0 ? RETRY_FIRST_MS : Math.min(RETRY_MAX_MS, this.retryMs * 2);
    } finally {
      this.checking = false;
    }
    if (this.again) {
      this.again = false;
      this.schedule();
    } else if (this.retryMs > 0) this.schedule(this.retryMs);
  }
}
