import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKER_CONDITION } from '../ipc/messages.js';

/** What every worker process runs: Node's main module and its arguments. */
export interface LaunchSpec {
  /** the module Node runs as main (absolute path) */
  exec: string;
  args: string[];
  /**
   * `exec` is a user script run in script mode: once it has loaded as the main module, drover
   * runs its `work`/`init` exports (see worker/ScriptMain). Otherwise `exec` runs itself
   * (`new Manage().start()` in a worker runs the worker side).
   */
  script?: boolean;
}

/**
 * Node options of a worker: preload drover's worker runtime (title, signals, orphan rule, server
 * tracking) before any user code, one CommonJS file, the cheapest thing to load at start; and
 * resolve '@drover/core' to its worker entry, which leaves out the master's side.
 */
export function bootstrapArgs(): string[] {
  bootstrap ??= bootstrapPath();
  return [
    `--conditions=${WORKER_CONDITION}`,
    bootstrap.endsWith('.cjs') ? '--require' : '--import',
    bootstrap,
  ];
}
let bootstrap: string | undefined;

/**
 * The bundle ships the preload beside itself, under a name no other file has; elsewhere (the
 * sources in tests, a bundle that inlines drover) the package's export finds it. Found once: a
 * package resolution costs 1-3 ms, and every fork needs the path.
 */
function bootstrapPath(): string {
  const sibling = fileURLToPath(new URL('./drover-worker-bootstrap.cjs', import.meta.url));
  if (existsSync(sibling)) return sibling;
  // self-reference through the package's exports: dist/ even when this file runs from src/
  // (node:module taken here, not imported: a worker would load it for nothing)
  const { createRequire } = process.getBuiltinModule('node:module') as typeof import('node:module');
  return createRequire(import.meta.url).resolve('@drover/core/worker-bootstrap');
}

/** Workers re-execute this very script (the `Manage` case): same entry, same arguments. */
export function selfLaunch(): LaunchSpec {
  return { exec: resolve(process.argv[1] ?? '.'), args: process.argv.slice(2) };
}

/**
 * Workers run `script` as their main module (the `drover start <script>` case): a script that
 * exports `work` (and `init`) runs in the execution loop, any other runs as it is.
 */
export function scriptLaunch(script: string, args: readonly string[] = []): LaunchSpec {
  return { exec: resolve(script), args: [...args], script: true };
}
