import { type FSWatcher, statSync, watch } from 'node:fs';
import { basename } from 'node:path';

/**
 * An inotify watch of a directory for some of its entries and for the directory itself (removed,
 * renamed, its mode changed). A directory removed and made again is another one: `replaced`
 * says so, and `start()` watches the new one. No polling; the watch never keeps the process alive.
 */
export class DirectoryWatch {
  private watcher: FSWatcher | null = null;
  /** inode of the directory being watched */
  private watchedIno = -1;

  /**
   * @param names the entries of `dir` whose events matter (others, such as other groups' files in
   *   a shared run directory, are not this watch's business)
   * @param onEvent called on each event that matters, and when the watch ends with an error
   */
  constructor(
    private readonly dir: string,
    private readonly names: readonly string[],
    private readonly onEvent: () => void,
  ) {}

  /** Watches the directory as it is now; false when it cannot (it is gone): try again later. */
  start(): boolean {
    this.stop();
    try {
      this.watchedIno = statSync(this.dir).ino;
      const own = basename(this.dir);
      const watcher = watch(this.dir, { persistent: false }, (_event, name) => {
        if (name === null || name === own || this.names.includes(String(name))) this.onEvent();
      });
      // the directory itself went away: its watch ends here
      watcher.on('error', () => this.onEvent());
      this.watcher = watcher;
      return true;
    } catch {
      this.watchedIno = -1;
      return false;
    }
  }

  /** True when the directory at the path is not the one watched (gone, or made again). */
  get replaced(): boolean {
    try {
      return statSync(this.dir).ino !== this.watchedIno;
    } catch {
      return true;
    }
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
  }
}
