import { type ChildProcess, spawn } from 'node:child_process';

/**
 * The last line of defence against orphans. A worker whose master dies exits on its own when
 * its event loop is free (see WorkerRuntime); one blocked in synchronous code cannot. The
 * reaper is a tiny shell process (about 1 MB, so not a second Node runtime) that holds a pipe
 * from the master: when the pipe closes, for whatever reason the master died, it waits a grace
 * period and SIGKILLs the workers the master last told it about, and their children.
 */
const SCRIPT = [
  'trap "" INT HUP TTIN TTOU',
  'pids=""',
  'while IFS= read -r line; do pids="$line"; done',
  '[ -z "$pids" ] && exit 0',
  'sleep "$1"',
  // a worker's own children first (they would be orphaned), then the worker
  'for p in $pids; do kids=$(cat /proc/$p/task/$p/children 2>/dev/null); kill -9 $kids "$p" 2>/dev/null; done',
  'exit 0',
].join('\n');

export class Reaper {
  private child: ChildProcess | null = null;
  private last = '';
  private closed = false;

  constructor(
    private readonly title: string,
    private readonly graceSeconds = 0.5,
  ) {}

  start(): void {
    if (this.closed) return;
    // The script comes through the environment, so `ps` shows a short command line after the title.
    const child = spawn(
      '/bin/sh',
      ['-c', 'eval "$DROVER_REAPER_SCRIPT"', 'reaper', String(this.graceSeconds)],
      {
        argv0: this.title,
        env: { ...process.env, DROVER_REAPER_SCRIPT: SCRIPT },
        stdio: ['pipe', 'ignore', 'ignore'],
      },
    );
    child.on('error', () => {});
    child.stdin?.on('error', () => {});
    // Killed by someone while the master lives: start a new one with the current list.
    child.once('exit', () => {
      if (this.child === child) this.child = null;
      if (!this.closed) setImmediate(() => this.start());
    });
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    this.child = child;
    if (this.last) child.stdin?.write(`${this.last}\n`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Tells the reaper which pids to kill if the master dies. */
  watch(pids: readonly number[]): void {
    // only real pids: `kill -9 -1` in the script would kill every process
    const line = pids.filter((pid) => Number.isSafeInteger(pid) && pid > 1).join(' ');
    if (line === this.last) return;
    this.last = line;
    this.child?.stdin?.write(`${line}\n`);
  }

  /** The master is stopping cleanly: nothing left to reap. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.stdin?.end('\n');
    await exited;
  }
}
