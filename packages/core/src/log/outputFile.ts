import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  lstatSync,
  openSync,
  readSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

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

/** How the lines drover itself puts in an output file begin (a start's mark, a cut's note), before their time. */
export const OUTPUT_MARK = '--- ';
const MARK_LINE = /^--- \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z .* ---$/;

/** Whether `line` is one of drover's own marks in an output file (not something the daemon wrote). */
export function isOutputMark(line: string): boolean {
  return MARK_LINE.test(line);
}

/**
 * Whether `path` holds, in its last `tailBytes`, a line that is not drover's own mark: something
 * the daemon wrote there (a stack trace, a fatal error). False when it cannot be read.
 */
export function outputHasText(path: string, tailBytes = 64 * 1024): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY);
    const { size } = fstatSync(fd);
    const length = Math.min(size, tailBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer
      .toString('utf8')
      .split('\n')
      .some((line) => line.trim() !== '' && !isOutputMark(line));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
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
