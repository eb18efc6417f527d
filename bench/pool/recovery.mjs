// Time until a SIGKILLed worker's task completes on another worker: a task's first attempt
// sleeps, the worker running it is SIGKILLed, the clock runs from the kill until the submitter
// has the result of attempt 2 (backoff 0: the mechanism, exit detection, retry, dispatch, IPC;
// 'default': the pool's default backoff, 100 ms lowered by up to 20% at random, added to it).
// Runs as master and worker.
// argv: <queue: memory|bullmq> <repetitions> [backoff: 0|default]; env REDIS_URL for bullmq.
// Prints one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from '@drover/core';
import { bullmqBackend } from '@drover/core/bullmq';

const [queueKind = 'memory', repsArg = '5', backoffArg = '0'] = process.argv.slice(2);
const reps = Number(repsArg);
const runDir = process.env.BENCH_RUN_DIR ?? mkdtempSync(join(tmpdir(), 'drover-bench-recovery-'));
process.env.BENCH_RUN_DIR = runDir;

const pool = new Pool(
  {
    baseTitle: `bench-recovery-${queueKind}`,
    minWorkers: 2,
    ...(backoffArg === 'default' ? {} : { backoff: Number(backoffArg) }),
    runDir,
    logLevel: 'error',
    env: { BENCH_RUN_DIR: runDir },
    ...(queueKind === 'bullmq'
      ? {
          queue: bullmqBackend({
            connection: process.env.REDIS_URL,
            prefix: process.env.BENCH_PREFIX ?? `bench-recovery-${process.pid}`,
          }),
        }
      : {}),
  },
  { exitProcess: false },
).setTaskHandler(async (_, ctx) => {
  if (ctx.attempt === 1) await sleep(30_000, undefined, { signal: ctx.signal }).catch(() => {});
  return { attempt: ctx.attempt, pid: process.pid };
});

await pool.start();
if (pool.isMaster) {
  const times = [];
  for (let r = 0; r < reps; r++) {
    const started = new Promise((resolve) => pool.once('taskStart', resolve));
    const result = pool.submit({ r });
    const { pid, pin } = await started;
    const respawned = new Promise((resolve) =>
      pool.on('workerReady', function ready(w) {
        if (w.pin !== pin) return;
        pool.off('workerReady', ready);
        resolve();
      }),
    );
    await sleep(50);
    const killedAt = performance.now();
    process.kill(pid, 'SIGKILL');
    const value = await result;
    times.push(performance.now() - killedAt);
    if (value.attempt !== 2 || value.pid === pid)
      throw new Error(`unexpected result ${JSON.stringify(value)}`);
    await respawned;
  }
  process.stdout.write(
    `${JSON.stringify({ mode: `recovery-${queueKind}-${backoffArg}`, reps, ms: times })}\n`,
  );
  await pool.stop();
  rmSync(runDir, { recursive: true, force: true });
  process.exit(0);
}
