import { type FileHandle, open, stat } from 'node:fs/promises';
import { DroverError } from '../errors.js';

export interface TailOptions {
  /** lines from the end of the file to start with; default 10 (0: only what comes next) */
  lines?: number;
  /** keep reading what is appended, across rotation, until `signal` aborts; default false */
  follow?: boolean;
  /** ends a follow; the iteration then finishes without error */
  signal?: AbortSignal;
  /** how often a followed file is checked for new lines and rotation, in ms; default 200 */
  pollMs?: number;
  /**
   * when the file holds fewer than `lines` lines, read the rest from the files rotated before it,
   * `<path>.1` (the newest), `<path>.2`, ... (the classical names drover's rotation gives); default false
   */
  rotated?: boolean;
}

const CHUNK_BYTES = 64 * 1024;
const DEFAULT_POLL_MS = 200;

/**
 * The last `count` lines of `path`, reading only past byte `from` (a file may hold earlier runs'
 * lines). A missing file has no lines.
 */
export async function lastLines(path: string, count: number, from = 0): Promise<string[]> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw readError(path, err);
  }
  try {
    const { size } = await handle.stat();
    const { lines } = await readTail(handle, size, count, from);
    return lines;
  } finally {
    await handle.close();
  }
}

/** Reads backwards from `end` in chunks until `count` full lines are found (or `from` is reached). */
async function readTail(
  handle: FileHandle,
  end: number,
  count: number,
  from: number,
): Promise<{ lines: string[] }> {
  if (count <= 0 || end <= from) return { lines: [] };
  let start = end;
  let text = '';
  for (;;) {
    const next = Math.max(from, start - CHUNK_BYTES);
    const buffer = Buffer.alloc(start - next);
    await handle.read(buffer, 0, buffer.length, next);
    // Chunks may cut a UTF-8 character; bytes are joined before decoding below.
    text = buffer.toString('latin1') + text;
    start = next;
    const newlines = countNewlines(text);
    if (start === from || newlines > count) break;
  }
  const lines = Buffer.from(text, 'latin1').toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  // Unless the read reached `from`, the first piece may be a partial line.
  if (start > from && lines.length > count) lines.shift();
  return { lines: lines.slice(-count) };
}

function countNewlines(text: string): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) n++;
  return n;
}

function readError(path: string, err: unknown): DroverError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new DroverError('ELOGREAD', `drover: cannot read log file '${path}' (${code})`, {
    hint: 'check that the group writes its log there (background mode) and that you may read it',
    cause: err,
  });
}

function validCount(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new DroverError('EINVAL', `drover: tailLog lines is ${String(value)}`, {
      hint: 'expected an integer >= 0',
    });
  }
  return value;
}

/**
 * The last `lines` lines of a log file, then (with `follow`) every line appended to it, as
 * `tail -F` does: when the file is rotated (renamed away and created again) the rest of the old
 * file is read to its end before the new one is followed from its start; a file truncated in
 * place is read again from its start. Lines are yielded without their newline; a last line
 * without newline waits for it while following.
 */
export async function* tailLog(path: string, opts: TailOptions = {}): AsyncGenerator<string> {
  const count = validCount(opts.lines ?? 10);
  const { follow = false, signal } = opts;
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  if (signal?.aborted) return;

  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw readError(path, err);
  }
  try {
    const first = await handle.stat();
    const { lines } = await readTail(handle, first.size, count, 0);
    if (opts.rotated && lines.length < count) {
      for (const line of await rotatedLines(path, count - lines.length, first.ino)) yield line;
    }
    for (const line of lines) yield line;
    if (!follow) return;

    let position = first.size;
    let ino = first.ino;
    let partial = '';
    const buffer = Buffer.alloc(CHUNK_BYTES);
    /** Reads what the open file holds past `position`, yielding complete lines. */
    async function* drain(h: FileHandle): AsyncGenerator<string> {
      for (;;) {
        const { bytesRead } = await h.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) return;
        position += bytesRead;
        partial += buffer.toString('latin1', 0, bytesRead);
        let newline = partial.indexOf('\n');
        while (newline !== -1) {
          yield Buffer.from(partial.slice(0, newline), 'latin1').toString('utf8');
          partial = partial.slice(newline + 1);
          newline = partial.indexOf('\n');
        }
      }
    }

    while (!signal?.aborted) {
      yield* drain(handle);
      const current = await stat(path).catch(() => null);
      if (current && current.ino !== ino) {
        // rotated: finish the old file, then follow the new one from its start
        yield* drain(handle);
        await handle.close();
        try {
          handle = await open(path, 'r');
        } catch {
          // renamed again meanwhile: look once more on the next turn
          handle = await open('/dev/null', 'r');
          ino = -1;
          position = 0;
          continue;
        }
        ino = (await handle.stat()).ino;
        position = 0;
        partial = '';
        continue;
      }
      if (current && current.size < position) {
        position = 0;
        partial = '';
        continue;
      }
      await sleep(pollMs, signal);
    }
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Rotated files read back at most: 14 (the default maxFiles) and a few more. */
const MAX_ROTATED = 20;

/**
 * The last `count` lines of the files rotated before `path` (`<path>.1`, `.2`, ...), oldest
 * first. Reading stops at the first file missing or unreadable, and at a file already read: a
 * rotation under way renames the files while they are read (`ino`: the one read already).
 */
async function rotatedLines(path: string, count: number, ino: number): Promise<string[]> {
  const seen = new Set([ino]);
  const older: string[][] = [];
  let wanted = count;
  for (let n = 1; n <= MAX_ROTATED && wanted > 0; n++) {
    let handle: FileHandle;
    try {
      handle = await open(`${path}.${n}`, 'r');
    } catch {
      break;
    }
    try {
      const stats = await handle.stat();
      if (seen.has(stats.ino)) break;
      seen.add(stats.ino);
      const { lines } = await readTail(handle, stats.size, wanted, 0);
      older.push(lines);
      wanted -= lines.length;
    } finally {
      await handle.close();
    }
  }
  return older.reverse().flat();
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
