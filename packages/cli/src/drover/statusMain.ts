import { colorWanted } from '@drover/core/control';
import { withoutPrefix } from '../messages.js';
import { printStatus, type StatusRequest } from './status.js';

/**
 * `drover status` without the router: prints the status and sets `process.exitCode`; a failure
 * is one line on stderr, worded and coloured as the router words it.
 */
export async function statusMain(request: StatusRequest): Promise<number> {
  const io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
  // a status that could not be written (a full disk) must not pass for one that was
  let writeError: NodeJS.ErrnoException | null = null;
  const onWriteError = (error: NodeJS.ErrnoException) => {
    if (!READER_GONE.has(error.code ?? '')) writeError ??= error;
  };
  process.stdout.on('error', onWriteError);
  let code: number;
  try {
    code = await printStatus(request, io);
    await flushed(process.stdout);
    if (writeError) {
      io.stderr.write(`drover: cannot write the status to stdout: ${(writeError as Error).message}\n`);
      code = 1;
    }
  } catch (error) {
    const plain = withoutPrefix(error);
    const prefix = colorWanted(io.stderr, io.env) ? '\x1b[31mdrover:\x1b[39m' : 'drover:';
    io.stderr.write(`${prefix} ${plain instanceof Error ? plain.message : String(plain)}\n`);
    if (io.env.DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    code = 1;
  }
  process.exitCode = code;
  return code;
}

/** Write errors that mean the reader went away (a closed pipe, a terminal that hung up). */
const READER_GONE: ReadonlySet<string> = new Set(['EPIPE', 'EIO', 'ECONNRESET']);

/**
 * Resolves once what was written to `stream` has been handed on, or the stream failed: a file's
 * stream writes at once but reports a failure on the next tick, after an empty write's turn.
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed) return resolve();
    stream.write('', () => setImmediate(resolve));
  });
}
