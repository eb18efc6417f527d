import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { DirectoryWatch } from '../runtime/DirectoryWatch.js';

/** Lets a burst of events (an `rm -rf`, a rotation's rename and create) settle into one check. */
const SETTLE_MS = 50;
/** A directory that is gone is looked for again, less and less often. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;

/**
 * Notices when a log file is removed or moved away while it is written (an `rm`, a logrotate
 * `create` without a signal, a cleaner that removed the whole directory). Its writer would
 * otherwise go on writing into a file no one can open. Event-driven: an inotify watch of the
 * directory, no polling; a directory removed whole is watched again once it is back.
 */
export class LogFileWatch {
  private readonly watch: DirectoryWatch;
  private timer: NodeJS.Timeout | null = null;
  private retryMs = 0;
  private stopped = false;

  /**
   * @param paths the files to keep in place, all in `dir`
   * @param onGone called when one of them is missing; returns whether it was put back (false:
   *   try again later, as for a directory that cannot be made yet)
   */
  constructor(
    dir: string,
    private readonly paths: readonly string[],
    private readonly onGone: () => boolean,
  ) {
    this.watch = new DirectoryWatch(
      dir,
      paths.map((p) => basename(p)),
      () => this.schedule(SETTLE_MS),
    );
  }

  start(): void {
    if (!this.watch.start()) this.schedule(SETTLE_MS);
  }

  /** Checks now, as an event would have it checked: a file that is missing is put back. */
  checkNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.watch.stop();
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.check();
    }, delayMs);
    this.timer.unref();
  }

  private check(): void {
    if (this.stopped) return;
    const missing = this.paths.some((p) => !existsSync(p));
    const putBack = !missing || this.onGone();
    const watched = putBack && (!this.watch.replaced || this.watch.start());
    if (watched) {
      this.retryMs = 0;
      return;
    }
    this.retryMs = this.retryMs === 0 ? RETRY_FIRST_MS : Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.schedule(this.retryMs);
  }
}
