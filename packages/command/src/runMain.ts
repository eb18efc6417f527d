import { escapeControl } from './errors.js';
import { type CommandIO, writeQuietly } from './io.js';
import type { CommandRouter } from './router.js';

/**
 * Entry helper for bins: runs `argv` (default: `process.argv` without `node script`) and sets
 * `process.exitCode`, so Node exits once pending output is flushed instead of cutting it off
 * with `process.exit()`. Resolves to the exit code.
 *
 * A non-zero `process.exitCode` set during the run (by the handler, the Node way to fail without
 * cutting off output, or by a library it called) is kept when the run itself succeeded (the
 * handler returned nothing or 0); a non-zero exit code the run ends with wins over it.
 *
 * It also listens for write errors on `process.stdout` and `process.stderr`, which would
 * otherwise end the program with a stack trace. A reader that is gone (`EPIPE`: the pipe was
 * closed, as `tool --help | head` does; `EIO`: the terminal hung up) loses the rest of the output
 * and keeps the exit code; any other error (`ENOSPC` on `tool > /dev/full`) is said on stderr and
 * makes a successful exit code 1.
 */
export async function runMain(
  router: CommandRouter,
  argv: readonly string[] = process.argv.slice(2),
  io?: CommandIO,
): Promise<number> {
  watchProcessStreams(router.spec.bin);
  const before = process.exitCode;
  // run() reports its own errors and resolves even when its streams fail.
  const code = await router.run(argv, io);
  // a failed process stream stays failed (Node destroys it); a run on streams of its own is not touched
  const onProcessStreams =
    (io?.stdout ?? process.stdout) === process.stdout || (io?.stderr ?? process.stderr) === process.stderr;
  const ran = writeFailed && onProcessStreams && code === 0 ? 1 : code;
  const exitCode = ran === 0 ? (failureSetSince(before) ?? 0) : ran;
  process.exitCode = exitCode;
  return exitCode;
}

/**
 * The non-zero `process.exitCode` something set since it was `before` (`process.exitCode = 1`
 * in a handler), as a number; undefined when it is unchanged, 0 or unset.
 */
function failureSetSince(before: typeof process.exitCode): number | undefined {
  const now = process.exitCode;
  if (now === before || now === undefined) return undefined;
  const code = Number(now);
  return Number.isInteger(code) && code !== 0 ? code : undefined;
}

/** Write errors that mean no one reads any more: nothing is lost that anyone would see. */
const READER_GONE = new Set(['EPIPE', 'EIO', 'ECONNRESET']);

let writeFailed = false;
let watching: string | undefined;

function watchProcessStreams(bin: string): void {
  // the message names the program of the latest run
  const first = watching === undefined;
  watching = bin;
  if (!first) return;
  for (const [name, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== undefined && READER_GONE.has(error.code)) return;
      writeFailed = true;
      if (!process.exitCode) process.exitCode = 1;
      if (name === 'stdout') {
        writeQuietly(
          process.stderr,
          `${watching}: cannot write to stdout: ${escapeControl(error.message)}\n`,
        );
      }
    });
  }
}
