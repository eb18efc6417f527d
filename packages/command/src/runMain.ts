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
  // run() reports its own errors and resolves even when its streams fail.
  const code = await router.run(argv, io);
  process.exitCode = code;
  return code;
}
