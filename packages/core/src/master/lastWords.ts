import type { SerializedError } from '../ipc/messages.js';

/**
 * What a worker's stderr says of an end it could not report itself: Node and V8 write a line
 * before they abort the process (SIGABRT), and nothing reaches the master over the IPC channel.
 */

/** How Node and V8 begin the line they write before they abort the process. */
const FATAL_PREFIX = 'FATAL ERROR: ';
const RAISE_HEAP =
  "the worker's heap limit: raise it (execArgv ['--max-old-space-size=<MiB>'], drover start --node-args) or find what holds the memory";
/**
 * How Node says it could not create a thread. `node[<pid>]: pthread_create: <error>` is the thread
 * of its SIGUSR1 handler, at its start: it goes on without it, but the next thread it needs (its
 * libuv pool's) ends it with a SIGABRT and no word. `Assertion failed: (0) == (uv_thread_create…`
 * is one of its platform's threads: it aborts at once.
 */
const PTHREAD_CREATE = /^\S+\[\d+\]: pthread_create: (.+)$/;
const THREAD_ASSERTION = /\bAssertion\b.*\(uv_thread_create(_ex)?\(/;
const NO_THREAD =
  'the worker could not create a thread: the user it runs as has as many processes and threads as it may (ulimit -u), or the container as many as its pids limit (docker run --pids-limit; a master that is PID 1 without an init leaves zombies that count: docker run --init); raise the limit, or run fewer workers';

/**
 * One line of a worker's stderr, read for its last words: `fatal`, the error that ends it
 * (`FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory`, with the
 * fix); `ifAborted`, the error of a SIGABRT that may follow (a thread it went on without); null
 * for any other line.
 */
export function lastWords(line: string): { fatal: SerializedError } | { ifAborted: SerializedError } | null {
  if (line.startsWith(FATAL_PREFIX)) {
    const message = line.slice(FATAL_PREFIX.length).trim();
    return {
      fatal: {
        name: 'FATAL ERROR',
        message: message.includes('heap out of memory') ? `${message}; ${RAISE_HEAP}` : message,
      },
    };
  }
  if (THREAD_ASSERTION.test(line))
    return { fatal: { name: 'FATAL ERROR', message: `${line.replace(/^[\s#]+/, '').trim()}; ${NO_THREAD}` } };
  const failed = PTHREAD_CREATE.exec(line)?.[1]?.trim();
  return failed ? { ifAborted: { name: 'pthread_create', message: `${failed}; ${NO_THREAD}` } } : null;
}
