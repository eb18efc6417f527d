import { colorWanted } from '@drover/core/control';
import { withoutPrefix } from '../messages.js';
import { printStatus, type StatusRequest } from './status.js';

/**
 * `drover status` without the router: prints the status and sets `process.exitCode`; a failure
 * is one line on stderr, worded and coloured as the router words it.
 */
export async function statusMain(request: StatusRequest): Promise<number> {
  const io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
  let code: number;
  try {
    code = await printStatus(request, io);
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
