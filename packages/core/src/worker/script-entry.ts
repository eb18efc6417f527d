/**
 * Worker entry of `drover start <script>`: loads the user script as the main module would be.
 * A script that exports `work` (and optionally `init`) runs in the execution loop; any other
 * script simply runs, and is ready once it has loaded and its servers listen.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Work, WorkInit } from './WorkerRuntime.js';
import { WorkerRuntime } from './WorkerRuntime.js';

interface ScriptModule {
  init?: WorkInit<unknown>;
  work?: Work<unknown>;
  default?: { init?: WorkInit<unknown>; work?: Work<unknown> };
}

const runtime = WorkerRuntime.current();
const script = process.argv[2];
if (!runtime || !script) {
  process.stderr.write('drover: worker-entry runs only inside a drover worker (started by a master)\n');
  process.exit(2);
}
// The script sees the command line it would have had under plain node.
process.argv.splice(1, 2, resolve(script));

let mod: ScriptModule;
try {
  mod = (await import(pathToFileURL(resolve(script)).href)) as ScriptModule;
} catch (err) {
  runtime.failInit(err);
  throw err;
}
const work = mod.work ?? mod.default?.work;
const init = mod.init ?? mod.default?.init;
if (typeof work === 'function') {
  await runtime.runLoop(init, work);
} else {
  await runtime.runPlain(typeof init === 'function' ? init : undefined);
}
