import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A background daemon's stdout and stderr: `<logDir>/<baseTitle>.out`, beside the group's log.
 * What reaches the two descriptors without going through the logger lands there: a crash's stack
 * trace as Node prints it, V8's `FATAL ERROR` of a heap exhausted, a native abort's message,
 * Node's warnings, and whatever a library master script prints. Rotation never renames nor
 * deletes it (the descriptors are opened once, at the spawn, and would follow a rename), so it
 * is always the file the operator opens.
 */
export function outputFileOf(logFile: string): string {
  return `${logFile.endsWith('.log') ? logFile.slice(0, -'.log'.length) : logFile}.out`;
}

/** The longest name (without `.out.1`) daemonOutputFile gives a file: a file name has at most 255 bytes. */
const MAX_OUTPUT_STEM = 200;

/**
 * The output file of a daemon that hosts `groups` (the first one's log directory): the group's
 * `<baseTitle>.out` for a daemon of one group, and for several, the daemon's own, named after
 * them as its title is: `web,jobs.out` (`web,jobs,+3.out` when their names would make it too
 * long). So a group started again as a daemon of its own, while the daemon it left runs its other
 * groups, never shares that one's file (a group's name has no comma).
 */
export function daemonOutputFile(groups: readonly { baseTitle: string; logFile: string }[]): string {
  const first = groups[0];
  if (!first) throw new Error('daemonOutputFile: no group');
  if (groups.length === 1) return outputFileOf(first.logFile);
  const names = groups.map((g) => g.baseTitle);
  let stem = names.join(',');
  if (stem.length > MAX_OUTPUT_STEM) {
    const cut = (kept: number) => `${names.slice(0, kept).join(',')},+${names.length - kept}`;
    let kept = 1;
    while (kept < names.length - 1 && cut(kept + 1).length <= MAX_OUTPUT_STEM) kept++;
    stem = cut(kept);
  }
  return join(dirname(first.logFile), `${stem}.out`);
}

/**
 * What the daemon `pid`, which ran group `baseTitle` logging to `logFile`, wrote in its output
 * file during that run (see runOutput): looked for in the group's own `<baseTitle>.out`, then in
 * the files of daemons of several groups that name it (daemonOutputFile) beside it.
 */
export function groupRunOutput(logFile: string, baseTitle: string, pid: number): RunOutput | null {
  const own = outputFileOf(logFile);
  const found = runOutput(own, pid);
  if (found) return found;
  let names: string[];
  try {
    names = readdirSync(dirname(logFile));
  } catch {
    return null;
  }
  for (const name of names) {
    if (!name.endsWith('.out') || !name.slice(0, -'.out'.length).split(',').includes(baseTitle)) continue;
    const path = join(dirname(logFile), name);
    if (path === own) continue;
    const output = runOutput(path, pid);
    if (output) return output;
  }
  return null;
}

/** How the lines drover itself puts in an output file begin (a start's mark, a cut's note), before their time. */
export const OUTPUT_MARK = '--- ';
const MARK_LINE = /^--- \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z .* ---$/;
/** The daemon a mark is of: a start's `…, pid 4242 ---`, a cut's `--- <time> pid 4242: …`. */
const MARK_PID = /(?:, pid (\d+) ---$|^--- \S+ pid (\d+): )/;
const START_MARK = /^--- \S+ start of .* in the background(?:, pid \d+)? ---$/;

/** Whether `line` is one of drover's own marks in an output file (not something the daemon wrote). */
export function isOutputMark(line: string): boolean {
  return MARK_LINE.test(line);
}

/**
 * The line a launcher puts in the output file of the daemon it started, before anything the
 * daemon writes: `--- <time> start of 'web', 'jobs' in the background, pid 4242 ---`.
 */
export function startMark(names: readonly string[], pid: number | undefined): string {
  const groups = names.map((n) => `'${n}'`).join(', ');
  return `${OUTPUT_MARK}${new Date().toISOString()} start of ${groups} in the background${pid ? `, pid ${pid}` : ''} ---\n`;
}

/** The line a daemon puts at the start of its output file after it cut it (see trimOutputFile). */
export function cutNote(pid: number, maxBytes: number, copy: string): string {
  return `${OUTPUT_MARK}${new Date().toISOString()} pid ${pid}: this file passed ${maxBytes / 1024 / 1024} MiB: what it held is now in ${copy} ---\n`;
}

/** What a daemon's run wrote in its output file, and the line that says most of it. */
export interface RunOutput {
  /** the file it is in: `<name>.out`, or `<name>.out.1` when a later cut moved it there */
  file: string;
  /**
   * `crash`: Node's report of an uncaught exception or an unhandled rejection (it ends with
   * `Node.js v…`), `line` its error (`Error: boom`); `fatal`: V8's or Node's fatal error (`FATAL
   * ERROR: … heap out of memory`, a native abort), `line` that one; `text`: anything else the
   * daemon printed (a library master's console.log, a warning), `line` its last line
   */
  kind: 'crash' | 'fatal' | 'text';
  line: string;
}

/** The longest line a RunOutput quotes. */
const MAX_QUOTED_CHARS = 200;
/** How far back from its end an output file is read to find where a run began. */
const MAX_RUN_SCAN_BYTES = 32 * 1024 * 1024;
/** The lines of a run kept to tell what it holds: the last ones, where a crash's report is. */
const MAX_RUN_LINES = 1000;

/**
 * What the daemon `pid` wrote in the output file `path` during its own run, besides drover's
 * marks: the lines after its start mark (or after the note of a cut it made) up to the next
 * run's start mark; looked for in `path`, then in `path.1` (a later cut moved it there). Null
 * when it wrote nothing, or its run's mark is not found (an older drover, a file emptied).
 */
export function runOutput(path: string, pid: number): RunOutput | null {
  for (const file of [path, `${path}.1`]) {
    const lines = linesOfRun(file, pid);
    if (lines === undefined) continue;
    return lines.length === 0 ? null : { file, ...describeRun(lines) };
  }
  return null;
}

/**
 * The lines `pid`'s run wrote in `file`, oldest first (at most MAX_RUN_LINES, the last ones);
 * undefined when its mark is not in the file (or the file cannot be read).
 */
function linesOfRun(file: string, pid: number): string[] | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY);
    const { size } = fstatSync(fd);
    const chunk = Buffer.allocUnsafe(256 * 1024);
    // read backwards; `rest` is the start of a line whose beginning is in the next chunk back
    let rest = Buffer.alloc(0);
    let at = size;
    let run: string[] = [];
    const stop = Math.max(0, size - MAX_RUN_SCAN_BYTES);
    const take = (line: string): string[] | undefined | null => {
      if (!isOutputMark(line)) {
        if (line.trim() !== '' && run.length < MAX_RUN_LINES) run.push(line);
        return null;
      }
      const match = MARK_PID.exec(line);
      const markPid = Number(match?.[1] ?? match?.[2]);
      if (markPid === pid) return run.reverse();
      // the lines after the mark of another daemon (its start, its cut) are that daemon's
      if (START_MARK.test(line) || match) run = [];
      return null;
    };
    while (at > stop) {
      const length = Math.min(chunk.length, at - stop);
      at -= length;
      readSync(fd, chunk, 0, length, at);
      let data = Buffer.concat([chunk.subarray(0, length), rest]);
      let end = data.length;
      for (let i = data.length - 1; i >= 0; i--) {
        if (data[i] !== 0x0a) continue;
        const found = take(data.toString('utf8', i + 1, end));
        if (found) return found;
        end = i;
      }
      data = data.subarray(0, end);
      rest = Buffer.from(data);
    }
    if (at === 0 && rest.length > 0) {
      const found = take(rest.toString('utf8'));
      if (found) return found;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What a run's lines hold: see RunOutput. */
function describeRun(lines: readonly string[]): Omit<RunOutput, 'file'> {
  const quote = (line: string) => {
    const text = line.trim();
    return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
  };
  const fatal = lines.find((line) => /^(FATAL ERROR:|#\s*Fatal error)/.test(line));
  if (fatal) return { kind: 'fatal', line: quote(fatal) };
  const footer = lines.findLastIndex((line) => /^Node\.js v\d/.test(line));
  if (footer !== -1) {
    // Node's report: the source line, a caret under it, a blank line, then the error
    const caret = lines.slice(0, footer).findLastIndex((line) => /^\s*\^+\s*$/.test(line));
    const head =
      (caret === -1 ? undefined : lines.slice(caret + 1, footer).find((l) => l.trim() !== '')) ??
      lines.slice(0, footer).findLast((l) => /^\s*(\w*(Error|Exception)\b|\[\w+)/.test(l));
    return { kind: 'crash', line: head ? quote(head) : '' };
  }
  return { kind: 'text', line: quote(lines[lines.length - 1] as string) };
}

/**
 * Past this size an output file is cut (see trimOutputFile): with the previous part kept in
 * `<name>.out.1`, the two take at most twice this on disk (plus what is written between two
 * checks of a running daemon).
 */
export const OUTPUT_MAX_BYTES = 10 * 1024 * 1024;

const COPY_CHUNK_BYTES = 1024 * 1024;

/** Free space a cut leaves on the disk at least, while its copy and the file both exist. */
const CUT_SPARE_BYTES = 1024 * 1024;

/** What trimOutputFile did. */
export interface TrimOutcome {
  /** the file was copied to `<path>.1` and emptied */
  cut: boolean;
  /**
   * why a cut that was due (the file is past `maxBytes`) did not happen: the disk has no room
   * for the copy, or the copy failed (its partial `<path>.1` is removed); null when none was due
   */
  failure: string | null;
}

/**
 * When `path` is larger than `maxBytes`: copies it to `<path>.1` (replacing that one) and
 * truncates it in place, as logrotate's `copytruncate` does, so that a process appending to it
 * (O_APPEND) goes on at its new end and nothing holds a renamed or deleted file. `sameAs`: the
 * file must be the one open on that descriptor (a daemon checks its own stdout), else it is left
 * alone. A cut that would leave less than 1 MiB free on the disk is not begun; a copy that fails
 * (ENOSPC, EFBIG) has its partial `<path>.1` removed, and the file is left whole: a cut that
 * cannot finish leaves the disk as it found it (but for the older `<path>.1`, which the copy
 * replaced). Never throws.
 */
export function trimOutputFile(
  path: string,
  opts: { maxBytes?: number; noFollow?: boolean; sameAs?: number } = {},
): TrimOutcome {
  const maxBytes = opts.maxBytes ?? OUTPUT_MAX_BYTES;
  const noFollow = opts.noFollow ? constants.O_NOFOLLOW : 0;
  const copyPath = `${path}.1`;
  let source: number | undefined;
  let copy: number | undefined;
  let copying = false;
  try {
    source = openSync(path, constants.O_RDWR | noFollow);
    const stats = fstatSync(source);
    if (!stats.isFile() || stats.size <= maxBytes) return { cut: false, failure: null };
    if (opts.sameAs !== undefined) {
      const open = fstatSync(opts.sameAs);
      if (open.ino !== stats.ino || open.dev !== stats.dev) return { cut: false, failure: null };
    }
    const room = roomFor(path, copyPath, stats.size);
    if (room !== null) return { cut: false, failure: room };
    copy = openSync(copyPath, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | noFollow, 0o600);
    copying = true;
    const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
    let at = 0;
    for (;;) {
      const read = readSync(source, buffer, 0, buffer.length, at);
      if (read === 0) break;
      let written = 0;
      while (written < read) written += writeSync(copy, buffer, written, read - written);
      at += read;
    }
    copying = false;
    ftruncateSync(source, 0);
    return { cut: true, failure: null };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    if (!copying) return { cut: false, failure: `it cannot be cut (${code})` };
    // a partial copy would keep the disk as full as the copy made it, for nothing
    if (copy !== undefined) closeSync(copy);
    copy = undefined;
    try {
      unlinkSync(copyPath);
    } catch {
      // gone already
    }
    return {
      cut: false,
      failure: `it cannot be copied to '${copyPath}' (${code}): the partial copy was removed`,
    };
  } finally {
    if (copy !== undefined) closeSync(copy);
    if (source !== undefined) closeSync(source);
  }
}

/**
 * Null when the disk holding `path` has room for a copy of `size` bytes (counting the older
 * `copyPath` it replaces) with CUT_SPARE_BYTES left over; else what it lacks. Null too when it
 * cannot be told: the copy then finds out.
 */
function roomFor(path: string, copyPath: string, size: number): string | null {
  let free: number;
  try {
    const fs = statfsSync(dirname(path));
    free = fs.bavail * fs.bsize;
  } catch {
    return null;
  }
  let replaced = 0;
  try {
    const older = lstatSync(copyPath);
    if (older.isFile()) replaced = older.size;
  } catch {
    // none yet
  }
  if (free + replaced >= size + CUT_SPARE_BYTES) return null;
  return `the disk holding it has ${mib(free)} free, too little for a copy of ${mib(size)}`;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
