import { type ChildProcess, spawn } from 'node:child_process';

/**
 * The last line of defence against orphans. A worker whose master dies exits on its own when
 * its event loop is free (see WorkerRuntime); one blocked in synchronous code cannot. The
 * reaper is a tiny shell process (about 1 MB, so not a second Node runtime) that holds a pipe
 * from the master: when the pipe closes, for whatever reason the master died, it waits a grace
 * period and SIGKILLs the workers the master last told it about (those still running with the
 * start time the master saw, not a later process given the same pid) and all their descendants.
 *
 * POSIX sh (dash runs it): builtins only, no process per step. The descendants come from one
 * scan of `/proc/<pid>/stat` (the per-task `children` file needs a kernel option that is often
 * off); the command name may hold spaces and parentheses, so the fields start after the last `) `.
 */
// biome-ignore-start lint/suspicious/noTemplateCurlyInString: shell parameter expansions, not templates
const SCRIPT = [
  'trap "" INT HUP TTIN TTOU',
  // the line it appends to the group's log (if any) tells the log's reader the master died
  'log=$DROVER_REAPER_LOG group=$DROVER_REAPER_GROUP',
  'note() {',
  '  [ -n "$log" ] && [ -f "$log" ] || return 0',
  '  t=$(date -u +%Y-%m-%dT%H:%M:%S.000Z 2>/dev/null)',
  '  printf "%s error   [%s:reaper #%s] the master (pid %s) ended without stopping its workers (killed, or crashed): %s\\n" "$t" "$group" "$$" "$PPID" "$1" >> "$log" 2>/dev/null',
  '}',
  'procs=""',
  'while IFS= read -r line; do procs="$line"; done',
  '[ -z "$procs" ] && exit 0',
  'sleep "$1"',
  // sets state, ppid, start (fields 3, 4, 22) of a live process; fails for a gone one or a zombie
  'stat_of() {',
  '  s=""',
  '  { read -r s < "/proc/$1/stat"; } 2>/dev/null || return 1',
  '  s=${s##*) }',
  '  set -- $s',
  '  state=$1 ppid=$2 start=${20}',
  '  case $state in Z|X|x) return 1 ;; esac',
  '}',
  // the workers given as pid:starttime, still the same processes
  'tree=" "',
  'for w in $procs; do',
  '  p=${w%%:*}',
  '  stat_of "$p" || continue',
  '  case $w in *:*) [ "$start" = "${w#*:}" ] || continue ;; esac',
  '  tree="$tree$p "',
  'done',
  '[ "$tree" = " " ] && { note "its workers had ended on their own"; exit 0; }',
  // one scan: pid:ppid of every live process; then their descendants, every level
  'all=""',
  'for d in /proc/[0-9]*; do p=${d#/proc/}; stat_of "$p" && all="$all $p:$ppid"; done',
  'grown=1',
  'while [ -n "$grown" ]; do',
  '  grown=""',
  '  for e in $all; do',
  '    case $tree in *" ${e#*:} "*) ;; *) continue ;; esac',
  '    case $tree in *" ${e%%:*} "*) continue ;; esac',
  '    tree="$tree${e%%:*} "',
  '    grown=1',
  '  done',
  'done',
  'kill -9 $tree 2>/dev/null',
  'note "killed the processes it left (pids${tree% })"',
  'exit 0',
].join('\n');
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: shell parameter expansions, not templates

/** A worker process as the reaper is told of it; the start time guards against a recycled pid. */
export interface ReapTarget {
  pid: number;
  startTime?: number | null;
}

export class Reaper {
  private child: ChildProcess | null = null;
  private last = '';
  private closed = false;

  /**
   * `log`: the group's log file and name, to which the reaper appends one line when it finds the
   * master dead (none in the foreground, where the log is the terminal). `onFailure`: the reaper
   * could not start (no `/bin/sh`, as in a distroless image; a pids limit reached).
   */
  constructor(
    private readonly title: string,
    private readonly graceSeconds = 0.5,
    private readonly log?: { file: string; baseTitle: string },
    private readonly onFailure?: (err: NodeJS.ErrnoException) => void,
  ) {}

  start(): void {
    if (this.closed) return;
    // The script comes through the environment, so `ps` shows a short command line after the title.
    const child = spawn(
      '/bin/sh',
      ['-c', 'eval "$DROVER_REAPER_SCRIPT"', 'reaper', String(this.graceSeconds)],
      {
        argv0: this.title,
        env: {
          ...process.env,
          DROVER_REAPER_SCRIPT: SCRIPT,
          DROVER_REAPER_LOG: this.log?.file ?? '',
          DROVER_REAPER_GROUP: this.log?.baseTitle ?? '',
        },
        stdio: ['pipe', 'ignore', 'ignore'],
      },
    );
    // a spawn that failed emits 'error' and no 'exit': no restart loop, the master is told once
    child.on('error', (err) => this.onFailure?.(err));
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

  /** Tells the reaper which workers to kill, with their descendants, if the master dies. */
  watch(workers: readonly ReapTarget[]): void {
    // only real pids: `kill -9 -1` in the script would kill every process
    const line = workers
      .filter(({ pid }) => Number.isSafeInteger(pid) && pid > 1)
      .map(({ pid, startTime }) =>
        typeof startTime === 'number' && Number.isSafeInteger(startTime) ? `${pid}:${startTime}` : `${pid}`,
      )
      .join(' ');
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
