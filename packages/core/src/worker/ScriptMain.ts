import { pathToFileURL } from 'node:url';
import type { Work, WorkerRuntime, WorkInit } from './WorkerRuntime.js';

interface ScriptExports {
  init?: WorkInit<unknown>;
  work?: Work<unknown>;
  default?: { init?: WorkInit<unknown>; work?: Work<unknown> };
}

/**
 * `drover start <script>`: the script is the worker's main module, exactly as under plain node
 * (its argv, `require.main`, CommonJS or ES module as Node decides). Once it has loaded, a
 * `work` export (and `init`) runs in the execution loop; any other script simply runs and is
 * ready once its servers listen.
 *
 * Running the script as main rather than importing it from an entry of ours keeps a CommonJS
 * script off the ES module loader: about 17 ms less CPU per worker start (bench/core, boot).
 */
export function runScriptMain(runtime: WorkerRuntime, script: string): void {
  // Called from the preload: its first tick comes once a CommonJS main module has run its body.
  process.nextTick(() => void start(runtime, script));
}

async function start(runtime: WorkerRuntime, script: string): Promise<void> {
  let exports: ScriptExports | undefined;
  try {
    // An ES module main (by extension, package type or syntax): importing it again waits for
    // its evaluation and yields the same instance.
    exports = commonJsExports() ?? ((await import(pathToFileURL(script).href)) as ScriptExports);
  } catch (err) {
    // The main module failed to load: tell the master why, rather than only "exited with 1".
    runtime.failInit(err);
    return;
  }
  const work = exports?.work ?? exports?.default?.work;
  const init = exports?.init ?? exports?.default?.init;
  // An init failure is reported and exits inside the runtime; nothing is left to handle here.
  const settled = typeof work === 'function' ? runtime.runLoop(init, work) : runtime.runPlain(callable(init));
  await settled.catch(() => {});
}

function commonJsExports(): ScriptExports | undefined {
  // A CommonJS main module is process.mainModule once it has run. `require.main` cannot say it
  // here: each module's is fixed when the module loads, and this preload loads before main. An
  // ES module main leaves mainModule unset, even when Node first tried the file as CommonJS
  // (module syntax detection) and left that attempt, empty and "loaded", in require's cache.
  const main = process.mainModule;
  return main?.loaded ? (main.exports as ScriptExports) : undefined;
}

function callable(init: unknown): WorkInit<unknown> | undefined {
  return typeof init === 'function' ? (init as WorkInit<unknown>) : undefined;
}
