import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

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

/**
 * When `path` is larger than `maxBytes`: copies it to `<path>.1` (replacing that one) and
 * truncates it in place, as logrotate's `copytruncate` does, so that a process appending to it
 * (O_APPEND) goes on at its new end and nothing holds a renamed or deleted file. `sameAs`: the
 * file must be the one open on that descriptor (a daemon checks its own stdout), else it is left
 * alone. Returns whether it was cut; never throws.
 */
export function trimOutputFile(
  path: string,
  opts: { maxBytes?: number; noFollow?: boolean; sameAs?: number } = {},
): boolean {
  const maxBytes = opts.maxBytes ?? OUTPUT_MAX_BYTES;
  const noFollow = opts.noFollow ? constants.O_NOFOLLOW : 0;
  let source: number | undefined;
  let copy: number | undefined;
  try {
    source = openSync(path, constants.O_RDWR | noFollow);
    const stats = fstatSync(source);
    if (!stats.isFile() || stats.size <= maxBytes) return false;
    if (opts.sameAs !== undefined) {
      const open = fstatSync(opts.sameAs);
      if (open.ino !== stats.ino || open.dev !== stats.dev) return false;
    }
    copy = openSync(
      `${path}.1`,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | noFollow,
      0o600,
    );
    const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
    let at = 0;
    for (;;) {
      const read = readSync(source, buffer, 0, buffer.length, at);
      if (read === 0) break;
      let written = 0;
      while (written < read) written += writeSync(copy, buffer, written, read - written);
      at += read;
    }
    ftruncateSync(source, 0);
    return true;
  } catch {
    return false;
  } finally {
    if (copy !== undefined) closeSync(copy);
    if (source !== undefined) closeSync(source);
  }
}
