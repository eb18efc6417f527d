import type { CommandIO } from './io.js';
import type { CommandRouter } from './router.js';

/**
 * Entry helper for bins: runs `argv` (default: `process.argv` without `node script`) and sets
 * `process.exitCode`, so Node exits once pending output is flushed instead of cutting it off
 * with `process.exit()`. Resolves to the exit code.
 */
export async function runMain(
  router: CommandRouter,
  argv: readonly string[] = process.argv.slice(2),
  io?: CommandIO,
): Promise<number> {
  let code: number;
  try {
    code = await router.run(argv, io);
  } catch (error) {
    // run() reports its own errors; this only guards against a broken output stream.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    code = 1;
  }
  process.exitCode = code;
  return code;
}
