import { runMain } from '@drover/command';
import { createDroverRouter } from './router.js';

/** Runs one `drover` command line through the full router and sets `process.exitCode`. */
export function main(argv: readonly string[]): Promise<number> {
  return runMain(createDroverRouter(), argv);
}
