import { createRequire } from 'node:module';
import { resolve } from 'node:path';

/** What every worker process runs: Node's main module and its arguments. */
export interface LaunchSpec {
  /** the module Node runs as main (absolute path) */
  exec: string;
  args: string[];
}

// Self-reference through the package's exports: dist/ even when this file runs from src/.
const requireHere = createRequire(import.meta.url);

/** The preload every worker gets (`--import`): title, signals, orphan rule, server tracking. */
export function bootstrapPath(): string {
  return requireHere.resolve('@drover/core/worker-bootstrap');
}

/** Workers re-execute this very script (the `Manage` case): same entry, same arguments. */
export function selfLaunch(): LaunchSpec {
  return { exec: resolve(process.argv[1] ?? '.'), args: process.argv.slice(2) };
}

/**
 * Workers run `script` through drover's entry (the `drover start <script>` case): a script that
 * exports `work` (and `init`) runs in the execution loop, any other runs as it is.
 */
export function scriptLaunch(script: string, args: readonly string[] = []): LaunchSpec {
  return { exec: requireHere.resolve('@drover/core/worker-entry'), args: [resolve(script), ...args] };
}
