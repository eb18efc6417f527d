/**
 * Preloaded into every worker (`node --require <bundle/drover-worker-bootstrap.cjs>`), before any user code:
 * sets the title, the orphan rule, the signal handlers and the server tracking (WorkerRuntime);
 * in script mode it then runs the main script's exports (ScriptMain).
 */
import { runScriptMain } from './ScriptMain.js';
import { WorkerRuntime } from './WorkerRuntime.js';

const runtime = WorkerRuntime.boot();
if (runtime?.envelope.script) runScriptMain(runtime, runtime.envelope.script);
