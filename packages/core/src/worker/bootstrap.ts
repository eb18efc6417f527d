/**
 * Preloaded into every worker (`node --import <this file>`), before any user code: sets the
 * title, the orphan rule, the signal handlers and the server tracking. See WorkerRuntime.
 */
import { WorkerRuntime } from './WorkerRuntime.js';

WorkerRuntime.boot();
