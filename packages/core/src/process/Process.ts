import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { arch, endianness } from 'node:os';
import { DroverError, describeValue } from '../errors.js';

/** One process as `/proc/<pid>/stat` describes it. */
export interface ProcStat {
  pid: number;
  /** one letter: R running, S sleeping, D disk wait, Z zombie, T stopped, X dead, ... */
  state: string;
  ppid: number;
  pgid: number;
  /** clock ticks since boot (field 22): with the pid, a fingerprint no recycled pid repeats */
  startTime: number;
  utimeTicks: number;
  stimeTicks: number;
  rssBytes: number;
}

/** USER_HZ: the unit of the tick counts in `/proc`, fixed at 100 by the Linux user-space ABI. */
export const CLOCK_TICKS_PER_SECOND = 100;

const FALLBACK_PAGE_SIZE = 4096;
const AT_PAGESZ = 6;
/** Architectures whose auxiliary vector holds 32-bit words. */
const NARROW_ARCHES = new Set(['ia32', 'arm', 'mips', 'mipsel', 'ppc', 's390']);

let procFsPresent: boolean | undefined;
let pageSizeBytes: number | undefined;

/** Whether `/proc` can answer for processes (Linux with procfs mounted). */
export function hasProcFs(): boolean {
  procFsPresent ??= process.platform === 'linux' && existsSync('/proc/self/stat');
  return procFsPresent;
}

/** The kernel page size, read once from the auxiliary vector (AT_PAGESZ); 4096 when unreadable. */
export function pageSize(): number {
  pageSizeBytes ??= readPageSize();
  return pageSizeBytes;
}

function readPageSize(): number {
  try {
    const auxv = readFileSync('/proc/self/auxv');
    const wide = !NARROW_ARCHES.has(arch());
    const word = wide ? 8 : 4;
    const le = endianness() === 'LE';
    for (let at = 0; at + 2 * word <= auxv.length; at += 2 * word) {
      const type = wide
        ? Number(le ? auxv.readBigUInt64LE(at) : auxv.readBigUInt64BE(at))
        : le
          ? auxv.readUInt32LE(at)
          : auxv.readUInt32BE(at);
      if (type === 0) break;
      if (type !== AT_PAGESZ) continue;
      const value = wide
        ? Number(le ? auxv.readBigUInt64LE(at + word) : auxv.readBigUInt64BE(at + word))
        : le
          ? auxv.readUInt32LE(at + word)
          : auxv.readUInt32BE(at + word);
      if (value > 0 && (value & (value - 1)) === 0) return value;
    }
  } catch {
    // no procfs, or not readable: the common page size is right on x86 and most arm64 kernels
  }
  return FALLBACK_PAGE_SIZE;
}

/**
 * Parses the text of `/proc/<pid>/stat`. The command name (field 2) is whatever the process set,
 * spaces and parentheses included, so the fields after it are found from the *last* `)`.
 * Returns null when the text is not a stat line.
 */
export function parseProcStat(text: string, bytesPerPage: number = pageSize()): ProcStat | null {
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return null;
  const pid = Number(text.slice(0, open));
  // Field n (1-based) sits at rest[n - 3]: the fields after the name start with field 3, state.
  const rest = text
    .slice(close + 1)
    .trim()
    .split(' ');
  if (!Number.isSafeInteger(pid) || rest.length < 22) return null;
  const field = (n: number): number => Number(rest[n - 3]);
  const stat: ProcStat = {
    pid,
    state: rest[0] ?? '',
    ppid: field(4),
    pgid: field(5),
    utimeTicks: field(14),
    stimeTicks: field(15),
    startTime: field(22),
    rssBytes: field(24) * bytesPerPage,
  };
  if (!/^[A-Za-z]$/.test(stat.state)) return null;
  for (const value of [
    stat.ppid,
    stat.pgid,
    stat.utimeTicks,
    stat.stimeTicks,
    stat.startTime,
    stat.rssBytes,
  ]) {
    if (!Number.isSafeInteger(value)) return null;
  }
  return stat;
}

/** True for the states of a process that has ended and only waits to be reaped. */
/** `T` (stopped by a signal) or `t` (stopped by a tracer): the process runs nothing until SIGCONT. */
export function isStoppedState(state: string | undefined): boolean {
  return state === 'T' || state === 't';
}

export function isDeadState(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x';
}

function assertPid(pid: number, what: string): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    // kill(0) and kill(-1) address process groups and everyone: never let such a value through.
    throw new DroverError('EINVAL', `drover: ${what} got pid ${describeValue(pid)}`, {
      hint: 'expected a positive integer process id',
    });
  }
}

function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch {
    return null;
  }
}

/** A process by pid: liveness and resource reads from `/proc`, without spawning anything. */
export class Process {
  constructor(readonly pid: number) {
    assertPid(pid, 'new Process()');
  }

  isAlive(): boolean {
    return Process.checkAlive(this.pid);
  }

  /**
   * Whether `pid` names a running process. A zombie is dead: `kill(pid, 0)` calls it alive, and
   * an init that reaps slowly keeps zombies around for seconds. Without procfs, falls back to
   * `kill(pid, 0)` (EPERM still means the process exists).
   */
  static checkAlive(pid: number): boolean {
    assertPid(pid, 'Process.checkAlive()');
    if (hasProcFs()) {
      const text = readProc(pid, 'stat');
      if (text === null) return false;
      const stat = parseProcStat(text);
      return stat !== null && !isDeadState(stat.state);
    }
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  /** The parsed `/proc/<pid>/stat`, or null when the process is gone (or there is no procfs). */
  static stat(pid: number): ProcStat | null {
    assertPid(pid, 'Process.stat()');
    const text = readProc(pid, 'stat');
    return text === null ? null : parseProcStat(text);
  }

  /** Resident set size in bytes from `/proc/<pid>/statm`, or null when the process is gone. */
  static rss(pid: number): number | null {
    assertPid(pid, 'Process.rss()');
    const text = readProc(pid, 'statm');
    if (text === null) return null;
    const pages = Number(text.split(' ')[1]);
    return Number.isSafeInteger(pages) ? pages * pageSize() : null;
  }

  /**
   * The title `ps` shows for `pid` (its command line's first word, which `process.title` and
   * `argv0` set), or null when the process is gone.
   */
  static title(pid: number): string | null {
    assertPid(pid, 'Process.title()');
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return null;
    }
    const end = text.indexOf('\0');
    return (end === -1 ? text : text.slice(0, end)).trimEnd();
  }

  /**
   * Pids of the live (non-zombie) direct children of `pid`, ascending. Read by scanning `/proc`,
   * since the per-task `children` file needs a kernel option that is often off. Once `pid` has
   * exited its children belong to init, so collect them before killing their parent.
   */
  static children(pid: number): number[] {
    assertPid(pid, 'Process.children()');
    if (!hasProcFs()) return [];
    const found: number[] = [];
    for (const entry of readdirSync('/proc')) {
      const child = Number(entry);
      if (!Number.isSafeInteger(child) || child <= 0) continue;
      const text = readProc(child, 'stat');
      if (text === null) continue;
      const stat = parseProcStat(text);
      if (stat && stat.ppid === pid && !isDeadState(stat.state)) found.push(child);
    }
    return found.sort((a, b) => a - b);
  }

  /**
   * The live (non-zombie) descendants of `pid`, every level: its children, theirs, and so on,
   * detached ones included (a new session keeps its parent). One scan of `/proc` builds a map of
   * parents; the result lists parents before their children, each with the start time that tells
   * it from a later process given the same pid. A process whose parent has exited belongs to init
   * and is no longer found here: collect while `pid` lives.
   */
  static descendants(pid: number): ProcStat[] {
    assertPid(pid, 'Process.descendants()');
    return Process.descendantsOfAll([pid]);
  }

  /**
   * `descendants()` of several processes from one scan of `/proc`, each found once (a list of
   * roots whose descendants are wanted together costs one scan, not one per root).
   */
  static descendantsOfAll(pids: readonly number[]): ProcStat[] {
    if (pids.length === 0 || !hasProcFs()) return [];
    const byParent = new Map<number, ProcStat[]>();
    for (const entry of readdirSync('/proc')) {
      const other = Number(entry);
      if (!Number.isSafeInteger(other) || other <= 0) continue;
      const text = readProc(other, 'stat');
      if (text === null) continue;
      const stat = parseProcStat(text);
      if (!stat || isDeadState(stat.state)) continue;
      const siblings = byParent.get(stat.ppid);
      if (siblings) siblings.push(stat);
      else byParent.set(stat.ppid, [stat]);
    }
    const found: ProcStat[] = [];
    const seen = new Set<number>(pids);
    const parents = [...pids];
    for (let at = 0; at < parents.length; at++) {
      for (const child of byParent.get(parents[at] as number) ?? []) {
        if (seen.has(child.pid)) continue;
        seen.add(child.pid);
        found.push(child);
        parents.push(child.pid);
      }
    }
    return found;
  }
}

interface CpuReading {
  startTime: number;
  ticks: number;
  at: number;
}

/**
 * CPU use per pid as a percentage of one core (200 = two cores busy), measured between two calls
 * of `sample` for the same pid. The first sample of a pid reports its average since it started.
 */
export class CpuSampler {
  private readonly last = new Map<number, CpuReading>();

  /**
   * @param now epoch ms of this reading; defaults to `Date.now()`.
   * @returns null when the process is gone (and its history is forgotten).
   */
  sample(pid: number, now: number = Date.now()): number | null {
    const stat = Process.stat(pid);
    if (stat === null || isDeadState(stat.state)) {
      this.last.delete(pid);
      return null;
    }
    const ticks = stat.utimeTicks + stat.stimeTicks;
    const previous = this.last.get(pid);
    this.last.set(pid, { startTime: stat.startTime, ticks, at: now });
    // A different start time means the pid was recycled: the old reading belongs to someone else.
    if (previous && previous.startTime === stat.startTime && now > previous.at) {
      const cpuMs = ((ticks - previous.ticks) * 1000) / CLOCK_TICKS_PER_SECOND;
      return Math.max(0, (cpuMs / (now - previous.at)) * 100);
    }
    return averageSinceStart(stat.startTime, ticks);
  }

  /** Drops the history of a pid (call it when the process has exited). */
  forget(pid: number): void {
    this.last.delete(pid);
  }

  /** Drops the history of every pid not in `pids`. */
  retain(pids: Iterable<number>): void {
    const keep = new Set(pids);
    for (const pid of this.last.keys()) if (!keep.has(pid)) this.last.delete(pid);
  }
}

function averageSinceStart(startTime: number, ticks: number): number | null {
  let uptimeSeconds = Number.NaN;
  try {
    uptimeSeconds = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
  } catch {
    // no procfs: no average to give
  }
  const aliveSeconds = uptimeSeconds - startTime / CLOCK_TICKS_PER_SECOND;
  if (!(aliveSeconds > 0)) return null;
  return Math.max(0, (ticks / CLOCK_TICKS_PER_SECOND / aliveSeconds) * 100);
}
