import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, drover, ensureBuilt } from '../../cli/support/bin.js';
import { removeDir, tempDir } from '../infra/support.js';

/**
 * A worker that cannot create a thread (ulimit -u, a container's pids limit) is aborted by Node.
 * Node says so on its stderr in one of two ways, which the start failure must carry, with the fix:
 * `node[<pid>]: pthread_create: <error>` when its SIGUSR1 thread cannot start (it goes on without
 * it; the next thread it needs aborts it without a word), and a CHECK failure on
 * `uv_thread_create` when one of its platform's threads cannot. The worker below writes those
 * lines as Node does and aborts (or exits), so that the cases do not depend on the machine's load.
 */
const APP = `
export async function init() {
  const how = process.env.THREAD_CASE;
  if (how === 'assertion') {
    process.stderr.write(
      '\\n  #  drover:Worker:erofs-threads:0[' + process.pid + ']: std::unique_ptr<long unsigned int> node::WorkerThreadsTaskRunner::DelayedTaskScheduler::Start() at ../src/node_platform.cc:68\\n' +
        '  #  Assertion failed: (0) == (uv_thread_create(t.get(), start_thread, this))\\n\\n----- Native stack trace -----\\n',
    );
    process.abort();
  }
  process.stderr.write('node[' + process.pid + ']: pthread_create: Resource temporarily unavailable\\n');
  if (how === 'abort') process.abort();
  // it went on without that thread, and failed later for another reason
  process.exit(3);
}
export async function work() {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
`;

const NO_THREAD =
  'the worker could not create a thread: the user it runs as has as many processes and threads as it may (ulimit -u), or the container as many as its pids limit (docker run --pids-limit;';

let dir: string;
beforeAll(() => ensureBuilt());
beforeEach(() => {
  dir = tempDir();
  writeFileSync(join(dir, 'app.mjs'), APP);
});
afterEach(() => {
  removeDir(dir);
});

function start(threadCase: string) {
  return drover(['start', 'app.mjs', '-w', '1', '--name=erofs-threads'], {
    env: cliEnv(join(dir, 'run'), { THREAD_CASE: threadCase }),
    cwd: dir,
  });
}

describe('a worker that cannot create a thread', () => {
  it('fails to start with pthread_create as the error of its SIGABRT, and the limits to raise', async () => {
    const result = await start('abort');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `drover: worker 0 of 'erofs-threads' failed to start: pthread_create: Resource temporarily unavailable; ${NO_THREAD}`,
    );
    expect(result.stderr).toMatch(
      /worker exited pin=0 pid=\d+ code=null signal=SIGABRT reason=crash error="pthread_create: /,
    );
  });

  it("fails to start with Node's failed assertion on uv_thread_create as the error, and the limits to raise", async () => {
    const result = await start('assertion');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `drover: worker 0 of 'erofs-threads' failed to start: FATAL ERROR: Assertion failed: (0) == (uv_thread_create(t.get(), start_thread, this)); ${NO_THREAD}`,
    );
  });

  it('that went on without it and exited for another reason is not said to have lacked one', async () => {
    const result = await start('exit');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "drover: worker 0 of 'erofs-threads' failed to start: exited with code 3; the worker's own output",
    );
    expect(result.stderr).not.toContain(NO_THREAD);
  });
});
